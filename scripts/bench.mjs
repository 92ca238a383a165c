// `npm run bench:<name>`: installs what is missing, then runs bench/<name>/run.mjs
// (plain Node) or bench/<name>/run.ts (through tsx, with the workspace's
// `source` condition so it runs the TypeScript sources as they are).
// On a clean clone it also does what the bench needs first: a bench that starts the product
// from its built packages (its source says "needs built packages") gets a fresh build of the
// code as it is now, and one that drives a browser (`launchChromium`) gets Debian's Chromium.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureChromium, ensureDependencies, log, root, run } from './lib.mjs';

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
const source = readFileSync(existsSync(mjs) ? mjs : ts, 'utf8');
if (source.includes('needs built packages')) {
  log(`building the packages bench:${name} starts`);
  run(pnpm, ['-r', '--workspace-concurrency=1', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
if (source.includes('launchChromium')) process.env.CHROMIUM_PATH = ensureChromium();
if (existsSync(mjs)) run(process.execPath, [mjs, ...process.argv.slice(3)]);
else run(pnpm, ['exec', 'tsx', '--conditions=source', ts, ...process.argv.slice(3)]);
