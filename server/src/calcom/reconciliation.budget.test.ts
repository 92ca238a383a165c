import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../config.js';
import { jobCrontab } from '../jobs/handlers.js';
import { RateBudget } from './reconciliation.budget.js';

const env = { CALBRIDGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`, CALBRIDGE_ADMIN_TOKEN: 'x'.repeat(40), DATABASE_URL: 'postgres://u@localhost/db' };

describe("reconciliation's share of Cal.com's rate limit", () => {
  it('when Cal.com says 100 of 500 remain and a fifth is reserved for visitors, then no call goes until the reset, and calls go again once it passed', () => {
    let now = 1_000_000;
    const budget = new RateBudget(() => now, 20);
    expect(budget.blockedUntil()).toBeNull();
    budget.observe({ limit: 500, remaining: 101, resetMs: 30_000, status: 200 });
    expect(budget.blockedUntil()).toBeNull();
    budget.observe({ limit: 500, remaining: 100, resetMs: 30_000, status: 200 });
    // The reset Cal.com names, plus a second for clocks a little apart.
    expect(budget.blockedUntil()?.getTime()).toBe(1_000_000 + 31_000);
    now += 31_000;
    expect(budget.blockedUntil()).toBeNull();
  });

  it('when nothing is reserved, then only Remaining 0 stops the calls', () => {
    const budget = new RateBudget(() => 0, 0);
    budget.observe({ limit: 3, remaining: 1, resetMs: 60_000, status: 200 });
    expect(budget.blockedUntil()).toBeNull();
    budget.observe({ limit: 3, remaining: 0, resetMs: 60_000, status: 200 });
    expect(budget.blockedUntil()).not.toBeNull();
    expect(budget.seen).toEqual({ answers: 2, refused: 0 });
  });
});

describe('the reconciliation interval', () => {
  it('when none is set, then every 15 minutes and a fifth of the budget reserved; when set to 5, then the crontab fires every 5', () => {
    const c = parseConfig(env);
    expect(c.reconcile).toEqual({ intervalMinutes: 15, reservePercent: 20 });
    expect(jobCrontab(c)).toContain('*/15 * * * * calcom_reconcile_all');
    expect(jobCrontab(parseConfig({ ...env, CALBRIDGE_RECONCILE_INTERVAL_MINUTES: '5' }))).toContain('*/5 * * * * calcom_reconcile_all');
  });

  it('when the interval does not divide an hour, then start-up stops naming the variable', () => {
    expect(() => parseConfig({ ...env, CALBRIDGE_RECONCILE_INTERVAL_MINUTES: '7' })).toThrow(ConfigError);
    expect(() => parseConfig({ ...env, CALBRIDGE_RECONCILE_INTERVAL_MINUTES: '7' })).toThrow(/CALBRIDGE_RECONCILE_INTERVAL_MINUTES/);
  });
});
