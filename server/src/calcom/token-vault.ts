import * as oidc from 'openid-client';
import type { AppContext } from '../context.js';
import { AppError } from '../errors.js';
import {
  CalcomNeedsReauth,
  CalcomPlatformNotConfigured,
  CalcomNotConnected,
  CalcomNotFound,
  CalcomRateLimited,
  CalcomRefreshBudgetSpent,
  CalcomRejected,
  CalcomTimeout,
  CalcomUnauthorized,
  CalcomUnavailable,
} from './calcom.errors.js';
import { calcomOAuthConfiguration } from '../oauth/oauth.client.js';
import { calcomMetrics } from './calcom.metrics.js';
import type { CalcomClient } from './client.js';
import { readRateLimit, scrubSecrets, type CalcomAuth, type RateLimitReading } from './http.js';
import { createSharedBudget, type RefreshPurpose, type SharedTracker } from './shared-budget.service.js';
import * as repo from './connections.repository.js';
import type { ConnectionKind, ConnectionRecord } from './connections.repository.js';

/**
 * The token vault. Tokens are sealed with the key ring (tenant id and kind as
 * additional data) and refreshed shortly before they expire. Refreshing
 * rotates the refresh token, so it happens once: within a process one
 * refresh per tenant is in flight at a time, and across processes the
 * refresher holds the connection row's lock (`SELECT … FOR UPDATE`) and
 * re-reads it after acquiring it: a waiter finds the rotated token and uses
 * it instead of burning the old one. A refresh Cal.com refuses marks the
 * connection `needs_reauth`.
 *
 * Refreshes carry no bearer token, so Cal.com counts them across tenants (shared-budget.service.ts):
 * each one first takes a unit of the shared budget in PostgreSQL, and the answer's rate-limit
 * headers correct it. When the budget is spent the token in hand is used while it still works;
 * past that the caller gets CalcomRefreshBudgetSpent (503, Retry-After) at once, never a wait.
 * Background callers (reconciliation) refresh ahead: a token that would come within the margin
 * before the tenant's next pass is refreshed in this one, so refreshes follow the pass's spread
 * over the interval instead of bunching where expiries bunch, and leave visitors few to make.
 */

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: Date;
  refreshExpiresAt: Date | null;
}

/** What callers act with: never logged, never returned by the API. */
export interface TenantCredentials {
  auth: Extract<CalcomAuth, { kind: 'bearer' }>;
  kind: ConnectionKind;
  calcomUserId: number;
  calcomUsername: string;
  tokenVersion: number;
}

/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** When the shared budget is spent, a token is still handed out if it works at least this long. */
const LAST_USABLE_MS = 30_000;

const trackerOf = (kind: ConnectionKind): SharedTracker => (kind === 'managed_user' ? 'platform_client' : 'token_endpoint');

/** An answer of a shared tracker, recorded in the budget once the refresh's transaction is over. */
interface Seen {
  tracker: SharedTracker;
  reading: RateLimitReading | undefined;
}

export const SECRET_PURPOSE: Record<ConnectionKind, string> = {
  oauth: 'calcom_oauth_tokens',
  managed_user: 'calcom_managed_user_tokens',
};

/** Thrown inside the refresh transaction when Cal.com refuses the refresh token; the transaction still commits the mark. */
class RefreshRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export function createTokenVault(ctx: Pick<AppContext, 'db' | 'keyring' | 'clock' | 'config' | 'fetch' | 'logger' | 'metrics' | 'changes'>, calcom: CalcomClient) {
  const { db, keyring, clock, config, logger } = ctx;
  const metrics = calcomMetrics(ctx.metrics.registry);
  const inFlight = new Map<string, Promise<TenantCredentials>>();
  const budget = createSharedBudget(ctx);
  // Reconciliation sees every tenant once an interval: what would expire before its next pass is refreshed now.
  const aheadMs = config.reconcile.intervalMinutes * 60_000;

  function seal(tenantId: string, kind: ConnectionKind, t: TokenSet): string {
    return keyring.encrypt(JSON.stringify({ a: t.accessToken, r: t.refreshToken }), { tenantId, purpose: SECRET_PURPOSE[kind] });
  }

