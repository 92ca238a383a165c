import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextOf, pumpDeliveries } from '../leads/leads.test-support.js';
import { asAdmin, createTestApp, type TestApp } from '../test-support/app.js';
import { createTenant } from '../webhooks/webhooks.test-support.js';
import { emitCrmEvent } from './crm.outbox.js';
import { checkTarget, isPrivateAddress } from './crm.url-policy.js';
import { loopbackOnlyFetch, startReceiver, type Receiver } from './test-support/receiver.js';
import { verifyStandardWebhook } from './test-support/standard-webhooks.reference.js';

let t: TestApp;
let strict: TestApp;
let receiver: Receiver;
let tenantId: string;
const base = '/v1/admin/tenants/dest';

beforeAll(async () => {
  t = await createTestApp({ env: { CALBRIDGE_CRM_ALLOW_INSECURE_LOOPBACK_DESTINATIONS: 'true', CALBRIDGE_CRM_SECRET_OVERLAP_SECONDS: '3600' }, fetch: loopbackOnlyFetch });
  // The same database seen by an app with the production default (no loopback exception).
  strict = await createTestApp({ database: t.database });
  receiver = await startReceiver();
  tenantId = await createTenant(t, 'dest');
});
afterAll(async () => {
  await receiver.close();
  await strict.close();
  await t.close();
});

const create = (body: unknown, app = t.app) => request(app).post(`${base}/destinations`).set(asAdmin).send(body as object);

