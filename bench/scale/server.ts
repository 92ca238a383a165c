// The real server for bench:scale: createApp with its change feed, on a real HTTP listener in a
// process of its own, as a deployment runs it (the bench's client, its seeding and its garbage
// are the parent's, not this process's). Tells the parent its port over IPC, and on
// `{ take: true }` answers `{ appMs, gcMs }`: the milliseconds its requests took from arrival to
// the response's end, and its garbage-collection pauses, since the last ask.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { realApp } from '../support/real-app.js';

const { app, close } = await realApp();

let appMs = 0;
let gcMs: number[] = [];
new PerformanceObserver((list) => gcMs.push(...list.getEntries().map((e) => e.duration))).observe({ entryTypes: ['gc'] });
const server = createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  res.on('finish', () => {
    appMs += Number(process.hrtime.bigint() - t0) / 1e6;
  });
  app(req, res);
});
server.keepAliveTimeout = 65_000;
process.on('message', (m) => {
  if ((m as { take?: boolean }).take) {
    process.send?.({ appMs, gcMs });
    appMs = 0;
    gcMs = [];
  }
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => void close().then(() => process.exit(0))));
