import type { CreateDestinationRequest, ListDeliveriesQuery, UpdateDestinationRequest } from '@calbridge/shared';
import type { AppContext } from '../context.js';
import { enqueue } from '../jobs/queue.js';
import { SECRET_PURPOSE } from './crm.delivery.js';
import { DeliveryNotFound, DeliveryPending, DestinationDisabled, DestinationNotFound, DestinationNotWebhook } from './crm.errors.js';
import { CRM_DELIVER_TASK, deliverJobKey } from './crm.outbox.js';
import * as repo from './crm.repository.js';
import { checkDestinationUrl } from './crm.url-policy.js';
import { webhookId } from './crm.webhook-sender.js';
import { newWebhookSecret } from './standard-webhooks.js';

/** Destinations (create, read, change, delete, rotate the secret) and deliveries (list, replay) of one tenant. */
export function createCrmService(ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'keyring'>) {
  const { db, clock, config, keyring } = ctx;
  const policy = { allowInsecureLoopback: config.crm.allowInsecureLoopbackDestinations };
  const seal = (tenantId: string, secret: string) => keyring.encrypt(secret, { tenantId, purpose: SECRET_PURPOSE });

  async function create(tenantId: string, input: CreateDestinationRequest): Promise<{ destination: repo.DestinationRecord; secret: string | null }> {
    const url = input.kind === 'hubspot' ? (input.url ?? config.crm.hubspotApiUrl) : input.url;
    checkDestinationUrl(url, policy);
    const now = clock.now();
    const secret = input.kind === 'webhook' ? newWebhookSecret() : input.accessToken;
    const destination = await db.withTenant(tenantId, async (tx) => {
      const d = await repo.insertDestination(tx, { tenantId, kind: input.kind, url, events: input.events ?? null, now });
      await repo.insertSecret(tx, { tenantId, destinationId: d.id, ciphertext: seal(tenantId, secret), keyId: keyring.currentKeyId, now });
      return d;
    });
    return { destination, secret: input.kind === 'webhook' ? secret : null };
  }

  async function get(tenantId: string, id: string): Promise<repo.DestinationRecord> {
    const d = await db.withTenant(tenantId, (tx) => repo.findDestination(tx, id));
    if (!d) throw new DestinationNotFound();
    return d;
  }

  const list = (tenantId: string) => db.withTenant(tenantId, (tx) => repo.listDestinations(tx));

  async function update(tenantId: string, id: string, patch: UpdateDestinationRequest): Promise<repo.DestinationRecord> {
    if (patch.url !== undefined) checkDestinationUrl(patch.url, policy);
    const now = clock.now();
    return db.withTenant(tenantId, async (tx) => {
      const before = await repo.findDestination(tx, id, true);
      if (!before) throw new DestinationNotFound();
      const d = await repo.updateDestination(
        tx,
        id,
        {
          url: patch.url,
          events: patch.events === undefined ? undefined : (patch.events),
          status: patch.status,
          disabledReason: patch.status === 'active' ? null : patch.status === 'disabled' ? 'admin' : undefined,
        },
        now,
      );
      // Enabled again: what waited while it was disabled goes out now, in order.
      if (before.status === 'disabled' && d!.status === 'active') {
        const due = await repo.dueHeads(tx, now, 10_000);
        for (const { id: messageId } of due) await enqueue(tx, CRM_DELIVER_TASK, { tenantId, messageId }, { jobKey: deliverJobKey(messageId), maxAttempts: 5 });
      }
      return d!;
    });
  }

  async function remove(tenantId: string, id: string): Promise<void> {
    const gone = await db.withTenant(tenantId, (tx) => repo.deleteDestination(tx, id));
    if (!gone) throw new DestinationNotFound();
  }

  /** A new signing secret; the previous one keeps signing too until the overlap ends. */
  async function rotateSecret(tenantId: string, id: string): Promise<{ destination: repo.DestinationRecord; secret: string; previousSecretExpiresAt: Date }> {
    const now = clock.now();
    const until = new Date(now.getTime() + config.crm.secretOverlapSeconds * 1000);
    const secret = newWebhookSecret();
    const destination = await db.withTenant(tenantId, async (tx) => {
      const d = await repo.findDestination(tx, id, true);
      if (!d) throw new DestinationNotFound();
      if (d.kind !== 'webhook') throw new DestinationNotWebhook();
      await repo.retireSecrets(tx, id, now, until);
      await repo.insertSecret(tx, { tenantId, destinationId: id, ciphertext: seal(tenantId, secret), keyId: keyring.currentKeyId, now });
      return d;
    });
    return { destination, secret, previousSecretExpiresAt: until };
  }

  async function deliveries(tenantId: string, q: ListDeliveriesQuery) {
    return db.withTenant(tenantId, async (tx) => {
      const messages = await repo.listMessages(tx, {
        status: q.status ?? null,
        destinationId: q.destinationId ?? null,
        leadId: q.leadId ?? null,
        beforeSeq: q.cursor ?? null,
        limit: q.limit + 1,
      });
      const page = messages.slice(0, q.limit);
      const attempts = await repo.attemptsOf(tx, page.map((m) => m.id));
      return { data: page.map((m) => toDelivery(m, attempts.filter((a) => a.messageId === m.id))), nextCursor: messages.length > q.limit ? page.at(-1)!.seq : null };
    });
  }

  /** Sends a finished (delivered, dead or cancelled) message again, with the same webhook-id, after any pending one of its lead. */
  async function replay(tenantId: string, messageId: string) {
    return db.withTenant(tenantId, async (tx) => {
      const m = await repo.findMessage(tx, messageId, true);
      if (!m) throw new DeliveryNotFound();
      if (m.status === 'pending') throw new DeliveryPending();
      const d = await repo.findDestination(tx, m.destinationId);
      if (!d || d.status !== 'active') throw new DestinationDisabled();
      await repo.requeueMessage(tx, m.id);
      await enqueue(tx, CRM_DELIVER_TASK, { tenantId, messageId: m.id }, { jobKey: deliverJobKey(m.id), maxAttempts: 5 });
      const again = (await repo.findMessage(tx, m.id))!;
      return toDelivery(again, await repo.attemptsOf(tx, [m.id]));
    });
  }

  return { create, get, list, update, remove, rotateSecret, deliveries, replay };
}

export type CrmService = ReturnType<typeof createCrmService>;

export function toDestination(d: repo.DestinationRecord) {
  return {
    id: d.id,
    kind: d.kind,
    url: d.url,
    events: d.events,
    status: d.status,
    disabledReason: d.disabledReason,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

function toDelivery(m: repo.MessageRecord, attempts: repo.AttemptRecord[]) {
  return {
    id: m.id,
    webhookId: webhookId(m.id),
    destinationId: m.destinationId,
    leadId: m.leadId,
    eventType: m.eventType,
    status: m.status,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: a.startedAt.toISOString(),
      finishedAt: a.finishedAt?.toISOString() ?? null,
      statusCode: a.statusCode,
      outcome: a.outcome,
      error: a.error,
    })),
    nextAttemptAt: m.status === 'pending' && m.nextAttemptAt.getTime() > 0 ? m.nextAttemptAt.toISOString() : null,
    createdAt: m.createdAt.toISOString(),
    deliveredAt: m.deliveredAt?.toISOString() ?? null,
  };
}
