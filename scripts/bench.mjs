// `npm run bench:<name>`: installs what is missing, then runs bench/<name>/run.mjs
// (plain Node) or bench/<name>/run.ts (through tsx, with the workspace's
// `source` condition so it runs the TypeScript sources as they are).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDependencies, log, root, run } from './lib.mjs';

const name = process.argv[2];
if (!name || !/^[a-z0-9-]+$/.test(name)) {
  log('usage: node scripts/bench.mjs <name>   (a folder under bench/)');
  process.exit(2);
}
const dir = join(root, 'bench', name);
const mjs = join(dir, 'run.mjs');
const ts = join(dir, 'run.ts');
if (!existsSync(mjs) && !existsSync(ts)) {
  log(`no benchmark named ${name}: expected bench/${name}/run.mjs or run.ts`);
  process.exit(2);
}
const pnpm = ensureDependencies();
if (existsSync(mjs)) run(process.execPath, [mjs, ...process.argv.slice(3)]);
else run(pnpm, ['exec', 'tsx', '--conditions=source', ts, ...process.argv.slice(3)]);
