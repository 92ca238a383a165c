import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAdmin, capturingLogger, createTestApp, type TestApp } from '../test-support/app.js';
import { enqueue, startWorker, type Worker } from './queue.js';

let t: TestApp;
let tenantId: string;
let worker: Worker | undefined;
beforeAll(async () => {
  t = await createTestApp();
  tenantId = (await request(t.app).post('/v1/admin/tenants').set(asAdmin).send({ slug: 'jobs', name: 'Jobs', allowedOrigins: [] })).body.id;
});
afterAll(async () => {
  await worker?.stop();
  await t.close();
});

async function pendingJobs(task: string): Promise<number> {
  const r = await t.database.owner.query<{ n: number }>('SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1', [task]);
  return r.rows[0]!.n;
}

describe('job queue', () => {
  it('when a job is added in a tenant transaction that rolls back, then no job exists', async () => {
    await expect(
      t.database.db.withTenant(tenantId, async (tx) => {
        await enqueue(tx, 'test.rollback', { tenantId });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await pendingJobs('test.rollback')).toBe(0);
  });

  it('when a job is added in a committed tenant transaction, then a worker runs it once with its payload', async () => {
    const seen: unknown[] = [];
    let done!: () => void;
    const ran = new Promise<void>((ok) => (done = ok));
    await t.database.db.withTenant(tenantId, (tx) => enqueue(tx, 'test.commit', { tenantId, n: 1 }));
    expect(await pendingJobs('test.commit')).toBe(1);
    worker = await startWorker({
      connectionString: t.database.ownerUrl,
      logger: capturingLogger().logger,
      pollIntervalMs: 100,
      handlers: {
        'test.commit': async (payload) => {
          seen.push(payload);
          done();
        },
      },
    });
    await ran;
    expect(seen).toEqual([{ tenantId, n: 1 }]);
    await expect.poll(() => pendingJobs('test.commit')).toBe(0);
  });
});
