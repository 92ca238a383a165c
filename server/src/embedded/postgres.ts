import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * The embedded default database: PostgreSQL compiled to WASM (PGlite),
 * persisted under the data directory and served on a loopback socket so the
 * server talks to it with the same `pg` client and SQL as to a real server.
 * It is one backend behind a multiplexer: connections queue behind an open
 * transaction, so the pool is kept small and settings are per transaction.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = join(dataDir, 'pgdata');
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 8 });
  let port = 0;
  server.addEventListener('listening', (e) => {
    port = (e as CustomEvent<{ port: number }>).detail.port;
  });
  await server.start();
  if (!port) throw new Error('embedded PostgreSQL did not report its port');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
