import type { AppContext } from '../context.js';
import { calcomMetrics } from './calcom.metrics.js';
import type { RateLimitReading } from './http.js';
import * as repo from './shared-budget.repository.js';
import type { SharedTracker } from './shared-budget.repository.js';

export type { SharedTracker };

/**
 * Who needs the call: a visitor (or an admin) waiting on an answer may spend the whole budget;
 * background work (reconciliation, refreshing ahead) leaves the reserve for them.
 */
export type RefreshPurpose = 'visitor' | 'background';

export type TakeResult = { granted: true } | { granted: false; until: Date };

/** Slots per window: the budget errs by at most one slot's calls towards fewer calls. */
const SLOTS_PER_WINDOW = 6;
/** Blocks are looked for this many windows back (Cal.com's block is one window by default). */
const BLOCK_LOOKBACK_WINDOWS = 10;

/**
 * The budget of Cal.com's rate-limit trackers that every tenant and every instance share, kept in
 * PostgreSQL (migration 0019, decision 0030).
 *
 * Cal.com's throttler (apps/api/v2/src/lib/throttler-guard.ts getTracker) counts a call without a
 * bearer token by its `x-cal-client-id` (`oauth_client_<sha256>`, RATE_LIMIT_DEFAULT_LIMIT_OAUTH_CLIENT
 * 500) or else by the caller's address (`ip_<sha256 of cf-connecting-ip or the socket address>`,
 * RATE_LIMIT_DEFAULT_LIMIT 120), in windows of RATE_LIMIT_DEFAULT_TTL_MS (60 s) fixed from their
 * first hit; the hit past the limit blocks the tracker for RATE_LIMIT_DEFAULT_BLOCK_DURATION_MS.
 * Neither token endpoint has its own `@Throttle` (apps/api/v2/src/modules/auth/oauth2/controllers/
 * oauth2.controller.ts and oauth2-token.controller.ts; managed users' `POST /v2/oauth/:clientId/refresh`
 * in apps/api/v2/src/modules/oauth-clients/controllers/oauth-flow/oauth-flow.controller.ts), so the
 * guard's defaults apply and the answers carry `X-RateLimit-{Limit,Remaining,Reset}-Default`.
 *
 * We cannot know where Cal.com's window starts, so we count in slots of a sixth of a window and let
 * a call go while the last window's slots and one more hold fewer than the limit: any window of
 * Cal.com's then holds at most the limit of ours.
 */
export function createSharedBudget(ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'logger' | 'metrics'>) {
  const { db, clock, logger } = ctx;
  const limits = ctx.config.sharedLimits;
  const windowMs = limits.windowSeconds * 1000;
  const slotMs = Math.ceil(windowMs / SLOTS_PER_WINDOW);
  const metrics = calcomMetrics(ctx.metrics.registry);
  const forgotten = new Map<SharedTracker, number>();

  const limitOf = (tracker: SharedTracker) => (tracker === 'token_endpoint' ? limits.tokenEndpointPerWindow : limits.platformClientPerWindow);
  const reserveOf = (purpose: RefreshPurpose) => (purpose === 'background' ? limits.reservePercent : 0);

  /** The current slot, the oldest slot that still counts, and how far back blocks are looked for. */
  function span(nowMs: number) {
    const slot = Math.floor(nowMs / slotMs) * slotMs;
    const since = Math.floor((slot - windowMs) / slotMs) * slotMs;
    return { slot: new Date(slot), since: new Date(since), blockSince: new Date(slot - BLOCK_LOOKBACK_WINDOWS * windowMs) };
  }

  /** When a refused caller may go: the oldest slots leave the count, and any block ends. */
  function nextRoom(rows: repo.SlotRow[], s: ReturnType<typeof span>, limit: number, reservePercent: number, nowMs: number): Date {
    const counted = rows.filter((r) => r.windowStart.getTime() >= s.since.getTime());
    const lim = Math.min(limit, ...counted.map((r) => r.limitSeen ?? limit));
    const cap = lim - Math.floor((lim * reservePercent) / 100);
    let total = counted.reduce((n, r) => n + r.spent, 0);
    let at = nowMs + 1000;
    for (const r of counted) {
      if (total < cap) break;
      total -= r.spent;
      // A slot stops counting once the current slot is a window and a slot past it.
      at = Math.max(at, r.windowStart.getTime() + windowMs + slotMs);
    }
    if (cap <= 0) at = Math.max(at, nowMs + windowMs);
    const blocked = Math.max(0, ...rows.map((r) => r.blockedUntil?.getTime() ?? 0));
    return new Date(Math.max(at, blocked));
  }

  /** Takes one unit of the tracker's budget for the next call, or says until when there is none. */
  async function take(tracker: SharedTracker, purpose: RefreshPurpose): Promise<TakeResult> {
    const now = clock.now();
    const s = span(now.getTime());
    const limit = limitOf(tracker);
    const reservePercent = reserveOf(purpose);
    const result = await db.withPlatform(async (tx): Promise<TakeResult> => {
      // Old slots go once per slot and process; nothing reads them any more.
      if (forgotten.get(tracker) !== s.slot.getTime()) {
        forgotten.set(tracker, s.slot.getTime());
        await repo.forgetBefore(tx, tracker, s.blockSince);
      }
      const spent = await repo.take(tx, { tracker, ...s, now, limit, reservePercent });
      if (spent !== null) return { granted: true };
      const rows = await repo.slotsSince(tx, tracker, s.blockSince);
      return { granted: false, until: nextRoom(rows, s, limit, reservePercent, now.getTime()) };
    });
    metrics.sharedBudget.inc({ tracker, purpose, outcome: result.granted ? 'taken' : 'refused' });
    return result;
  }

  /**
   * Corrects the budget from Cal.com's headers on an answer of that tracker. Never throws: the
   * call it follows has happened (a refresh has rotated the tokens), bookkeeping must not undo it.
   */
  async function observe(tracker: SharedTracker, reading: RateLimitReading | undefined): Promise<void> {
    if (!reading) return;
    const now = clock.now();
    const s = span(now.getTime());
    const limit = limitOf(tracker);
    const refused = reading.status === 429;
    try {
      await db.withPlatform((tx) =>
        repo.correct(tx, {
          tracker,
          slot: s.slot,
          since: s.since,
          // While blocked Remaining is 0 whatever was counted: the block says it all.
          used: refused ? null : Math.max(0, reading.limit - reading.remaining),
          limitSeen: reading.limit < limit ? reading.limit : null,
          // Cal.com rounds the reset up to whole seconds; a second more covers clocks a little apart.
          blockedUntil: refused ? new Date(now.getTime() + reading.resetMs + 1000) : null,
        }),
      );
    } catch (err) {
      logger.warn({ component: 'calcom', tracker, err: (err as Error)?.message }, "could not record Cal.com's rate-limit headers in the shared budget");
    }
  }

  return { take, observe };
}