  function open(c: ConnectionRecord): { accessToken: string; refreshToken: string } {
    const v = JSON.parse(keyring.decrypt(c.tokensCiphertext, { tenantId: c.tenantId, purpose: SECRET_PURPOSE[c.kind] })) as { a: string; r: string };
    return { accessToken: v.a, refreshToken: v.r };
  }

  function credentials(c: ConnectionRecord, accessToken: string): TenantCredentials {
    return {
      auth: { kind: 'bearer', token: accessToken },
      kind: c.kind,
      calcomUserId: c.calcomUserId,
      calcomUsername: c.calcomUsername,
      tokenVersion: c.tokenVersion,
    };
  }

  const fresh = (c: ConnectionRecord, purpose: RefreshPurpose) =>
    c.accessExpiresAt.getTime() - REFRESH_MARGIN_MS - (purpose === 'background' ? aheadMs : 0) > clock.now().getTime();

  /** Takes a unit of the tracker's shared budget, or throws until when there is none. */
  async function takeBudget(c: ConnectionRecord, purpose: RefreshPurpose): Promise<void> {
    const taken = await budget.take(trackerOf(c.kind), purpose);
    if (taken.granted) return;
    metrics.refreshes.inc({ kind: c.kind, outcome: 'budget_spent' });
    logger.info({ component: 'calcom', tenantId: c.tenantId, kind: c.kind, purpose, until: taken.until.toISOString() }, "token refresh put off: Cal.com's shared budget is spent");
    throw new CalcomRefreshBudgetSpent(taken.until, clock.now());
  }

  /** Asks Cal.com for new tokens; throws RefreshRefused when the refresh token is no good. */
  async function callRefresh(c: ConnectionRecord, refreshToken: string, purpose: RefreshPurpose, seen: Seen[]): Promise<TokenSet> {
    if (c.kind === 'managed_user') {
      const { platformClientId, platformClientSecret } = config.calcom;
      if (!platformClientId || !platformClientSecret) throw new CalcomPlatformNotConfigured();
      const keys = (k: { accessToken: string; refreshToken: string; accessTokenExpiresAt: number; refreshTokenExpiresAt: number }): TokenSet => ({
        accessToken: k.accessToken,
        refreshToken: k.refreshToken,
        accessExpiresAt: new Date(k.accessTokenExpiresAt),
        refreshExpiresAt: new Date(k.refreshTokenExpiresAt),
      });
      // Platform calls carry x-cal-client-id: Cal.com counts them by our platform client (throttler-guard.ts).
      const observer = { observe: (reading: RateLimitReading) => void seen.push({ tracker: 'platform_client', reading }) };
      try {
        return keys(await calcom.managedUsers.refresh(platformClientId, platformClientSecret, refreshToken, observer));
      } catch (err) {
        // Every managed-user refresh deletes the previous refresh token (FACTS: tokens.repository.ts). A refused
        // token, or a refresh whose answer never came back (it may have rotated the token at Cal.com), is
        // recovered with force-refresh, which the platform client may call without any user token.
        const lost = err instanceof CalcomTimeout || err instanceof CalcomUnavailable;
        const refusedNow = err instanceof CalcomUnauthorized || err instanceof CalcomRejected;
        if (!lost && !refusedNow) throw err;
        // The way back is one more call on the same shared tracker.
        await takeBudget(c, purpose);
        try {
          const forced = keys(await calcom.managedUsers.forceRefresh(platformClientId, platformClientSecret, c.calcomUserId, observer));
          metrics.refreshes.inc({ kind: c.kind, outcome: 'forced' });
          logger.warn({ component: 'calcom', tenantId: c.tenantId, kind: c.kind, after: lost ? 'lost_answer' : 'refused' }, 'managed user tokens recovered with force-refresh');
          return forced;
        } catch (forceErr) {
          if (forceErr instanceof CalcomUnauthorized || forceErr instanceof CalcomRejected || forceErr instanceof CalcomNotFound) {
            throw new RefreshRefused(String((forceErr.cause as Error)?.message ?? forceErr.code));
          }
          throw lost ? err : forceErr;
        }
      }
    }
    // A configuration per refresh: its fetch keeps this call's answer, whose rate-limit headers
    // (Cal.com counts token requests by our address, throttler-guard.ts) correct the shared budget.
    let answer: Response | undefined;
    const oauthConfig = calcomOAuthConfiguration(config, async (input, init) => (answer = await ctx.fetch(input, init)));
    const read = () => {
      if (answer) seen.push({ tracker: 'token_endpoint', reading: withStatus(answer) });
    };
    try {
      const t = await oidc.refreshTokenGrant(oauthConfig, refreshToken);
      read();
      if (!t.refresh_token) throw new CalcomUnavailable(new Error('Cal.com refreshed without a new refresh token'));
      return {
        accessToken: t.access_token,
        refreshToken: t.refresh_token,
        accessExpiresAt: new Date(clock.now().getTime() + (t.expires_in ?? 1800) * 1000),
        refreshExpiresAt: null,
      };
    } catch (err) {
      read();
      // Cal.com's throttler refused the call before the token endpoint saw it: nothing was rotated.
      if (answer?.status === 429) {
        const resetMs = readRateLimit(answer.headers)?.resetMs ?? 60_000;
        throw new CalcomRateLimited(resetMs / 1000, new Error('token refresh refused by the rate limit (429)'));
      }
      if (err instanceof oidc.ResponseBodyError && (err.error === 'invalid_grant' || err.status === 401)) {
        throw new RefreshRefused(`${err.error}: ${scrubSecrets(err.error_description ?? '', [refreshToken])}`);
      }
      if (err instanceof AppError) throw err;
      throw new CalcomUnavailable(new Error(`token refresh failed: ${scrubSecrets(String((err as Error)?.message ?? err), [refreshToken])}`));
    }
  }

