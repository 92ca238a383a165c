import { CALCOM_RATE_LIMITS, type SandboxContext, type OAuthBehaviour, type RateLimits, type SandboxStats } from './context.js';
import { ApiError, jsonBody, sendJson, type Router } from './http.js';
import { bookingOutput } from './outputs.js';
import { SANDBOX_OAUTH_CLIENT_ID } from './seed.js';
import type { EventTypeSeed, UserSeed } from './store.js';
import type { DeliveryRecord, WebhookFaults } from './webhooks.js';

/** A booking as the control API lists it: API v2 output plus what only the sandbox sees. */
export type ControlBooking = Record<string, unknown> & { uid: string; tracking?: Record<string, string> };

/** Input of {@link SandboxControl.registerOAuthClient}. */
export interface OAuthClientRegistration {
  clientId: string;
  /** Omit for a public client (PKCE only). */
  clientSecret?: string;
  /** Exact-match redirect URIs. */
  redirectUris: string[];
  name?: string;
  /** Cal.com's review state (default APPROVED); a PENDING client works only for its owner. */
  status?: 'APPROVED' | 'PENDING' | 'REJECTED';
  /** Username of the owner (default none). */
  ownerUsername?: string;
}

/**
 * Test-only handle on the sandbox. Everything here is also reachable over
 * HTTP under `/__sandbox/…` (see {@link registerControl}).
 */
export interface SandboxControl {
  /** Drops all state (bookings, webhooks, tokens, deliveries, faults, stats, rate limit, `advanceTime`) and re-seeds. */
  reset(): void;
  /** Adds a Cal.com user. */
  seedUser(seed: UserSeed): { id: number; username: string; email: string; apiKey?: string };
  /** Adds an event type for an existing user. */
  seedEventType(seed: EventTypeSeed): { id: number; slug: string; username: string; lengthInMinutes: number };
  /** Adds or replaces a third-party OAuth client. */
  registerOAuthClient(input: OAuthClientRegistration): void;
  /** The seeded third-party OAuth client (after any re-registration of the same id). */
  oauthClient(): { clientId: string; clientSecret: string | null; redirectUris: string[] };
  /** Changes how the authorize page answers (approving user, deny, family revocation). */
  setOAuthBehaviour(behaviour: Partial<OAuthBehaviour>): void;
  /** Sets webhook fault knobs (merged over the current ones). */
  setFaults(faults: Partial<WebhookFaults>): void;
  /** Turns every fault knob off. */
  resetFaults(): void;
  /** Current fault knobs. */
  faults(): WebhookFaults;
  /** Gap between delivery attempts (default 5 minutes, like Cal.com). */
  setRetryDelayMs(ms: number): void;
  /** All webhook deliveries so far, oldest first, with attempts, status codes, bodies and headers. */
  deliveries(): DeliveryRecord[];
  /** Resolves once at least `count` deliveries are delivered, failed or dropped. */
  waitForDeliveries(count: number, timeoutMs?: number): Promise<DeliveryRecord[]>;
  /** Releases held deliveries, runs waiting retries now, and waits for all in flight. */
  flush(): Promise<void>;
  /** Sends deliveries held by `outOfOrder`, reversed or shuffled. */
  releaseHeld(order?: 'reverse' | 'shuffle'): Promise<void>;
  /** Every booking, API v2 shape plus `tracking` (UTM parameters). */
  bookings(): ControlBooking[];
  /** Counters of OAuth and token calls. */
  stats(): SandboxStats;
  /** Marks attendees absent, as the host would in Cal.com (BOOKING_NO_SHOW_UPDATED). */
  markNoShow(uid: string, attendees: Array<{ email: string; absent: boolean }>): void;
  /** Rejects a pending booking, as the host would in Cal.com (BOOKING_REJECTED). */
  rejectBooking(uid: string, reason?: string): void;
  /**
   * Ends every OAuth and managed-user access token now, before the expiry the client was told
   * (as when Cal.com revokes tokens); refresh tokens stay valid. The next call with one is a 401.
   */
  expireAccessTokens(): void;
  /**
   * Moves the sandbox's clock ahead by `ms` and then runs the scheduled-trigger cron once, so
   * MEETING_STARTED / MEETING_ENDED of bookings whose start / end passed go out. Returns how many were sent.
   */
  advanceTime(ms: number): number;
  /** Runs the scheduled-trigger cron (handleWebhookScheduledTriggers.ts) at the sandbox's current time. */
  runScheduledTriggers(): number;
  /** The MEETING_* triggers waiting to be sent. */
  scheduledTriggers(): Array<{ bookingUid: string; triggerEvent: string; startAfter: string; subscriberUrl: string }>;
  /** Pays a booking of a paid event type (handlePaymentSuccess.ts): BOOKING_PAID. */
  payBooking(uid: string): void;
  /** Confirms a pending booking, as the host would (handleConfirmation.ts): BOOKING_CREATED with `{ videoCallUrl }` metadata. */
  confirmBooking(uid: string): void;
  /**
   * Makes a booking one of the loose cases of real API v2 outputs (output.service.ts), so that
   * `GET /v2/bookings` returns it that way: `status` (e.g. `awaiting_host`), and the flags of {@link LooseBooking}.
   */
  loosenBooking(uid: string, loose: LooseBooking): void;
  /**
   * Turns API v2 rate limiting on or off (`null`): `'calcom'` for Cal.com's default limits per
   * tracker kind ({@link CALCOM_RATE_LIMITS}), a number for that many per window for every tracker,
   * or limits by kind. `windowMs` / `blockMs` (default 60 s each, as Cal.com) scale time for benches.
   */
  setRateLimit(limit: number | 'calcom' | RateLimits | null, timing?: { windowMs?: number; blockMs?: number }): void;
}

