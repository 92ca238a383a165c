import type { RateLimitObserver, RateLimitReading } from './http.js';

/**
 * One tenant's Cal.com rate-limit budget, as its own answers tell it.
 *
 * Cal.com counts per tracker, and a request with a bearer token is tracked by that token
 * (`access_token_<sha256>`, default 500 per 60 s; apps/api/v2/src/lib/throttler-guard.ts getTracker,
 * RATE_LIMIT_DEFAULT_LIMIT_ACCESS_TOKEN). So the budget is the tenant's own, not shared between
 * tenants; and a tenant's reconciliation runs one at a time (its own job queue, see
 * reconciliation.service.ts), so it needs no shared state: every answer carries Cal.com's count,
 * which already includes the calls other instances made with the same token (visitors' slots and
 * bookings). When it must stop, the time it may go on is kept in PostgreSQL as the rescheduled
 * job's `run_at`.
 */
export class RateBudget implements RateLimitObserver {
  private last: { limit: number; remaining: number; resetAt: number } | undefined;
  /** Answers seen and how many were 429s, for the log line and the bench. */
  readonly seen = { answers: 0, refused: 0 };

  /**
   * @param now the server's clock (ms)
   * @param reservePercent share of the limit left unspent for visitors on the same token
   */
  constructor(
    private readonly now: () => number,
    private readonly reservePercent: number,
  ) {}

  observe(r: RateLimitReading): void {
    this.seen.answers += 1;
    if (r.status === 429) this.seen.refused += 1;
    // Cal.com rounds the reset up to whole seconds; a second more covers clocks a little apart.
    this.last = { limit: r.limit, remaining: r.remaining, resetAt: this.now() + r.resetMs + 1000 };
  }

  /** When the next call may go if it must wait (the budget down to the reserve before its reset), else null. */
  blockedUntil(): Date | null {
    const last = this.last;
    if (!last || last.resetAt <= this.now()) return null;
    const reserve = Math.floor((last.limit * this.reservePercent) / 100);
    return last.remaining <= reserve ? new Date(last.resetAt) : null;
  }
}
