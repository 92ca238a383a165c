import type { Tx } from '../db/db.js';

/** Cal.com's throttler trackers shared across tenants (migration 0019). */
export type SharedTracker = 'token_endpoint' | 'platform_client';

export interface TakeArgs {
  tracker: SharedTracker;
  /** Start of the current slot. */
  slot: Date;
  /** Oldest slot that counts: the current slot less one window. */
  since: Date;
  /** Oldest slot whose block still matters. */
  blockSince: Date;
  now: Date;
  /** Our configured limit per window. */
  limit: number;
  /** Per cent of the limit this caller must leave (the visitors' reserve), 0 for visitors. */
  reservePercent: number;
}

/**
 * Takes one unit when the slots since `since` hold fewer than the cap (the limit, lowered to what
 * Cal.com said if less, less the reserve) and no block is running. One statement: the current
 * slot's count is checked under its row lock (ON CONFLICT … DO UPDATE … WHERE), so instances taking
 * at the same moment queue on that row and never together pass the cap. Returns the slot's count,
 * or null when refused.
 */
export async function take(tx: Tx, a: TakeArgs): Promise<number | null> {
  const r = await tx.query<{ spent: number }>(
    `WITH recent AS (
       SELECT coalesce(sum(spent) FILTER (WHERE window_start >= $3 AND window_start < $2), 0)::int AS spent,
              least($5::int, coalesce(min(limit_seen) FILTER (WHERE window_start >= $3), $5::int)) AS lim,
              max(blocked_until) AS blocked_until
         FROM calcom_shared_budget
        WHERE tracker = $1 AND window_start >= least($3, $4)
     ), allowed AS (
       SELECT spent, blocked_until, lim - floor(lim * $7::numeric / 100)::int AS cap FROM recent
     )
     INSERT INTO calcom_shared_budget AS b (tracker, window_start, spent)
     SELECT $1, $2, 1 FROM allowed
      WHERE allowed.spent < allowed.cap AND (allowed.blocked_until IS NULL OR allowed.blocked_until <= $6)
     ON CONFLICT (tracker, window_start) DO UPDATE SET spent = b.spent + 1
      WHERE b.spent + (SELECT spent FROM allowed) < (SELECT cap FROM allowed)
        AND (b.blocked_until IS NULL OR b.blocked_until <= $6)
     RETURNING b.spent`,
    [a.tracker, a.slot, a.since, a.blockSince, a.limit, a.now, a.reservePercent],
  );
  return r.rows[0]?.spent ?? null;
}

export interface SlotRow {
  windowStart: Date;
  spent: number;
  limitSeen: number | null;
  blockedUntil: Date | null;
}

/** The slots since `from`, oldest first: to say when a refused caller may go. */
export async function slotsSince(tx: Tx, tracker: SharedTracker, from: Date): Promise<SlotRow[]> {
  const r = await tx.query<SlotRow>(
    `SELECT window_start AS "windowStart", spent, limit_seen AS "limitSeen", blocked_until AS "blockedUntil"
       FROM calcom_shared_budget WHERE tracker = $1 AND window_start >= $2 ORDER BY window_start`,
    [tracker, from],
  );
  return r.rows;
}

export interface CorrectArgs {
  tracker: SharedTracker;
  slot: Date;
  since: Date;
  /** What Cal.com says its current window has used (limit − remaining), when it said. */
  used: number | null;
  /** Cal.com's limit when below ours, else null. */
  limitSeen: number | null;
  blockedUntil: Date | null;
}

/**
 * Corrects the count from Cal.com's headers: when Cal.com has counted more in its window than our
 * slots hold, the difference (someone else's calls on the same tracker) is added to the current
 * slot; a lower limit and a block are kept on it. Two instances correcting at once may both add
 * the difference: the budget only errs towards fewer calls.
 */
export async function correct(tx: Tx, a: CorrectArgs): Promise<void> {
  await tx.query(
    `WITH ours AS (
       SELECT coalesce(sum(spent), 0)::int AS spent FROM calcom_shared_budget WHERE tracker = $1 AND window_start >= $3
     ), extra AS (
       SELECT greatest(0, coalesce($4::int, 0) - ours.spent) AS n FROM ours
     )
     INSERT INTO calcom_shared_budget AS b (tracker, window_start, spent, limit_seen, blocked_until)
     SELECT $1, $2, extra.n, $5, $6 FROM extra
     ON CONFLICT (tracker, window_start) DO UPDATE SET
       spent = b.spent + (SELECT n FROM extra),
       limit_seen = CASE WHEN $5::int IS NULL THEN b.limit_seen ELSE least(coalesce(b.limit_seen, $5::int), $5::int) END,
       blocked_until = CASE WHEN $6::timestamptz IS NULL THEN b.blocked_until ELSE greatest(coalesce(b.blocked_until, $6::timestamptz), $6::timestamptz) END`,
    [a.tracker, a.slot, a.since, a.used, a.limitSeen, a.blockedUntil],
  );
}

/** Slots no caller will read again. */
export async function forgetBefore(tx: Tx, tracker: SharedTracker, before: Date): Promise<void> {
  await tx.query('DELETE FROM calcom_shared_budget WHERE tracker = $1 AND window_start < $2', [tracker, before]);
}