/** Input of {@link SandboxControl.loosenBooking}. */
export interface LooseBooking {
  status?: 'accepted' | 'pending' | 'cancelled' | 'rejected' | 'awaiting_host';
  eventTypeDeleted?: boolean;
  hostNameNull?: boolean;
  noUser?: boolean;
  updatedAtNull?: boolean;
  cancellationReasonEmpty?: boolean;
}

export function createControl(
  sx: SandboxContext,
  opts: { defaultRetryDelayMs: number; setRetryDelay: (ms: number) => void; resetStats: () => void; advanceClock: (ms: number) => void; resetClock: () => void },
): SandboxControl {
  const control: SandboxControl = {
    reset() {
      sx.webhooks.clear();
      sx.store.reset();
      opts.resetStats();
      opts.setRetryDelay(opts.defaultRetryDelayMs);
      Object.assign(sx.oauth, { username: 'demo', deny: false, refreshTokens: 'rotating' });
      Object.assign(sx.rateLimit, { limits: null, windowMs: 60_000, blockMs: 60_000 });
      sx.rateLimit.windows.clear();
      opts.resetClock();
    },
    seedUser(seed) {
      const user = sx.store.addUser(seed);
      return { id: user.id, username: user.username, email: user.email, ...(seed.apiKey ? { apiKey: seed.apiKey } : {}) };
    },
    seedEventType(seed) {
      const et = sx.store.addEventType(seed);
      return { id: et.id, slug: et.slug, username: seed.username, lengthInMinutes: et.lengthInMinutes };
    },
    registerOAuthClient(input) {
      if (!input.clientId || !Array.isArray(input.redirectUris) || input.redirectUris.length === 0) {
        throw new ApiError(400, 'clientId and at least one redirect URI are required');
      }
      for (const uri of input.redirectUris) new URL(uri);
      sx.store.oauthClients.set(input.clientId, {
        clientId: input.clientId,
        clientSecret: input.clientSecret ?? null,
        redirectUris: [...input.redirectUris],
        name: input.name ?? input.clientId,
        clientType: input.clientSecret ? 'CONFIDENTIAL' : 'PUBLIC',
        status: input.status ?? 'APPROVED',
        ownerUserId: input.ownerUsername ? (sx.store.userByUsername(input.ownerUsername)?.id ?? null) : null,
      });
    },
    oauthClient() {
      const c = sx.store.oauthClients.get(SANDBOX_OAUTH_CLIENT_ID);
      if (!c) throw new Error('the seeded OAuth client was removed');
      return { clientId: c.clientId, clientSecret: c.clientSecret, redirectUris: [...c.redirectUris] };
    },
    setOAuthBehaviour(b) {
      Object.assign(sx.oauth, b);
    },
    setFaults(f) {
      sx.webhooks.faults = { ...sx.webhooks.faults, ...f };
    },
    resetFaults() {
      sx.webhooks.faults = { deliverTwice: false, outOfOrder: false, delayMs: 0, drop: false, corruptSignature: false };
    },
    faults: () => ({ ...sx.webhooks.faults }),
    setRetryDelayMs: (ms) => opts.setRetryDelay(ms),
    deliveries: () => sx.webhooks.list(),
    waitForDeliveries: (count, timeoutMs = 5_000) => sx.webhooks.waitFor(count, timeoutMs),
    flush: () => sx.webhooks.flush(),
    releaseHeld: (order) => sx.webhooks.releaseHeld(order),
    bookings: () =>
      [...sx.store.bookings.values()].map((b) => ({
        ...bookingOutput(b, sx.store.eventTypes.get(b.eventTypeId), sx.store.users.get(b.userId)),
        uid: b.uid,
        ...(b.tracking ? { tracking: { ...b.tracking } } : {}),
      })),
    stats: () => ({ ...sx.stats }),
    markNoShow(uid, attendees) {
      sx.bookings.markAbsent(uid, { attendees });
    },
    rejectBooking(uid, reason) {
      sx.bookings.reject(uid, reason);
    },
    expireAccessTokens() {
      for (const t of [...sx.store.oauthAccessTokens.values(), ...sx.store.managedAccessTokens.values()]) t.expiresAt = 0;
    },
    advanceTime(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new ApiError(400, 'ms must be a non-negative number');
      opts.advanceClock(ms);
      return sx.bookings.runScheduledTriggers();
    },
    runScheduledTriggers: () => sx.bookings.runScheduledTriggers(),
    scheduledTriggers: () =>
      [...sx.store.scheduledTriggers.values()].map((t) => ({
        bookingUid: t.bookingUid,
        triggerEvent: t.triggerEvent,
        startAfter: new Date(t.startAfter).toISOString(),
        subscriberUrl: t.subscriberUrl,
      })),
    payBooking(uid) {
      sx.bookings.pay(uid);
    },
    confirmBooking(uid) {
      sx.bookings.confirm(uid);
    },
    loosenBooking(uid, loose) {
      const booking = sx.bookings.get(uid);
      const { status, ...flags } = loose;
      if (status) booking.status = status;
      booking.loose = { ...booking.loose, ...flags };
    },
    setRateLimit(limit, timing = {}) {
      const limits = limit === null ? null : limit === 'calcom' ? CALCOM_RATE_LIMITS : typeof limit === 'number' ? { apiKey: limit, accessToken: limit, oauthClient: limit, other: limit } : limit;
      const valid = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;
      if (limits !== null && !Object.values(limits).every(valid)) throw new ApiError(400, "limit must be a non-negative integer, 'calcom', limits by kind, or null");
      const windowMs = timing.windowMs ?? 60_000;
      const blockMs = timing.blockMs ?? windowMs;
      if (!(windowMs >= 1 && blockMs >= 1)) throw new ApiError(400, 'windowMs and blockMs must be positive');
      Object.assign(sx.rateLimit, { limits, windowMs, blockMs });
      sx.rateLimit.windows.clear();
    },
  };
  return control;
}

