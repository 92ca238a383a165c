-- Cal.com's shared rate-limit trackers, counted once for every instance (issue 16, decision 0030).
--
-- Token refreshes carry no bearer token, so Cal.com's throttler counts them across tenants
-- (apps/api/v2/src/lib/throttler-guard.ts getTracker): OAuth refreshes at /v2/auth/oauth2/token
-- by our address (`ip_…`, 120 per 60 s), managed-user refreshes by the platform client's
-- `x-cal-client-id` (`oauth_client_…`, 500 per 60 s). Every instance takes one unit from this
-- table before such a call, in one INSERT … ON CONFLICT … DO UPDATE … RETURNING.
--
-- One row per tracker and slot (a sixth of Cal.com's window): a call may go while the slots of the
-- last window and one slot more hold fewer than the limit, which bounds every 60-s window Cal.com
-- may have started, wherever it started. Cal.com's headers on each answer correct the count
-- (calls someone else made on the same tracker), its limit (limit_seen) and a block (blocked_until).
--
-- Not tenant data: no tenant id, no token, no person; the tracker is a fixed name. It is
-- platform-scoped like admin_tokens: forced row-level security whose policy admits only a
-- `db.withPlatform` transaction, so a tenant-scoped transaction sees no row.

CREATE TABLE calcom_shared_budget (
  tracker       text NOT NULL CHECK (tracker IN ('token_endpoint', 'platform_client')),
  window_start  timestamptz NOT NULL,
  -- Units taken in this slot (ours, plus calls Cal.com counted that we did not take).
  spent         integer NOT NULL DEFAULT 0 CHECK (spent >= 0),
  -- The limit Cal.com's headers named in this slot, when lower than ours.
  limit_seen    integer CHECK (limit_seen >= 0),
  -- Cal.com answered 429: no call on this tracker before this time.
  blocked_until timestamptz,
  PRIMARY KEY (tracker, window_start)
);

ALTER TABLE calcom_shared_budget ENABLE ROW LEVEL SECURITY;
ALTER TABLE calcom_shared_budget FORCE ROW LEVEL SECURITY;
CREATE POLICY calcom_shared_budget_platform ON calcom_shared_budget
  USING (calbridge_platform_scope()) WITH CHECK (calbridge_platform_scope());

GRANT SELECT, INSERT, UPDATE, DELETE ON calcom_shared_budget TO calbridge_app;
