import type { Tx } from '../db/db.js';
import { lookup } from 'node:dns/promises';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { enqueue } from '../jobs/queue.js';
import { createTenantsService } from '../tenants/tenants.service.js';
import { sendToHubspot, type HubspotContactStore } from './crm.hubspot.js';
import { createPinnedFetch, type OutboundFetch } from './crm.pinned-fetch.js';
import { crmMetrics } from './crm.metrics.js';
import { CRM_DELIVER_TASK, deliverJobKey } from './crm.outbox.js';
import * as repo from './crm.repository.js';
import { failed, type SendResult } from './crm.send.js';
import { checkTarget, type ResolveHost } from './crm.url-policy.js';
import { sendWebhook } from './crm.webhook-sender.js';

/**
 * Delivery of the outbox: at least once, one message at a time per lead and
 * destination, in the order written. A message is leased for one attempt
 * (committed before the request goes out), so a worker that dies mid-request
 * loses nothing: its lease runs out and the sweep hands the message to
 * another worker (the every-minute cron, and a one-off sweep each worker
 * schedules at start for when every lease of a dead predecessor has expired).
 * Failures are retried with exponential backoff and jitter for about a day
 * (Retry-After is honoured), 410 disables the destination, and a message
 * that fails its last attempt is dead-lettered; the next one of its lead
 * then goes.
 */

/** Seconds before attempt 2, 3, …: about 23.9 hours in all, before jitter. */
export const RETRY_SCHEDULE_SECONDS = [5, 30, 120, 300, 900, 1800, 3600, 7200, 10_800, 14_400, 18_000, 28_800] as const;
export const MAX_ATTEMPTS = RETRY_SCHEDULE_SECONDS.length + 1;
/** Jitter: each delay is scaled by a factor in [1 - JITTER, 1 + JITTER). */
const JITTER = 0.2;
/** Retry-After beyond this is not honoured in full (the message would outlive its day). */
const MAX_DELAY_SECONDS = 86_400;

/** The cron task that hands due, unleased messages to workers (graphile crontab names cannot contain dots). */
export const CRM_SWEEP_TASK = 'crm_sweep';
export const CRM_SWEEP_CRONTAB = `* * * * * ${CRM_SWEEP_TASK}`;

/**
 * Added to the request time limit for the lease: the transaction that records
 * the outcome, and clock skew between instances. An attempt is bounded by one
 * deadline (`timeoutMs`, covering DNS and every request of the attempt), so
 * a lease this long outlives any live attempt.
 */
export const LEASE_MARGIN_MS = 15_000;

/** How long one attempt holds its message: the longest a live attempt can take. */
export const leaseMs = (config: Pick<Config, 'crm'>): number => config.crm.timeoutMs + LEASE_MARGIN_MS;

/** Job key of the sweep a starting worker schedules (one pending at a time; a later start moves it). */
export const CRM_RECOVERY_SWEEP_KEY = 'crm_recovery_sweep';

/** The sealed secrets' purpose for the key ring (binds ciphertexts to this use). */
export const SECRET_PURPOSE = 'crm_destination_secret';

/** Delay before the next attempt after `attempt` failed; null when it was the last. */
function retryDelaySeconds(attempt: number, retryAfter: number | null, random: () => number): number | null {
  if (attempt >= MAX_ATTEMPTS) return null;
  const base = RETRY_SCHEDULE_SECONDS[attempt - 1]!;
  const jittered = base * (1 - JITTER + 2 * JITTER * random());
  return Math.min(MAX_DELAY_SECONDS, Math.max(jittered, retryAfter ?? 0));
}

export interface DeliveryDeps {
  /** Host name resolution for the SSRF check and the pinned client's connections; default: the system resolver. */
  resolveHost?: ResolveHost;
  /**
   * The HTTP client; default (production): the pinned client, which connects
   * only to addresses that pass the URL policy. Tests may inject another.
   */
  fetch?: OutboundFetch;
  /** Jitter source; default Math.random. */
  random?: () => number;
}

