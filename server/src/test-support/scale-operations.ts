import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../app.js';
import type { AppContext } from '../context.js';
import { applyBookingEvent } from '../bookings/bookings.projection.js';
import { findBooking } from '../bookings/bookings.repository.js';
import { createCalcom } from '../calcom/calcom.js';
import { findConnection } from '../calcom/connections.repository.js';
import { RECONCILED_TRIGGER } from '../calcom/reconciliation.service.js';
import { createGdprService } from '../gdpr/gdpr.service.js';
import { createTenantsService } from '../tenants/tenants.service.js';
import { scaleBookingUid, scaleEmail, scaleSlug } from './scale-seed.js';

/**
 * The reads and jobs whose cost must not grow with the database (issue 16), each as the
 * application does it: admin API calls over HTTP to the real app, and the jobs through
 * their services. Shared by `npm run bench:scale` (which times them) and the plan test
 * (which EXPLAINs every statement they send).
 */
export interface ScaleTarget {
  /** The tenant's number in the seed (scale-seed.ts) and its id. */
  n: number;
  id: string;
  /** Bookings per tenant seeded so far. */
  bookings: number;
}

interface ScaleOperation {
  name: string;
  /** Runs once for `target`; `k` varies the person or booking between runs. Throws on an unexpected answer. */
  run(target: ScaleTarget, k: number): Promise<void>;
}

export interface ScaleHarness {
  operations: ScaleOperation[];
  close(): Promise<void>;
}

/**
 * `server`: the origin of an app already running on `ctx`'s database (bench:scale runs it in a
 * process of its own); without it the harness serves `createApp(ctx)` itself.
 */
export async function startScaleHarness(ctx: AppContext, adminToken: string, server?: string): Promise<ScaleHarness> {
  let own: Server | undefined;
  if (!server) {
    own = createServer(createApp(ctx));
    await new Promise<void>((ok) => own!.listen(0, '127.0.0.1', ok));
  }
  const base = server ?? `http://127.0.0.1:${(own!.address() as AddressInfo).port}`;
  const tenants = createTenantsService(ctx);
  const gdpr = createGdprService(ctx, { calcom: createCalcom(ctx, tenants) });

  async function call(method: string, path: string, expected = 200): Promise<unknown> {
    const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${adminToken}` } });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as unknown) : null;
  }
  const admin = (t: ScaleTarget) => `/v1/admin/tenants/${scaleSlug(t.n)}`;
  /** A booking index spread over the tenant's bookings, different for each k. */
  const pick = (t: ScaleTarget, k: number) => (k * 7919) % t.bookings;
  /** Erasure takes people from the top of the range, away from the ones the reads ask for. */
  const erasable = (t: ScaleTarget, k: number) => t.bookings - 2 - 2 * (k % Math.floor(t.bookings / 4));

  const operations: ScaleOperation[] = [
    // The floor: one row by primary key through the same HTTP, auth and tenant gate. What the other
    // reads take beyond it is theirs; on a busy machine its own tail is the machine's.
    { name: 'tenant: one (the HTTP floor)', run: (t) => call('GET', admin(t)).then(() => undefined) },
    { name: 'bookings: list', run: (t) => call('GET', `${admin(t)}/bookings?limit=50`).then(() => undefined) },
    { name: 'bookings: status', run: (t) => call('GET', `${admin(t)}/bookings?status=cancelled&limit=50`).then(() => undefined) },
    {
      name: 'bookings: from/to',
      run: async (t, k) => {
        // Seeded bookings start 300 days ago, one every 7 hours: a week's window somewhere in them.
        const from = new Date(Date.now() - 300 * 86_400_000 + pick(t, k) * 7 * 3_600_000);
        const to = new Date(from.getTime() + 7 * 86_400_000);
        await call('GET', `${admin(t)}/bookings?from=${from.toISOString()}&to=${to.toISOString()}&limit=50`);
      },
    },
    { name: 'bookings: email', run: (t, k) => call('GET', `${admin(t)}/bookings?email=${encodeURIComponent(scaleEmail(t.n, pick(t, k)))}`).then(() => undefined) },
    {
      // Pages of 5, so that every size has a second page (10k is 10 bookings a tenant): a first page
      // without a cursor would time one request at the small size and two at the large.
      name: 'bookings: next page',
      run: async (t) => {
        const first = (await call('GET', `${admin(t)}/bookings?limit=5`)) as { nextCursor: string | null };
        if (!first.nextCursor) throw new Error(`bookings: next page: no second page for ${t.bookings} bookings`);
        await call('GET', `${admin(t)}/bookings?limit=5&cursor=${first.nextCursor}`);
      },
    },
    { name: 'booking: one', run: (t, k) => call('GET', `${admin(t)}/bookings/${scaleBookingUid(t.n, pick(t, k))}`).then(() => undefined) },
    { name: 'leads: by score', run: (t) => call('GET', `${admin(t)}/leads?sort=-score&limit=50`).then(() => undefined) },
    { name: 'webhook delivery log', run: (t) => call('GET', `${admin(t)}/webhook-deliveries?limit=50`).then(() => undefined) },
    { name: 'CRM delivery log', run: (t) => call('GET', `${admin(t)}/deliveries?limit=50`).then(() => undefined) },
    { name: 'GDPR export', run: (t, k) => call('GET', `${admin(t)}/subjects/${encodeURIComponent(scaleEmail(t.n, pick(t, k)))}/export`).then(() => undefined) },
    { name: 'GDPR erasure', run: (t, k) => call('DELETE', `${admin(t)}/subjects/${encodeURIComponent(scaleEmail(t.n, erasable(t, k)))}`).then(() => undefined) },
    {
      // The database side of reconciling one tenant: its connection, then one page of
      // bookings Cal.com reports changed, each compared with ours and applied
      // (calcom/reconciliation.service.ts reconcileTenant). Cal.com's side is not volume-bound.
      name: 'reconciliation (one tenant, 10 changed)',
      run: async (t, k) => {
        await ctx.db.withTenant(t.id, (tx) => findConnection(tx, t.id));
        for (let j = 0; j < 10; j++) {
          const uid = scaleBookingUid(t.n, (pick(t, k) + j) % t.bookings);
          await ctx.db.withTenant(t.id, async (tx) => {
            const ours = await findBooking(tx, uid);
            if (!ours) throw new Error(`booking ${uid} missing`);
            await applyBookingEvent(
              tx,
              t.id,
              {
                source: 'reconciliation',
                trigger: RECONCILED_TRIGGER,
                occurredAt: ctx.clock.now(),
                inboxId: null,
                uid,
                status: ours.status === 'cancelled' ? 'cancelled' : 'accepted',
                fields: {
                  calcomId: ours.calcomId,
                  title: ours.title,
                  startTime: ours.startTime,
                  endTime: ours.endTime,
                  eventTypeId: ours.eventTypeId,
                  attendees: ours.attendees,
                  organizer: ours.organizer,
                  metadata: ours.metadata,
                  rescheduledFromUid: null,
                  rescheduledToUid: null,
                  cancellationReason: null,
                },
              },
              ctx.clock.now(),
            );
          });
        }
      },
    },
    { name: 'retention sweep (one tenant)', run: (t) => gdpr.runRetention(t.id).then(() => undefined) },
  ];

  return {
    operations,
    close: () =>
      new Promise<void>((ok) => {
        if (!own) return ok();
        own.close(() => ok());
        own.closeAllConnections();
      }),
  };
}
