import { createHmac, hkdfSync, randomUUID } from 'node:crypto';
import type {
  CreateSessionRequest,
  CreateSessionResponse,
  ObservedBookingRequest,
  ObservedBookingResponse,
  SessionScope,
  SessionSlots,
  SlotsQuery,
  SlotsResponse,
} from '@calbridge/shared';
import type { AppContext } from '../context.js';
import { RateLimited } from '../errors.js';
import type { TenantRecord, TenantsService } from '../tenants/tenants.service.js';
import { publishedModes } from '../widget/published-modes.js';
import { consentTextHash, type WidgetService } from '../widget/widget.service.js';
import { createSessionTokens, type SessionClaims } from './session-token.js';
import { ConsentInvalid, ObservedLimitReached, OriginNotAllowed, SessionMissing, SessionScopeMissing, SessionWrongOrigin, SessionWrongTenant } from './sessions.errors.js';
import { hit, hitAddressThenTenant, hitAddressThenTenantOpening, insertObserved, type SessionCounts, insertReceipt, lockSessionReports, observedBySession } from './sessions.repository.js';
import { sha256 } from '../crypto/tokens.js';
import { NativeAddressLimit } from '../calcom/native-booking.errors.js';

/**
 * Session mints allowed per window, per client address (IPv4 address, IPv6 /64) and per
 * tenant. The tenant ceiling is far above what one address may take, and a request the
 * address limit refuses does not count against the tenant, so one actor (or a few dozen
 * addresses) cannot lock a tenant's widget for everyone else (issue 13, finding 2).
 */
export const SESSION_LIMITS = { windowSeconds: 60, perAddress: 10, perTenant: 5000 } as const;

/** Native bookings one client address (IPv4 address, IPv6 /64) may make per hour, across its sessions. */
const NATIVE_BOOKINGS_PER_ADDRESS_PER_HOUR = 6;

/** Bookings a session may report (`bookings/observed`); a visitor books once or twice in one session. */
export const OBSERVED_PER_SESSION = 3;

/** The rate-limit transaction's opening: counts are not worth a wait for the disk (see `rateLimit`). */
const COUNTS_OPENING = "SELECT set_config('synchronous_commit', 'off', true)";

/** Free times of a tenant's event (native-booking.service.ts `slots`, passed in by app.ts). */
type FirstSlots = (tenant: TenantRecord, q: SlotsQuery, admitted?: Promise<unknown>) => Promise<SlotsResponse>;

/**
 * The first page `q` from `firstSlots`, or undefined when it fails or has not answered within
 * `deadlineMs` of being asked (`CALBRIDGE_SESSION_SLOTS_DEADLINE_MS`, 150 ms). It is asked as soon
 * as the session request is admitted, in parallel with the minting, so a session whose minting
 * takes longer waits for nothing more. Never a rejection: a session cannot fail because of it,
 * and past the deadline the picker asks itself, joining the call still in flight
 * (native-booking.service.ts). Decision 0027.
 */
function firstPage(firstSlots: FirstSlots, tenant: TenantRecord, q: SlotsQuery, deadlineMs: number, admitted: Promise<unknown>): Promise<SessionSlots | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), deadlineMs);
    timer.unref();
    void firstSlots(tenant, q, admitted).then(
      (r) => resolve({ ...r, start: q.start, end: q.end }),
      () => resolve(undefined),
    ).finally(() => clearTimeout(timer));
  });
}

export interface ClientInfo {
  /** The `Origin` header, or undefined. */
  origin: string | undefined;
  /** Kept in the receipt: IPv4 /24, IPv6 /48. */
  ipPrefix: string;
  /** Counted by rate limits: the IPv4 address or the IPv6 /64 (see client.ts rateLimitAddress). */
  rateLimitAddress: string;
  userAgentFamily: string;
}

