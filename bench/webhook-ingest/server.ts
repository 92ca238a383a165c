// The real server for the benchmark: createApp on a real HTTP listener, run in
// its own process so the load generator does not share its event loop. Tells
// the parent its port over IPC.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../server/src/app.js';
import { systemClock } from '../../server/src/clock.js';
import { parseConfig, readEnvironment } from '../../server/src/config.js';
import { createDb } from '../../server/src/db/db.js';
import { createLogger } from '../../server/src/logger.js';

const config = parseConfig(readEnvironment());
const logger = createLogger({ level: config.logLevel });
const db = createDb({ connectionString: config.databaseUrl!, max: config.databasePoolMax });
const app = createApp({ config, db, fetch: globalThis.fetch, clock: systemClock, logger });
const server = createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => void db.close().then(() => process.exit(0))));

// BENCH_CPU_PROFILE=dir: the parent brackets the timed intake phase with 'profile-start' and
// 'profile-stop', so the profile holds that phase only (no start-up, warm-up or idle ceiling phase).
const profileDir = process.env.BENCH_CPU_PROFILE;
if (profileDir) {
  const session = new Session();
  session.connect();
  process.on('message', (m: { profile?: 'start' | 'stop' }) => {
    void (async () => {
      if (m.profile === 'start') {
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      } else if (m.profile === 'stop') {
        const { profile } = await session.post('Profiler.stop');
        mkdirSync(profileDir, { recursive: true });
        const file = join(profileDir, `intake-${Date.now()}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        process.send?.({ profiled: file });
        return;
      } else return;
      process.send?.({ profiling: true });
    })();
  });
}
