import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-support/app.js';
import { createTenant } from '../webhooks/webhooks.test-support.js';
import { emitCrmEvent } from './crm.outbox.js';

let t: TestApp;
let tenantId: string;

beforeAll(async () => {
  t = await createTestApp();
  tenantId = await createTenant(t, 'outbox');
});
afterAll(() => t.close());

async function addDestination(events: string[] | null, status = 'active'): Promise<string> {
  return t.database.db.withTenant(tenantId, async (tx) => {
    const r = await tx.query<{ id: string }>(
      `INSERT INTO crm_destinations (tenant_id, kind, url, events, status, created_at, updated_at) VALUES ($1, 'webhook', 'https://crm.test/hook', $2, $3, now(), now()) RETURNING id`,
      [tenantId, events, status],
    );
    return r.rows[0]!.id;
  });
}

describe('emitCrmEvent', () => {
  it('when a tenant has matching, non-matching and disabled destinations, then only the matching active ones get a message and a delivery job', async () => {
    const all = await addDestination(null);
    const leadsOnly = await addDestination(['lead.created']);
    await addDestination(null, 'disabled');
    const leadId = '00000000-0000-4000-8000-000000000001';

    await t.database.db.withTenant(tenantId, (tx) => emitCrmEvent(tx, { tenantId, type: 'subject.erased', leadId, data: { leadId } }));
    await t.database.db.withTenant(tenantId, (tx) => emitCrmEvent(tx, { tenantId, type: 'lead.created', leadId, data: { leadId } }, { dedupeKey: 'k1' }));
    await t.database.db.withTenant(tenantId, (tx) => emitCrmEvent(tx, { tenantId, type: 'lead.created', leadId, data: { leadId } }, { dedupeKey: 'k1' }));

    const rows = (await t.database.owner.query(`SELECT destination_id, event_type, payload, order_key FROM crm_messages ORDER BY seq`)).rows;
    expect(rows.map((r) => [r.destination_id, r.event_type])).toEqual([
      [all, 'subject.erased'],
      [all, 'lead.created'],
      [leadsOnly, 'lead.created'],
    ]);
    expect(rows[0].payload).toMatchObject({ type: 'subject.erased', data: { leadId } });
    expect(rows[0].order_key).toBe(leadId);
    const jobs = await t.database.owner.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = 'crm.deliver'`);
    expect(jobs.rows[0].n).toBe(3);
  });
});
