import { z } from 'zod';
import { SeqCursor } from './web.schema.js';

// CRM hand-off: destinations a tenant registers, and the deliveries of the
// outbox to them. A destination's secret is shown once (on create and on
// rotation) and never again.

/** Events a destination can subscribe to. */
export const CrmEventType = z.enum(['lead.created', 'lead.updated', 'booking.created', 'booking.cancelled', 'booking.rescheduled', 'subject.erased']);
export type CrmEventType = z.infer<typeof CrmEventType>;

const Events = z
  .array(CrmEventType)
  .min(1)
  .max(6)
  .refine((e) => new Set(e).size === e.length, { message: 'each event at most once' });

/** An absolute http(s) URL; the server refuses non-https and private-network targets on its own. */
const DestinationUrl = z.url({ protocol: /^https?$/ }).max(2048);

/**
 * Body of `POST /v1/admin/tenants/:slug/destinations`. `webhook`: a signed
 * outbound webhook (Standard Webhooks); the answer carries its `whsec_`
 * secret once. `hubspot`: contacts and meetings through HubSpot's CRM API
 * with a private-app access token (kept sealed, never returned); `url` is the
 * API base and defaults to the server's configured one. Without `events`,
 * every event is sent.
 */
export const CreateDestinationRequest = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('webhook'), url: DestinationUrl, events: Events.optional() }),
  z.strictObject({
    kind: z.literal('hubspot'),
    accessToken: z.string().min(10).max(500).regex(/^[\x21-\x7e]+$/, 'a HubSpot private app access token'),
    url: DestinationUrl.optional(),
    events: Events.optional(),
  }),
]);
export type CreateDestinationRequest = z.infer<typeof CreateDestinationRequest>;

/** Body of `PATCH …/destinations/:id`: any of these; `status: "active"` re-enables a disabled destination. */
export const UpdateDestinationRequest = z
  .strictObject({
    url: DestinationUrl.optional(),
    events: Events.nullable().optional(),
    status: z.enum(['active', 'disabled']).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field to change' });
export type UpdateDestinationRequest = z.infer<typeof UpdateDestinationRequest>;

/** A destination as the admin API returns it: never a secret. */
export const CrmDestination = z.object({
  id: z.string(),
  kind: z.enum(['webhook', 'hubspot']),
  url: z.string(),
  /** Null: every event. */
  events: z.array(CrmEventType).nullable(),
  status: z.enum(['active', 'disabled']),
  /** `gone` (the receiver answered 410) or `admin`. */
  disabledReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type CrmDestination = z.infer<typeof CrmDestination>;

/** Answer of a create or a secret rotation of a webhook destination: the secret, this once. */
export const CrmDestinationWithSecret = CrmDestination.extend({
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/).optional(),
  /** On rotation: until when the previous secret still signs (both signatures are sent). */
  previousSecretExpiresAt: z.string().nullable().optional(),
});
export type CrmDestinationWithSecret = z.infer<typeof CrmDestinationWithSecret>;

/** Query of `GET …/deliveries`. */
export const ListDeliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'delivered', 'dead', 'cancelled']).optional(),
  destinationId: z.uuid().optional(),
  leadId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: SeqCursor.optional(),
});
export type ListDeliveriesQuery = z.infer<typeof ListDeliveriesQuery>;

/** One attempt to deliver a message. */
export const CrmAttempt = z.object({
  attempt: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  statusCode: z.number().int().nullable(),
  outcome: z.enum(['in_flight', 'delivered', 'retry', 'gone', 'dead', 'abandoned']),
  error: z.string().nullable(),
});
export type CrmAttempt = z.infer<typeof CrmAttempt>;

/** A message to one destination and what became of it (never its payload). */
export const CrmDelivery = z.object({
  id: z.string(),
  /** The `webhook-id` receivers deduplicate on. */
  webhookId: z.string(),
  destinationId: z.string(),
  leadId: z.string().nullable(),
  eventType: CrmEventType,
  status: z.enum(['pending', 'delivered', 'dead', 'cancelled']),
  attempts: z.array(CrmAttempt),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
});
export type CrmDelivery = z.infer<typeof CrmDelivery>;