describe('destinations', () => {
  it('when a webhook destination is created, then 201 shows its whsec_ secret once; reads never show it and logs never carry it', async () => {
    const res = await create({ kind: 'webhook', url: 'https://crm.example.com/hooks/calbridge', events: ['lead.created', 'booking.created'] });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ kind: 'webhook', url: 'https://crm.example.com/hooks/calbridge', events: ['lead.created', 'booking.created'], status: 'active' });
    expect(res.body.secret).toMatch(/^whsec_/);
    const one = await request(t.app).get(`${base}/destinations/${res.body.id}`).set(asAdmin);
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('secret');
    const all = await request(t.app).get(`${base}/destinations`).set(asAdmin);
    expect(all.body.data.some((d: { id: string }) => d.id === res.body.id)).toBe(true);
    expect(JSON.stringify(all.body)).not.toContain(res.body.secret.slice(6));
    expect(t.logLines.join('\n')).not.toContain(res.body.secret.slice(6));
    const stored = await t.database.owner.query(`SELECT ciphertext FROM crm_destination_secrets WHERE destination_id = $1`, [res.body.id]);
    expect(stored.rows[0].ciphertext).not.toContain(res.body.secret.slice(6));
  });

  it('when a destination is changed and deleted, then PATCH answers the new state and DELETE 204, after which it is not found', async () => {
    const { body } = await create({ kind: 'webhook', url: 'https://crm.example.com/a' });
    const patched = await request(t.app).patch(`${base}/destinations/${body.id}`).set(asAdmin).send({ url: 'https://crm.example.com/b', events: null, status: 'disabled' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ url: 'https://crm.example.com/b', events: null, status: 'disabled', disabledReason: 'admin' });
    expect((await request(t.app).delete(`${base}/destinations/${body.id}`).set(asAdmin)).status).toBe(204);
    const gone = await request(t.app).get(`${base}/destinations/${body.id}`).set(asAdmin);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('destination_not_found');
  });

  it('when the secret is rotated, then the new one is shown once and both sign during the overlap, then only the new one', async () => {
    const { body } = await create({ kind: 'webhook', url: `${receiver.url}/rotate`, events: ['subject.erased'] });
    const rotated = await request(t.app).post(`${base}/destinations/${body.id}/secret`).set(asAdmin);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(body.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - t.clock.now().getTime()).toBe(3600_000);

    const ctx = contextOf(t, loopbackOnlyFetch);
    await t.database.db.withTenant(tenantId, (tx) => emitCrmEvent(tx, { tenantId, type: 'subject.erased', leadId: null, data: { subjectRef: 'r1' } }, { now: t.clock.now() }));
    await pumpDeliveries(t, ctx);
    const during = receiver.received.filter((r) => r.path === '/rotate').at(-1)!;
    expect((during.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    for (const secret of [body.secret, rotated.body.secret]) {
      expect(() => verifyStandardWebhook(secret, during.headers as Record<string, string>, during.body, Number(during.headers['webhook-timestamp']))).not.toThrow();
    }

    t.clock.advance(3601_000);
    await t.database.db.withTenant(tenantId, (tx) => emitCrmEvent(tx, { tenantId, type: 'subject.erased', leadId: null, data: { subjectRef: 'r2' } }, { now: t.clock.now() }));
    await pumpDeliveries(t, ctx);
    const after = receiver.received.filter((r) => r.path === '/rotate').at(-1)!;
    expect((after.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);
    expect(() => verifyStandardWebhook(rotated.body.secret, after.headers as Record<string, string>, after.body, Number(after.headers['webhook-timestamp']))).not.toThrow();
    expect(() => verifyStandardWebhook(body.secret, after.headers as Record<string, string>, after.body, Number(after.headers['webhook-timestamp']))).toThrow();
  });

  it('when a HubSpot destination is created, then 201 without any secret in the answer', async () => {
    const res = await create({ kind: 'hubspot', accessToken: 'pat-na1-00000000-0000-0000-0000-000000000000', url: 'https://api.hubapi.example' });
    expect(res.status).toBe(201);
    expect(res.body).not.toHaveProperty('secret');
    expect(JSON.stringify(res.body)).not.toContain('pat-na1');
  });
});

describe('destination and delivery refusals', () => {
  it('when the body is not a destination, then 400 invalid_request', async () => {
    const res = await create({ kind: 'fax', url: 'https://crm.example.com' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
  });

  it('when the URL is plain http to the internet, then 400 destination_url_insecure', async () => {
    const res = await create({ kind: 'webhook', url: 'http://crm.example.com/hook' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('destination_url_insecure');
  });

  it('when the URL carries credentials, then 400 destination_url_insecure', async () => {
    const res = await create({ kind: 'webhook', url: 'https://user:pass@crm.example.com/hook' });
    expect(res.body.code).toBe('destination_url_insecure');
  });

  it('when http to loopback is asked of a server without the loopback exception, then 400 destination_url_insecure', async () => {
    const res = await create({ kind: 'webhook', url: `${receiver.url}/x` }, strict.app);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('destination_url_insecure');
  });

  it('when the URL points into a private or internal network (server without the loopback exception), then 400 destination_url_private', async () => {
    for (const url of ['https://10.1.2.3/hook', 'https://169.254.169.254/latest', 'https://[::1]/x', 'https://[fd00::1]/x', 'https://localhost/x', 'https://db.internal/x', 'https://[::ffff:192.168.0.1]/x']) {
      const res = await create({ kind: 'webhook', url }, strict.app);
      expect(res.status, url).toBe(400);
      expect(res.body.code, url).toBe('destination_url_private');
    }
  });

  it('when a host name resolves to a private address at delivery time, then the attempt is refused before any request', async () => {
    expect(await checkTarget('https://rebind.example.com/x', { allowInsecureLoopback: false }, async () => ['10.0.0.7'])).toBe('private_address');
    expect(await checkTarget('https://crm.example.com/x', { allowInsecureLoopback: false }, async () => ['93.184.215.15'])).toBeNull();
    expect(isPrivateAddress('100.64.1.1')).toBe(true);
    expect(isPrivateAddress('8.8.8.8')).toBe(false);
  });

  it('when a PATCH has nothing to change, then 400 invalid_request', async () => {
    const { body } = await create({ kind: 'webhook', url: 'https://crm.example.com/p' });
    const res = await request(t.app).patch(`${base}/destinations/${body.id}`).set(asAdmin).send({});
    expect(res.body.code).toBe('invalid_request');
  });

  it('when the destination id is unknown, then 404 destination_not_found for read, change, delete and rotation', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const r of [
      request(t.app).get(`${base}/destinations/${id}`),
      request(t.app).patch(`${base}/destinations/${id}`).send({ status: 'active' }),
      request(t.app).delete(`${base}/destinations/${id}`),
      request(t.app).post(`${base}/destinations/${id}/secret`),
    ]) {
      const res = await r.set(asAdmin);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('destination_not_found');
    }
  });

  it('when the secret of a HubSpot destination is to be rotated, then 409 destination_not_webhook', async () => {
    const { body } = await create({ kind: 'hubspot', accessToken: 'pat-na1-11111111-1111-1111-1111-111111111111', url: 'https://api.hubapi.example' });
    const res = await request(t.app).post(`${base}/destinations/${body.id}/secret`).set(asAdmin);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('destination_not_webhook');
  });

  it('when a delivery id is unknown, then 404 delivery_not_found', async () => {
    const res = await request(t.app).post(`${base}/deliveries/00000000-0000-4000-8000-000000000000/replay`).set(asAdmin);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('delivery_not_found');
  });

  it('when a delivery of a disabled destination is replayed, then 409 destination_disabled', async () => {
    const { body } = await create({ kind: 'webhook', url: `${receiver.url}/disabled`, events: ['subject.erased'] });
    await t.database.db.withTenant(tenantId, (tx) => emitCrmEvent(tx, { tenantId, type: 'subject.erased', leadId: null, data: {} }, { now: t.clock.now() }));
    await pumpDeliveries(t, contextOf(t, loopbackOnlyFetch));
    await request(t.app).patch(`${base}/destinations/${body.id}`).set(asAdmin).send({ status: 'disabled' });
    const list = await request(t.app).get(`${base}/deliveries?destinationId=${body.id}`).set(asAdmin);
    expect(list.body.data[0].status).toBe('delivered');
    const res = await request(t.app).post(`${base}/deliveries/${list.body.data[0].id}/replay`).set(asAdmin);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('destination_disabled');
  });

  it('when the deliveries query is malformed, then 400 invalid_request', async () => {
    const res = await request(t.app).get(`${base}/deliveries?status=lost`).set(asAdmin);
    expect(res.body.code).toBe('invalid_request');
  });

  it('when a token scoped to another tenant asks, then 403 forbidden', async () => {
    await createTenant(t, 'other');
    const token = await request(t.app).post('/v1/admin/tokens').set(asAdmin).send({ tenant: 'other', label: 'other only' });
    expect(token.status).toBe(201);
    const res = await request(t.app).get(`${base}/destinations`).set('Authorization', `Bearer ${token.body.token}`);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });
});
