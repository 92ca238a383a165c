import { randomUUID } from 'node:crypto';
import { authenticate } from '../auth.js';
import type { SandboxContext } from '../context.js';
import { ApiError, jsonBody, optionalString, sendSuccess, type RequestContext, type Router } from '../http.js';
import { webhookOutput } from '../outputs.js';
import type { SandboxWebhook } from '../types.js';

/** Trigger names accepted by CreateWebhookInputDto.triggers (openapi-v2.json). */
export const WEBHOOK_TRIGGERS = [
  'BOOKING_CREATED',
  'BOOKING_PAYMENT_INITIATED',
  'BOOKING_PAID',
  'BOOKING_RESCHEDULED',
  'BOOKING_REQUESTED',
  'BOOKING_CANCELLED',
  'BOOKING_REJECTED',
  'BOOKING_NO_SHOW_UPDATED',
  'FORM_SUBMITTED',
  'MEETING_ENDED',
  'MEETING_STARTED',
  'RECORDING_READY',
  'INSTANT_MEETING',
  'RECORDING_TRANSCRIPTION_GENERATED',
  'OOO_CREATED',
  'AFTER_HOSTS_CAL_VIDEO_NO_SHOW',
  'AFTER_GUESTS_CAL_VIDEO_NO_SHOW',
  'FORM_SUBMITTED_NO_EVENT',
  'DELEGATION_CREDENTIAL_ERROR',
  'WRONG_ASSIGNMENT_REPORT',
] as const;

/** `/v2/webhooks` — the authenticated user's webhooks (no cal-api-version in the document). */
export function registerWebhooks(router: Router, sx: SandboxContext): void {
  router.on('POST', '/v2/webhooks', (ctx) => {
    const { user } = authenticate(ctx, sx.store, sx.clock);
    const body = jsonBody(ctx);
    const fields = parseWebhookFields(body, true);
    // apps/api/v2/src/modules/webhooks/services/user-webhooks.service.ts createUserWebhook:
    // one webhook per subscriber URL and user, else a ConflictException (409).
    if ([...sx.store.webhooks.values()].some((w) => w.userId === user.id && w.subscriberUrl === fields.subscriberUrl)) {
      throw new ApiError(409, 'Webhook with this subscriber url already exists for this user');
    }
    const hook: SandboxWebhook = {
      // Webhook ids are UUID strings (packages/prisma/schema.prisma `model Webhook { id String @id }`),
      // although the OpenAPI document and WebhookOutputDto declare a number.
      id: randomUUID(),
      userId: user.id,
      subscriberUrl: fields.subscriberUrl!,
      triggers: fields.triggers!,
      active: fields.active!,
      secret: fields.secret ?? null,
      payloadTemplate: fields.payloadTemplate ?? null,
      version: fields.version ?? '2021-10-20',
    };
    sx.store.webhooks.set(hook.id, hook);
    sendSuccess(ctx.res, 201, webhookOutput(hook));
  });

  router.on('GET', '/v2/webhooks', (ctx) => {
    const { user } = authenticate(ctx, sx.store, sx.clock);
    const take = Number(ctx.url.searchParams.get('take') ?? 250);
    const skip = Number(ctx.url.searchParams.get('skip') ?? 0);
    if (!Number.isInteger(take) || take < 1 || take > 250 || !Number.isInteger(skip) || skip < 0) {
      throw new ApiError(400, 'take must be 1–250 and skip ≥ 0');
    }
    const list = [...sx.store.webhooks.values()].filter((w) => w.userId === user.id).slice(skip, skip + take);
    sendSuccess(ctx.res, 200, list.map(webhookOutput));
  });

  router.on('GET', '/v2/webhooks/:webhookId', (ctx) => {
    sendSuccess(ctx.res, 200, webhookOutput(ownHook(ctx, sx)));
  });

  router.on('PATCH', '/v2/webhooks/:webhookId', (ctx) => {
    const hook = ownHook(ctx, sx);
    const f = parseWebhookFields(jsonBody(ctx), false);
    if (f.subscriberUrl !== undefined) hook.subscriberUrl = f.subscriberUrl;
    if (f.triggers !== undefined) {
      // scheduleTrigger.ts updateTriggerForExistingBookings: adding meeting triggers schedules them for
      // upcoming accepted bookings; removing them deletes the scheduled ones.
      const before = hook.triggers;
      hook.triggers = f.triggers;
      sx.bookings.syncMeetingTriggers(hook, before);
    }
    if (f.active !== undefined) hook.active = f.active;
    if (f.secret !== undefined) hook.secret = f.secret;
    if (f.payloadTemplate !== undefined) hook.payloadTemplate = f.payloadTemplate;
    if (f.version !== undefined) hook.version = f.version;
    sendSuccess(ctx.res, 200, webhookOutput(hook));
  });

  router.on('DELETE', '/v2/webhooks/:webhookId', (ctx) => {
    const hook = ownHook(ctx, sx);
    sx.store.webhooks.delete(hook.id);
    for (const [id, t] of sx.store.scheduledTriggers) if (t.webhookId === hook.id) sx.store.scheduledTriggers.delete(id);
    sendSuccess(ctx.res, 200, webhookOutput(hook));
  });
}

function ownHook(ctx: RequestContext, sx: SandboxContext): SandboxWebhook {
  const { user } = authenticate(ctx, sx.store, sx.clock);
  const hook = sx.store.webhooks.get(ctx.params['webhookId']!);
  if (!hook || hook.userId !== user.id) throw new ApiError(404, `Webhook with id=${ctx.params['webhookId']} not found`);
  return hook;
}

interface WebhookFields {
  subscriberUrl?: string;
  triggers?: string[];
  active?: boolean;
  secret?: string;
  payloadTemplate?: string;
  version?: string;
}

function parseWebhookFields(body: Record<string, unknown>, create: boolean): WebhookFields {
  const out: WebhookFields = {};
  const url = optionalString(body, 'subscriberUrl');
  if (url !== undefined) {
    try {
      new URL(url);
    } catch {
      throw new ApiError(400, 'subscriberUrl must be a URL');
    }
    out.subscriberUrl = url;
  } else if (create) throw new ApiError(400, 'subscriberUrl should not be empty');
  const triggers = body['triggers'];
  if (triggers !== undefined) {
    if (!Array.isArray(triggers) || triggers.some((t) => !(WEBHOOK_TRIGGERS as readonly unknown[]).includes(t))) {
      throw new ApiError(400, `each value in triggers must be one of the following values: ${WEBHOOK_TRIGGERS.join(', ')}`);
    }
    out.triggers = triggers as string[];
  } else if (create) throw new ApiError(400, 'triggers should not be empty');
  const active = body['active'];
  if (active !== undefined) {
    if (typeof active !== 'boolean') throw new ApiError(400, 'active must be a boolean value');
    out.active = active;
  } else if (create) throw new ApiError(400, 'active must be a boolean value');
  const secret = optionalString(body, 'secret');
  if (secret !== undefined) out.secret = secret;
  const template = optionalString(body, 'payloadTemplate');
  if (template !== undefined) out.payloadTemplate = template;
  const version = optionalString(body, 'version');
  if (version !== undefined) {
    if (version !== '2021-10-20') throw new ApiError(400, 'version must be one of the following values: 2021-10-20');
    out.version = version;
  }
  return out;
}