  /**
   * Refreshes under the row lock unless someone else already did (the row's
   * version moved past `seenVersion`, or the token is fresh again).
   */
  async function refreshLocked(seenConn: ConnectionRecord, seenVersion: number | null, purpose: RefreshPurpose): Promise<TenantCredentials> {
    const tenantId = seenConn.tenantId;
    // The unit is taken before the row lock, in its own short transaction: a refresher never holds
    // one connection while it waits for a second. If another instance refreshes meanwhile, the unit
    // is not used; the budget only errs towards fewer calls.
    try {
      await takeBudget(seenConn, purpose);
    } catch (err) {
      // Spent: the token in hand is used while it still works (not after Cal.com refused it).
      if (err instanceof CalcomRefreshBudgetSpent && seenVersion === null && seenConn.accessExpiresAt.getTime() - LAST_USABLE_MS > clock.now().getTime()) {
        metrics.refreshes.inc({ kind: seenConn.kind, outcome: 'stale' });
        return credentials(seenConn, open(seenConn).accessToken);
      }
      throw err;
    }
    let refused: { reason: string; kind: ConnectionKind } | null = null;
    const seen: Seen[] = [];
    const locked = db.withTenant(tenantId, async (tx) => {
      const c = await repo.lockConnection(tx, tenantId);
      if (!c) throw new CalcomNotConnected();
      if (c.status !== 'connected') throw new CalcomNeedsReauth();
      const tokens = open(c);
      const movedOn = seenVersion === null ? fresh(c, purpose) : c.tokenVersion !== seenVersion;
      if (movedOn) return credentials(c, tokens.accessToken);
      try {
        const next = await callRefresh(c, tokens.refreshToken, purpose, seen);
        const now = clock.now();
        await repo.updateTokens(tx, tenantId, {
          tokensCiphertext: seal(tenantId, c.kind, next),
          keyId: keyring.currentKeyId,
          accessExpiresAt: next.accessExpiresAt,
          refreshExpiresAt: next.refreshExpiresAt,
          now,
        });
        metrics.refreshes.inc({ kind: c.kind, outcome: 'refreshed' });
        logger.info({ component: 'calcom', tenantId, kind: c.kind }, 'Cal.com tokens refreshed');
        return credentials({ ...c, tokenVersion: c.tokenVersion + 1 }, next.accessToken);
      } catch (err) {
        if (!(err instanceof RefreshRefused)) {
          metrics.refreshes.inc({ kind: c.kind, outcome: 'failed' });
          throw err;
        }
        await repo.markNeedsReauth(tx, tenantId, err.reason, clock.now());
        refused = { reason: err.reason, kind: c.kind };
        return null;
      }
    });
    // Cal.com's count, recorded once the row lock is let go (success or not).
    const result = await locked.finally(() => Promise.all(seen.map((s) => budget.observe(s.tracker, s.reading))));
    if (result) return result;
    const r = refused as { reason: string; kind: ConnectionKind } | null;
    // Committed: this instance's caches of the connection hear of it now, not at its NOTIFY's echo.
    if (r) ctx.changes?.emit({ table: 'calcom_connections', tenantId });
    metrics.refreshes.inc({ kind: r?.kind ?? 'oauth', outcome: 'refused' });
    metrics.needsReauth.inc({ kind: r?.kind ?? 'oauth' });
    logger.warn({ component: 'calcom', tenantId, kind: r?.kind, reason: r?.reason }, 'Cal.com refused the refresh token; connection needs re-authorisation');
    throw new CalcomNeedsReauth(new Error(r?.reason ?? 'refresh refused'));
  }