export function createSessionsService(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  widget: WidgetService,
  tenants: Pick<TenantsService, 'calcomSummaryCached'>,
  /** Native mode's free times, asked for while a session that names its first page is minted. */
  firstSlots?: FirstSlots,
) {
  const tokens = createSessionTokens(ctx.config.encryptionKeys);

  /** The request's page origin, which must be registered for the tenant. */
  function allowedOrigin(tenant: TenantRecord, origin: string | undefined): string {
    if (!origin || !tenant.allowedOrigins.includes(origin)) throw new OriginNotAllowed();
    return origin;
  }

  // Rate-limit rows name an address by a keyed hash, so the table never holds a full address.
  const addressKey = Buffer.from(hkdfSync('sha256', ctx.config.encryptionKeys[0]!.key, Buffer.alloc(0), 'calbridge rate-limit address', 32));
  const addressBucket = (prefix: string, address: string) => `${prefix}:${createHmac('sha256', addressKey).update(address).digest('base64url').slice(0, 22)}`;

  /**
   * Counts one hit per address and, only when the address is within its limit, per tenant
   * (both in PostgreSQL, so every instance shares them: decision 0006). Throws 429 `rate_limited`.
   */
  async function rateLimit(tenant: TenantRecord, address: string): Promise<void> {
    const now = ctx.clock.now().getTime();
    const windowMs = SESSION_LIMITS.windowSeconds * 1000;
    const windowStart = new Date(now - (now % windowMs));
    const retryAfter = (windowStart.getTime() + windowMs - now) / 1000;
    // Both counts in one statement, in one transaction, before every session answer: two round
    // trips where there were six. Its commit does not wait for the disk (synchronous_commit off,
    // this transaction only): a crash can forget the last fraction of a second of counts, which
    // only lets a few more requests through once; the receipt's own transaction waits as usual.
    // The counting statement rides in the transaction's opening round trip.
    const bucket = addressBucket('addr', address);
    const counts = await ctx.db.withTenant(
      tenant.id,
      async (tx, opened) =>
        (opened?.[1]?.rows[0] as SessionCounts | undefined) ?? (await hitAddressThenTenant(tx, tenant.id, bucket, windowStart, SESSION_LIMITS.perAddress)),
      `${COUNTS_OPENING}; ${hitAddressThenTenantOpening(tenant.id, bucket, windowStart, SESSION_LIMITS.perAddress)}`,
    );
    if (counts.address > SESSION_LIMITS.perAddress || (counts.tenant ?? 0) > SESSION_LIMITS.perTenant) throw new RateLimited(retryAfter);
  }

  return {
    allowedOrigin,

    /** Counts a native booking attempt of a client address; throws 429 `native_address_limit` past the hourly cap. */
    async admitNativeBooking(tenant: TenantRecord, address: string): Promise<void> {
      const now = ctx.clock.now().getTime();
      const windowStart = new Date(now - (now % 3_600_000));
      const n = await ctx.db.withTenant(tenant.id, (tx) => hit(tx, tenant.id, addressBucket('native', address), windowStart));
      if (n > NATIVE_BOOKINGS_PER_ADDRESS_PER_HOUR) throw new NativeAddressLimit((windowStart.getTime() + 3_600_000 - now) / 1000);
    },

    /** Stores a consent receipt and mints a short-lived session token for the page origin. */
    async create(tenant: TenantRecord, client: ClientInfo, body: CreateSessionRequest): Promise<CreateSessionResponse> {
      const origin = allowedOrigin(tenant, client.origin);
      const counted = rateLimit(tenant, client.rateLimitAddress);
      const consent = widget.consent(tenant);
      const known = new Set(consent.purposes.map((p) => p.id));
      const purposes = [...new Set(body.consent.purposes)];
      const invalid =
        body.consent.version !== consent.version ? 'The consent text has changed; show the current one.'
        : purposes.some((p) => !known.has(p)) ? 'Unknown consent purpose.'
        : consent.purposes.some((p) => p.required && !purposes.includes(p.id)) ? 'A required purpose is missing.'
        : new URL(body.context.pageUrl).origin !== origin ? 'The page URL is not on the requesting origin.'
        : undefined;
      // Admitted: counted within the limits (429 first), then the consent is valid (400).
      const admitted = counted.then(() => {
        if (invalid) throw new ConsentInvalid(invalid);
      });
      // Native mode's first page of free times, asked for in parallel with the minting (our own
      // lookups start now; Cal.com is asked once the request is admitted); kept only if the
      // session may book (the scope check below).
      const modes = widget.config(tenant).modes;
      const slots = body.slots && firstSlots && modes.includes('native') ? firstPage(firstSlots, tenant, body.slots, ctx.config.sessionSlotsDeadlineMs, admitted) : undefined;
      await admitted;

      const now = ctx.clock.now();
      const sessionId = randomUUID();
      // Whether the session may book is read beside the receipt's insert, not after it (one round trip less).
      const [receipt, calcom] = await Promise.all([
        ctx.db.withTenant(tenant.id, (tx) =>
          insertReceipt(tx, {
            tenantId: tenant.id,
            sessionId,
            consentVersion: consent.version,
            consentTextSha256: consentTextHash(consent.text),
            purposes,
            pageOrigin: origin,
            pageUrl: body.context.pageUrl,
            referrer: body.context.referrer,
            utm: Object.fromEntries(Object.entries(body.context.utm).filter(([, v]) => v)),
            ipPrefix: client.ipPrefix,
            userAgentFamily: client.userAgentFamily,
            createdAt: now,
            // Only the hash: the nonce itself is the proof a booking's metadata must carry (session-proof.ts).
            nonceSha256: body.nonce ? sha256(body.nonce) : null,
            consentSource: body.consent.source ?? 'widget',
            clickIds: Object.fromEntries(Object.entries(body.context.clickIds ?? {}).filter(([, v]) => v)),
          }),
        ),
        tenants.calcomSummaryCached(tenant.id),
      ]);
      const expiresAt = new Date(now.getTime() + ctx.config.sessionTtlSeconds * 1000);
      // Native mode books through the server, so only a tenant whose config publishes it lets sessions do that.
      const native = publishedModes(modes, calcom).includes('native');
      const scopes: SessionScope[] = native ? ['bookings:observe', 'bookings:create'] : ['bookings:observe'];
      const token = await tokens.sign({ sessionId, consentReceiptId: receipt.id, tenantId: tenant.id, origin, scopes, expiresAt }, now);
      const first = native ? await slots : undefined;
      return { token, sessionId, consentReceiptId: receipt.id, expiresAt: expiresAt.toISOString(), scopes, ...(first ? { slots: first } : {}) };
    },

    /**
     * Checks a bearer session token for `tenant`, from a registered origin, bound to that
     * origin, with `scope`. Each refusal has its own code.
     */
    async verify(tenant: TenantRecord, origin: string | undefined, authorization: string | undefined, scope: SessionScope): Promise<SessionClaims> {
      const pageOrigin = allowedOrigin(tenant, origin);
      const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization ?? '');
      if (!m) throw new SessionMissing();
      const claims = await tokens.verify(m[1]!, ctx.clock.now());
      if (claims.tenantId !== tenant.id) throw new SessionWrongTenant();
      if (claims.origin !== pageOrigin) throw new SessionWrongOrigin();
      if (!claims.scopes.includes(scope)) throw new SessionScopeMissing();
      return claims;
    },

    /**
     * Records a booking the page reported under this session, as a hint only: it links no
     * consent (the booking's own metadata must prove the session: session-proof.ts). One row per
     * booking per session (a repeat answers 200 and stores nothing), at most
     * {@link OBSERVED_PER_SESSION} bookings per session (`observed_limit_reached`).
     */
    async observe(tenant: TenantRecord, claims: SessionClaims, body: ObservedBookingRequest): Promise<ObservedBookingResponse & { created: boolean }> {
      const r = await ctx.db.withTenant(tenant.id, async (tx) => {
        // Serialise one session's reports so the cap holds under concurrent requests.
        await lockSessionReports(tx, claims.sessionId);
        const seen = await observedBySession(tx, claims.sessionId, body.uid);
        if (seen.has) return { created: false };
        if (seen.count >= OBSERVED_PER_SESSION) throw new ObservedLimitReached(OBSERVED_PER_SESSION);
        return insertObserved(tx, {
          tenantId: tenant.id,
          uid: body.uid,
          sessionId: claims.sessionId,
          consentReceiptId: claims.consentReceiptId,
          startTime: body.startTime ?? null,
          endTime: body.endTime ?? null,
          eventTypeId: body.eventTypeId ?? null,
          eventType: body.eventType ?? null,
          status: body.status ?? null,
          observedAt: ctx.clock.now(),
        });
      });
      return { uid: body.uid, sessionId: claims.sessionId, consentReceiptId: claims.consentReceiptId, created: r.created };
    },
  };
}
export type SessionsService = ReturnType<typeof createSessionsService>;
export type { ReceiptInput } from './sessions.repository.js';
