// `npm start`: installs what is missing, builds, then runs the server, the
// widget demo and the Cal.com sandbox (see launch.mjs). With no DATABASE_URL
// the server keeps its data in an embedded PostgreSQL under .calbridge/.
import { ensureDependencies, log, run } from './lib.mjs';

const pnpm = ensureDependencies();
log('building');
run(pnpm, ['-r', '--workspace-concurrency=1', 'build']);
await import('./launch.mjs');
