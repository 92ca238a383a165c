// The real server for bench:config: createApp with its change feed (so the config cache is
// on, as in production), on a real HTTP listener in a process of its own. Tells the parent
// its port over IPC.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { realApp } from '../support/real-app.js';

const { app, close } = await realApp();
const server = createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => void close().then(() => process.exit(0))));