export type DeliveryOutcome = 'delivered' | 'retry' | 'gone' | 'dead' | 'skipped';

export function createCrmDelivery(ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'keyring' | 'logger' | 'metrics'>, deps: DeliveryDeps = {}) {
  const { db, clock, config, keyring } = ctx;
  const metrics = crmMetrics(ctx.metrics.registry);
  const log = ctx.logger.child({ component: 'crm' });
  const resolveHost: ResolveHost = deps.resolveHost ?? (async (host) => (await lookup(host, { all: true })).map((a) => a.address));
  const random = deps.random ?? Math.random;
  const policy = { allowInsecureLoopback: config.crm.allowInsecureLoopbackDestinations };
  const outbound: OutboundFetch = deps.fetch ?? createPinnedFetch({ resolveHost, policy });
  const lease = leaseMs(config);

  async function send(tenantId: string, dest: repo.DestinationRecord, m: repo.MessageRecord, secrets: string[], now: Date): Promise<SendResult> {
    // One deadline for the whole attempt (DNS, and every call of a HubSpot hand-off): the lease relies on it.
    const signal = AbortSignal.timeout(config.crm.timeoutMs);
    const refused = await checkTarget(dest.url, policy, resolveHost, signal);
    if (refused) return failed(refused);
    if (dest.kind === 'webhook') {
      return sendWebhook({ fetch: outbound, url: dest.url, messageId: m.id, payload: m.payload, secrets, now, signal });
    }
    return sendToHubspot({
      contacts: m.leadId ? contactStore(tenantId, dest.id, m.leadId) : undefined,
      fetch: outbound,
      baseUrl: dest.url,
      token: secrets[0]!,
      payload: m.payload,
      calAppUrl: config.calcom.appUrl,
      now,
      signal,
    });
  }

  /** The HubSpot contact id of one lead at one destination, each call its own short transaction. */
  function contactStore(tenantId: string, destinationId: string, leadId: string): HubspotContactStore {
    return {
      get: () => db.withTenant(tenantId, (tx) => repo.findHubspotContact(tx, destinationId, leadId)),
      remember: (contactId) => db.withTenant(tenantId, (tx) => repo.rememberHubspotContact(tx, { tenantId, destinationId, leadId, contactId, now: clock.now() })),
      forget: (contactId) => db.withTenant(tenantId, (tx) => repo.forgetHubspotContact(tx, destinationId, leadId, contactId)),
    };
  }

  /** Hands the next pending message of this lead and destination to a worker. */
  async function kickNext(tx: Tx, tenantId: string, destinationId: string, orderKey: string): Promise<void> {
    const next = await repo.nextPending(tx, destinationId, orderKey);
    if (next) await enqueue(tx, CRM_DELIVER_TASK, { tenantId, messageId: next.id }, { jobKey: deliverJobKey(next.id), maxAttempts: 5, runAt: next.nextAttemptAt > clock.now() ? next.nextAttemptAt : undefined });
  }

  /**
   * One attempt at one message, when it is its turn: pending, due, not
   * leased, first of its lead at its destination, destination active.
   * Otherwise it does nothing (the message's turn comes through another path).
   */
  async function deliver(tenantId: string, messageId: string): Promise<DeliveryOutcome> {
    const start = clock.now();
    const claim = await db.withTenant(tenantId, async (tx) => {
      const m = await repo.findMessage(tx, messageId, true);
      if (!m || m.status !== 'pending') return null;
      if (m.leaseUntil && m.leaseUntil > start) return null;
      const dest = await repo.findDestination(tx, m.destinationId);
      if (!dest || dest.status !== 'active') return null;
      // Early (clocks apart, or a stale job): its own retry job or the sweep brings it back when due.
      if (m.nextAttemptAt > start) return null;
      if (await repo.hasEarlierPending(tx, m)) return null;
      const sealed = await repo.activeSecrets(tx, dest.id, start);
      const secrets = sealed.map((s) => keyring.decrypt(s.ciphertext, { tenantId, purpose: SECRET_PURPOSE }));
      const attempt = await repo.startAttempt(tx, tenantId, m.id, start, new Date(start.getTime() + lease));
      return { m, dest, secrets, attempt };
    });
    if (!claim) return 'skipped';
    const { m, dest, secrets, attempt } = claim;

    const result = secrets.length > 0 ? await send(tenantId, dest, m, secrets, start) : failed('no_secret');
    const now = clock.now();

    let outcome: Exclude<DeliveryOutcome, 'skipped'>;
    let nextAttemptAt: Date | null = null;
    if (result.ok) outcome = 'delivered';
    else if (result.gone) outcome = 'gone';
    else {
      const delay = retryDelaySeconds(attempt, result.retryAfterSeconds, random);
      if (delay === null) outcome = 'dead';
      else {
        outcome = 'retry';
        nextAttemptAt = new Date(now.getTime() + Math.round(delay * 1000));
      }
    }

    await db.withTenant(tenantId, async (tx) => {
      const moved = await repo.finishAttempt(tx, {
        messageId: m.id,
        attempt,
        now,
        statusCode: result.statusCode,
        outcome,
        error: result.error,
        // A 410 leaves the message pending for when the destination is enabled again.
        nextAttemptAt: outcome === 'gone' ? now : nextAttemptAt,
      });
      if (!moved) return;
      if (outcome === 'gone') await repo.disableDestination(tx, dest.id, 'gone', now);
      else if (outcome === 'retry') {
        await enqueue(tx, CRM_DELIVER_TASK, { tenantId, messageId: m.id }, { jobKey: deliverJobKey(m.id), maxAttempts: 5, runAt: nextAttemptAt! });
      } else await kickNext(tx, tenantId, dest.id, m.orderKey);
    });
    metrics.attempts.inc({ kind: dest.kind, outcome });
    const level = outcome === 'delivered' ? 'debug' : outcome === 'retry' ? 'info' : 'warn';
    log[level]({ tenantId, messageId: m.id, destinationId: dest.id, attempt, outcome, statusCode: result.statusCode, error: result.error }, 'crm delivery attempt');
    return outcome;
  }

  /** Hands every due, unleased head-of-line message of one tenant to the workers. */
  async function sweepTenant(tenantId: string): Promise<number> {
    return db.withTenant(tenantId, async (tx) => {
      const due = await repo.dueHeads(tx, clock.now(), 500);
      for (const { id } of due) await enqueue(tx, CRM_DELIVER_TASK, { tenantId, messageId: id }, { jobKey: deliverJobKey(id), maxAttempts: 5 });
      return due.length;
    });
  }

  /** The cron job: sweeps every tenant. */
  async function sweep(): Promise<number> {
    // The tenant directory through the tenants capability's service, never its repository.
    const tenants = createTenantsService(ctx);
    let cursor: string | null = null;
    let n = 0;
    do {
      const page = await tenants.list({ limit: 200, cursor });
      for (const t of page.data) n += await sweepTenant(t.id);
      cursor = page.nextCursor;
    } while (cursor);
    return n;
  }

  /**
   * Called when a worker starts: schedules one sweep for just after the
   * longest lease a predecessor (an instance killed mid-attempt) can have
   * left, so its messages go out about one lease after the restart instead
   * of waiting for the cron to find them. Several instances starting share
   * the one job (the job key); the every-minute cron stays the backstop.
   */
  async function scheduleRecoverySweep(): Promise<Date> {
    const runAt = new Date(clock.now().getTime() + lease + 1000);
    await db.withPlatform((tx) => enqueue(tx, CRM_SWEEP_TASK, {}, { jobKey: CRM_RECOVERY_SWEEP_KEY, runAt, maxAttempts: 5 }));
    return runAt;
  }

  return { deliver, sweep, sweepTenant, scheduleRecoverySweep };
}
