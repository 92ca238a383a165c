// `npm run lint`: type-checked ESLint (with the Lit rules), the architecture rules
// (dependency-cruiser) and unused files, exports and dependencies (knip), each with zero
// warnings allowed. `npm test` runs it after the typecheck.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDependencies, log, root } from './lib.mjs';

const pnpm = ensureDependencies();
const dirs = ['server/src', 'shared/src', 'widget/src', 'test', 'bench', 'admin/src', 'dev-idp/src'].filter((p) => existsSync(join(root, p)));
const steps = [
  ['eslint', ['exec', 'eslint', '--max-warnings', '0', '.']],
  ['dependency-cruiser', ['exec', 'depcruise', ...dirs, '--output-type', 'err']],
  ['knip', ['exec', 'knip', '--no-progress']],
];
const failed = [];
for (const [name, args] of steps) {
  log(`lint: ${name}`);
  const r = spawnSync(pnpm, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed.push(name);
}
if (failed.length) {
  log(`lint failed: ${failed.join(', ')}`);
  process.exit(1);
}
log('lint: clean');