/** Mirrors the control handle over HTTP (plain JSON, deliberately not Cal.com's envelope). */
export function registerControl(router: Router, control: SandboxControl): void {
  const ok = (res: Parameters<typeof sendJson>[0], body: unknown = { ok: true }, status = 200): void => sendJson(res, status, body);
  router.on('GET', '/__sandbox', (ctx) => ok(ctx.res, { sandbox: 'calcom', oauthClient: control.oauthClient(), stats: control.stats() }));
  router.on('POST', '/__sandbox/reset', (ctx) => {
    control.reset();
    ok(ctx.res);
  });
  router.on('POST', '/__sandbox/users', (ctx) => ok(ctx.res, control.seedUser(jsonBody(ctx) as unknown as UserSeed), 201));
  router.on('POST', '/__sandbox/event-types', (ctx) => ok(ctx.res, control.seedEventType(jsonBody(ctx) as unknown as EventTypeSeed), 201));
  router.on('POST', '/__sandbox/oauth-clients', (ctx) => {
    control.registerOAuthClient(jsonBody(ctx) as unknown as OAuthClientRegistration);
    ok(ctx.res, { ok: true }, 201);
  });
  router.on('PUT', '/__sandbox/oauth-behaviour', (ctx) => {
    control.setOAuthBehaviour(jsonBody(ctx));
    ok(ctx.res);
  });
  router.on('POST', '/__sandbox/expire-access-tokens', (ctx) => {
    control.expireAccessTokens();
    ok(ctx.res);
  });
  router.on('POST', '/__sandbox/advance-time', (ctx) => {
    const ms = jsonBody(ctx)['ms'];
    if (typeof ms !== 'number') throw new ApiError(400, 'ms must be a number');
    ok(ctx.res, { sent: control.advanceTime(ms) });
  });
  router.on('POST', '/__sandbox/run-scheduled-triggers', (ctx) => ok(ctx.res, { sent: control.runScheduledTriggers() }));
  router.on('GET', '/__sandbox/scheduled-triggers', (ctx) => ok(ctx.res, control.scheduledTriggers()));
  router.on('POST', '/__sandbox/bookings/:uid/pay', (ctx) => {
    control.payBooking(ctx.params['uid']!);
    ok(ctx.res);
  });
  router.on('POST', '/__sandbox/bookings/:uid/confirm', (ctx) => {
    control.confirmBooking(ctx.params['uid']!);
    ok(ctx.res);
  });
  router.on('POST', '/__sandbox/bookings/:uid/loosen', (ctx) => {
    control.loosenBooking(ctx.params['uid']!, jsonBody(ctx));
    ok(ctx.res);
  });
  router.on('PUT', '/__sandbox/rate-limit', (ctx) => {
    const body = jsonBody(ctx);
    const limit = body['limit'];
    control.setRateLimit((limit ?? null) as number | 'calcom' | RateLimits | null, {
      ...(typeof body['windowMs'] === 'number' ? { windowMs: body['windowMs'] } : {}),
      ...(typeof body['blockMs'] === 'number' ? { blockMs: body['blockMs'] } : {}),
    });
    ok(ctx.res);
  });
  router.on('GET', '/__sandbox/faults', (ctx) => ok(ctx.res, control.faults()));
  router.on('PUT', '/__sandbox/faults', (ctx) => {
    control.setFaults(jsonBody(ctx));
    ok(ctx.res, control.faults());
  });
  router.on('DELETE', '/__sandbox/faults', (ctx) => {
    control.resetFaults();
    ok(ctx.res, control.faults());
  });
  router.on('PUT', '/__sandbox/retry-delay', (ctx) => {
    const ms = jsonBody(ctx)['ms'];
    if (typeof ms !== 'number' || ms < 0) throw new ApiError(400, 'ms must be a non-negative number');
    control.setRetryDelayMs(ms);
    ok(ctx.res);
  });
  router.on('GET', '/__sandbox/deliveries', (ctx) => ok(ctx.res, control.deliveries()));
  router.on('POST', '/__sandbox/deliveries/wait', async (ctx) => {
    const body = jsonBody(ctx);
    const count = Number(body['count'] ?? 1);
    const timeoutMs = Number(body['timeoutMs'] ?? 5_000);
    try {
      ok(ctx.res, await control.waitForDeliveries(count, timeoutMs));
    } catch (err) {
      throw new ApiError(408, err instanceof Error ? err.message : String(err));
    }
  });
  router.on('POST', '/__sandbox/flush', async (ctx) => {
    await control.flush();
    ok(ctx.res);
  });
  router.on('POST', '/__sandbox/release-held', async (ctx) => {
    const order = jsonBody(ctx)['order'];
    await control.releaseHeld(order === 'shuffle' ? 'shuffle' : 'reverse');
    ok(ctx.res);
  });
  router.on('GET', '/__sandbox/bookings', (ctx) => ok(ctx.res, control.bookings()));
  router.on('GET', '/__sandbox/stats', (ctx) => ok(ctx.res, control.stats()));
  router.on('POST', '/__sandbox/bookings/:uid/no-show', (ctx) => {
    const attendees = jsonBody(ctx)['attendees'];
    if (!Array.isArray(attendees)) throw new ApiError(400, 'attendees must be an array of { email, absent }');
    control.markNoShow(ctx.params['uid']!, attendees as Array<{ email: string; absent: boolean }>);
    ok(ctx.res);
  });
  router.on('POST', '/__sandbox/bookings/:uid/reject', (ctx) => {
    const reason = jsonBody(ctx)['reason'];
    control.rejectBooking(ctx.params['uid']!, typeof reason === 'string' ? reason : undefined);
    ok(ctx.res);
  });
}