  function singleFlight(c: ConnectionRecord, seenVersion: number | null, purpose: RefreshPurpose): Promise<TenantCredentials> {
    const tenantId = c.tenantId;
    const running = inFlight.get(tenantId);
    if (running) return running;
    const p = refreshLocked(c, seenVersion, purpose).finally(() => inFlight.delete(tenantId));
    inFlight.set(tenantId, p);
    return p;
  }

  async function connectionOf(tenantId: string): Promise<ConnectionRecord> {
    const c = await db.withTenant(tenantId, (tx) => repo.findConnection(tx, tenantId));
    if (!c) throw new CalcomNotConnected();
    if (c.status !== 'connected') throw new CalcomNeedsReauth();
    return c;
  }

  /**
   * A usable access token for the tenant, refreshed first when it is about to expire (for
   * `background` callers: when it would before their next pass).
   */
  async function credentialsFor(tenantId: string, purpose: RefreshPurpose = 'visitor'): Promise<TenantCredentials> {
    const c = await connectionOf(tenantId);
    if (fresh(c, purpose)) return credentials(c, open(c).accessToken);
    return singleFlight(c, null, purpose);
  }

  /** After Cal.com refused an access token we thought good: refresh once unless another caller already did. */
  async function refreshAfterRejection(tenantId: string, seenVersion: number, purpose: RefreshPurpose = 'visitor'): Promise<TenantCredentials> {
    return singleFlight(await connectionOf(tenantId), seenVersion, purpose);
  }

  /**
   * Runs `fn` with the tenant's credentials; when Cal.com answers 401 it
   * refreshes once and runs `fn` again.
   */
  async function withCredentials<T>(tenantId: string, fn: (c: TenantCredentials) => Promise<T>, purpose: RefreshPurpose = 'visitor'): Promise<T> {
    const c = await credentialsFor(tenantId, purpose);
    try {
      return await fn(c);
    } catch (err) {
      // Only a 401 says the token itself was refused; a 403 is about the resource, and refreshing would not help.
      if (!(err instanceof CalcomUnauthorized) || (err.cause as { status?: number } | undefined)?.status !== 401) throw err;
      return fn(await refreshAfterRejection(tenantId, c.tokenVersion, purpose));
    }
  }

  return { seal, credentialsFor, withCredentials, refreshAfterRejection };
}

export type TokenVault = ReturnType<typeof createTokenVault>;

/** An answer's rate-limit reading with its status (undefined when it carries none). */
function withStatus(res: Response): RateLimitReading | undefined {
  const r = readRateLimit(res.headers);
  return r ? { ...r, status: res.status } : undefined;
}
