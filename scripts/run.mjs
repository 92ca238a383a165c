// `npm run build` / `npm run typecheck`: the same across packages, after installing.
import { ensureDependencies, run } from './lib.mjs';

const pnpm = ensureDependencies();
run(pnpm, ['-r', '--workspace-concurrency=1', process.argv[2]]);
