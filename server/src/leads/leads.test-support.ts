import { createContext } from '../app.js';
import type { AppContext } from '../context.js';
import { createCrmDelivery, type DeliveryDeps } from '../crm/crm.delivery.js';
import type { JobHandler } from '../jobs/queue.js';
import { capturingLogger, type TestApp } from '../test-support/app.js';
import { leadsCrmJobHandlers } from './leads.jobs.js';

// Helpers of the lead and CRM tests (not a test file itself).

/** The app's context for calling services and job handlers directly, with this fetch. */
export function contextOf(t: TestApp, fetch: typeof globalThis.fetch): AppContext {
  return createContext({ config: t.config, db: t.database.db, fetch, clock: t.clock, logger: capturingLogger().logger });
}

/**
 * Runs queued jobs of these tasks in the test's process, oldest first, until
 * none is left (a job is taken off the queue before it runs, so a handler
 * that queues the same job key again queues a new one). Ignores run_at: time
 * is the test's manual clock, which the handlers read themselves.
 */
export async function runJobs(t: TestApp, handlers: Record<string, JobHandler>, tasks: string[], max = 10_000): Promise<number> {
  let n = 0;
  for (;;) {
    const { rows } = await t.database.owner.query<{ id: string; identifier: string; payload: Record<string, unknown> }>(
      `DELETE FROM graphile_worker._private_jobs j USING graphile_worker._private_tasks k
        WHERE k.id = j.task_id AND k.identifier = ANY ($1::text[]) AND j.locked_at IS NULL
          AND j.id = (SELECT min(j2.id) FROM graphile_worker._private_jobs j2 JOIN graphile_worker._private_tasks k2 ON k2.id = j2.task_id
                       WHERE k2.identifier = ANY ($1::text[]) AND j2.locked_at IS NULL)
        RETURNING j.id::text, k.identifier, j.payload`,
      [tasks],
    );
    const job = rows[0];
    if (!job) return n;
    await handlers[job.identifier]!(job.payload, { id: job.id, attempts: 1, maxAttempts: 5 });
    if (++n >= max) throw new Error(`more than ${max} jobs: a loop?`);
  }
}

/**
 * Lets time pass until no message is pending (or `maxSteps`): runs the
 * delivery jobs, then moves the manual clock to the next retry and sweeps.
 */
export async function pumpDeliveries(t: TestApp, ctx: AppContext, deps: DeliveryDeps = {}, maxSteps = 200): Promise<void> {
  const handlers = leadsCrmJobHandlers(ctx, deps);
  const delivery = createCrmDelivery(ctx, deps);
  for (let step = 0; step < maxSteps; step++) {
    await runJobs(t, handlers, ['crm.deliver']);
    const { rows } = await t.database.owner.query<{ next: Date | null; leased: Date | null }>(
      `SELECT min(m.next_attempt_at) AS next, max(m.lease_until) AS leased FROM crm_messages m JOIN crm_destinations d ON d.tenant_id = m.tenant_id AND d.id = m.destination_id
        WHERE m.status = 'pending' AND d.status = 'active'
          AND NOT EXISTS (SELECT 1 FROM crm_messages e WHERE e.destination_id = m.destination_id AND e.order_key = m.order_key AND e.status = 'pending' AND e.seq < m.seq)`,
    );
    const next = rows[0]?.next;
    const leased = rows[0]?.leased;
    if (!next) return;
    if (next > t.clock.now()) t.clock.set(next);
    else if (leased && leased > t.clock.now()) t.clock.set(leased);
    const tenants = await t.database.owner.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM crm_messages WHERE status = 'pending'`);
    for (const r of tenants.rows) await delivery.sweepTenant(r.tenant_id);
  }
  const left = await t.database.owner.query(`SELECT event_type, status, attempts, next_attempt_at, lease_until, order_key, seq FROM crm_messages WHERE status = 'pending' ORDER BY seq`);
  throw new Error(`messages still pending after the steps allowed (clock ${t.clock.now().toISOString()}): ${JSON.stringify(left.rows)}`);
}
