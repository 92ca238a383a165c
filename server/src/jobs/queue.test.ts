import { Registry } from 'prom-client';
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

  it('when a job fails, then the failure is logged at warn and counted, and a due job nobody takes shows as the oldest runnable age', async () => {
    const registry = new Registry();
    const { logger, lines } = capturingLogger();
    let failed!: () => void;
    const attempted = new Promise<void>((ok) => (failed = ok));
    await t.database.db.withTenant(tenantId, (tx) => enqueue(tx, 'test.fails', { tenantId }, { maxAttempts: 1 }));
    // A due job of a task no worker here knows: it waits, as it would on a stalled queue.
    await t.database.db.withTenant(tenantId, (tx) => enqueue(tx, 'test.nobody', { tenantId }, { runAt: new Date(Date.now() - 120_000) }));
    const failing = await startWorker({
      connectionString: t.database.ownerUrl,
      logger,
      registry,
      pollIntervalMs: 100,
      handlers: {
        'test.fails': async () => {
          failed();
          throw new Error('receiver said no');
        },
      },
    });
    try {
      await attempted;
      const outcomes = async () =>
        (await registry.getSingleMetric('calbridge_jobs_total')!.get()).values.filter((v) => v.labels.task === 'test.fails').map((v) => `${v.labels.outcome}:${v.value}`);
      await expect.poll(outcomes).toEqual(['error:1', 'failed:1']);
      const text = await registry.metrics();
      const age = Number(/^calbridge_jobs_oldest_runnable_age_seconds (\S+)$/m.exec(text)?.[1]);
      expect(age).toBeGreaterThanOrEqual(100);
      expect(text).toMatch(/^calbridge_jobs_runnable [1-9]/m);
      const logged = lines.map((l) => JSON.parse(l) as { level: number; task?: string; msg: string });
      expect(logged.filter((l) => l.task === 'test.fails').map((l) => l.level)).toEqual(expect.arrayContaining([40, 50]));
    } finally {
      await failing.stop();
    }
  });
  it('when the database does not answer while a failed attempt is being recorded, then the server keeps running and the attempt is recorded once it answers', async () => {
    // The worker records an attempt's outcome without awaiting it; a deadline hit there was an
    // unhandled rejection that ended the whole server. Here the job's row is held locked by
    // another session while the attempt fails, so recording it hits lock_timeout first.
    const { logger } = capturingLogger();
    const holder = await t.database.owner.connect();
    let jobId = '';
    let failedOnce!: () => void;
    const attempted = new Promise<void>((ok) => (failedOnce = ok));
    await t.database.db.withTenant(tenantId, (tx) => enqueue(tx, 'test.unrecorded', { tenantId }, { maxAttempts: 3 }));
    const w = await startWorker({
      connectionString: t.database.ownerUrl,
      logger,
      pollIntervalMs: 100,
      timeouts: { acquireMs: 1_000, statementMs: 2_000, lockMs: 300, idleInTransactionMs: 15_000 },
      handlers: {
        'test.unrecorded': async (_payload, job) => {
          if (job.attempts > 1) return;
          jobId = job.id;
          await holder.query('BEGIN');
          await holder.query('SELECT 1 FROM graphile_worker._private_jobs WHERE id = $1 FOR UPDATE', [job.id]);
          failedOnce();
          throw new Error('receiver said no');
        },
      },
    });
    const waitingForTheRow = async () =>
      (await t.database.owner.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")).rows[0]!.n;
    try {
      await attempted;
      // The recording waits for the row, then gives up at lock_timeout: the moment that used to end the process.
      await expect.poll(waitingForTheRow, { interval: 20 }).toBeGreaterThan(0);
      await expect.poll(waitingForTheRow).toBe(0);
      await holder.query('COMMIT');
      // Retried by graphile-worker (it backs off a few seconds), then the job runs again and succeeds.
      await expect
        .poll(async () => (await t.database.owner.query<{ n: number }>('SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE id = $1', [jobId])).rows[0]!.n, { timeout: 30_000, interval: 200 })
        .toBe(0);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
      await w.stop();
    }
  }, 60_000);
});
