import { randomUUID } from 'node:crypto';
import type { CreateSessionRequest, CreateSessionResponse, ObservedBookingRequest, ObservedBookingResponse, SessionScope } from '@calbridge/shared';
import type { AppContext } from '../context.js';
import { RateLimited } from '../errors.js';
import type { TenantRecord, TenantsService } from '../tenants/tenants.service.js';
import { publishedModes } from '../widget/published-modes.js';
import { consentTextHash, type WidgetService } from '../widget/widget.service.js';
import { createSessionTokens, type SessionClaims } from './session-token.js';
import { ConsentInvalid, OriginNotAllowed, SessionMissing, SessionScopeMissing, SessionWrongOrigin, SessionWrongTenant } from './sessions.errors.js';
import { hit, insertObserved, insertReceipt } from './sessions.repository.js';

/** Session mints allowed per window: per client address (/24 or /48) and per tenant. */
export const SESSION_LIMITS = { windowSeconds: 60, perAddress: 10, perTenant: 300 } as const;

export interface ClientInfo {
  /** The `Origin` header, or undefined. */
  origin: string | undefined;
  ipPrefix: string;
  userAgentFamily: string;
}

export function createSessionsService(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  widget: WidgetService,
  tenants: Pick<TenantsService, 'calcomSummary'>,
) {
  const tokens = createSessionTokens(ctx.config.encryptionKeys);

  /** The request's page origin, which must be registered for the tenant. */
  function allowedOrigin(tenant: TenantRecord, origin: string | undefined): string {
    if (!origin || !tenant.allowedOrigins.includes(origin)) throw new OriginNotAllowed();
    return origin;
  }

  async function rateLimit(tenant: TenantRecord, ipPrefix: string): Promise<void> {
    const now = ctx.clock.now().getTime();
    const windowMs = SESSION_LIMITS.windowSeconds * 1000;
    const windowStart = new Date(now - (now % windowMs));
    const [byAddress, byTenant] = await ctx.db.withTenant(tenant.id, async (tx) => [
      await hit(tx, tenant.id, `ip:${ipPrefix}`, windowStart),
      await hit(tx, tenant.id, 'tenant', windowStart),
    ]);
    if (byAddress > SESSION_LIMITS.perAddress || byTenant > SESSION_LIMITS.perTenant)
      throw new RateLimited((windowStart.getTime() + windowMs - now) / 1000);
  }

  return {
    allowedOrigin,

    /** Stores a consent receipt and mints a short-lived session token for the page origin. */
    async create(tenant: TenantRecord, client: ClientInfo, body: CreateSessionRequest): Promise<CreateSessionResponse> {
      const origin = allowedOrigin(tenant, client.origin);
      await rateLimit(tenant, client.ipPrefix);
      const consent = widget.consent(tenant);
      if (body.consent.version !== consent.version) throw new ConsentInvalid('The consent text has changed; show the current one.');
      const known = new Set(consent.purposes.map((p) => p.id));
      const purposes = [...new Set(body.consent.purposes)];
      if (purposes.some((p) => !known.has(p))) throw new ConsentInvalid('Unknown consent purpose.');
      if (consent.purposes.some((p) => p.required && !purposes.includes(p.id))) throw new ConsentInvalid('A required purpose is missing.');
      if (new URL(body.context.pageUrl).origin !== origin) throw new ConsentInvalid('The page URL is not on the requesting origin.');

      const now = ctx.clock.now();
      const sessionId = randomUUID();
      const receipt = await ctx.db.withTenant(tenant.id, (tx) =>
        insertReceipt(tx, {
          tenantId: tenant.id,
          sessionId,
          consentVersion: consent.version,
          consentTextSha256: consentTextHash(consent.text),
          purposes,
          pageOrigin: origin,
          pageUrl: body.context.pageUrl,
          referrer: body.context.referrer,
          utm: Object.fromEntries(Object.entries(body.context.utm).filter(([, v]) => v)) as Record<string, string>,
          ipPrefix: client.ipPrefix,
          userAgentFamily: client.userAgentFamily,
          createdAt: now,
        }),
      );
      const expiresAt = new Date(now.getTime() + ctx.config.sessionTtlSeconds * 1000);
      // Native mode books through the server, so only a tenant whose config publishes it lets sessions do that.
      const native = publishedModes(widget.config(tenant).modes, await tenants.calcomSummary(tenant.id)).includes('native');
      const scopes: SessionScope[] = native ? ['bookings:observe', 'bookings:create'] : ['bookings:observe'];
      const token = await tokens.sign({ sessionId, consentReceiptId: receipt.id, tenantId: tenant.id, origin, scopes, expiresAt }, now);
      return { token, sessionId, consentReceiptId: receipt.id, expiresAt: expiresAt.toISOString(), scopes };
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

    /** Links a booking the embed reported to the session's consent receipt (idempotent by uid). */
    async observe(tenant: TenantRecord, claims: SessionClaims, body: ObservedBookingRequest): Promise<ObservedBookingResponse & { created: boolean }> {
      const r = await ctx.db.withTenant(tenant.id, (tx) =>
        insertObserved(tx, {
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
        }),
      );
      return { uid: body.uid, sessionId: r.sessionId, consentReceiptId: r.consentReceiptId, created: r.created };
    },
  };
}
export type SessionsService = ReturnType<typeof createSessionsService>;
