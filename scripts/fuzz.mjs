// `npm run fuzz`: the property-based fuzz suite of every public and admin route
// (server/src/http/fuzz.property.test.ts) with many more runs than `npm test` gives it.
// CALBRIDGE_FUZZ_RUNS (default 5000) and CALBRIDGE_FUZZ_SEED (default: a new one, printed) choose the run.
import { spawnSync } from 'node:child_process';
import { root, log, ensureDependencies, startThrowawayPostgres } from './lib.mjs';

const pnpm = ensureDependencies();
const pg = await startThrowawayPostgres();
const runs = process.env.CALBRIDGE_FUZZ_RUNS || '5000';
const seed = process.env.CALBRIDGE_FUZZ_SEED || String(Math.floor(Math.random() * 2 ** 31));
log(`fuzzing: ${runs} runs, seed ${seed} (repeat with CALBRIDGE_FUZZ_SEED=${seed})`);
let status = 1;
try {
  const r = spawnSync(pnpm, ['exec', 'vitest', 'run', 'server/src/http/fuzz.property.test.ts'], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, CALBRIDGE_TEST_PG_URL: pg.url, CALBRIDGE_TEST_PGCTL: JSON.stringify(pg.pgCtl), CALBRIDGE_FUZZ_RUNS: runs, CALBRIDGE_FUZZ_SEED: seed },
  });
  status = r.status ?? 1;
} finally {
  pg.stop();
}
process.exit(status);
