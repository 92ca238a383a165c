-- One Cal.com account, one tenant (issue: one account, decision 0034). Cal.com keeps one live
-- refresh token per OAuth client and user: a refresh deletes every other one of that client and
-- user (packages/features/oauth/repositories/OAuthRefreshTokenRepository.ts rotateTokenForUser).
-- We have one OAuth client, so two tenants on one Cal.com account revoked each other's tokens at
-- every refresh, and both registered a webhook on that user, so each received the other's bookings.

-- Connections that hold an account live, tenant by tenant under the policies (the owner running
-- this is subject to them: FORCE), as 0018 reads bookings.
CREATE TEMPORARY TABLE calbridge_0020_connected (
  tenant_id      uuid PRIMARY KEY,
  calcom_user_id bigint NOT NULL,
  last_active    timestamptz NOT NULL
) ON COMMIT DROP;

DO $$
DECLARE
  t uuid;
BEGIN
  PERFORM set_config('app.scope', 'platform', true);
  FOR t IN SELECT id FROM tenants LOOP
    PERFORM set_config('app.tenant_id', t::text, true);
    INSERT INTO calbridge_0020_connected (tenant_id, calcom_user_id, last_active)
    -- The policy's condition, stated too: a superuser (or BYPASSRLS) owner is not subject to it.
    SELECT tenant_id, calcom_user_id, coalesce(refreshed_at, connected_at)
      FROM calcom_connections WHERE tenant_id = t AND status = 'connected';
  END LOOP;

  -- Per Cal.com user, the connection refreshed or connected last keeps the account: its refresh
  -- token is the one Cal.com still honours (or will be, after its next refresh deletes the
  -- others'). Ties go to the lowest tenant id, so the choice does not depend on the scan order.
  -- The others need re-authorisation, with the reason saying why.
  FOR t IN
    SELECT tenant_id FROM (
      SELECT tenant_id, row_number() OVER (PARTITION BY calcom_user_id ORDER BY last_active DESC, tenant_id) AS n
        FROM calbridge_0020_connected
    ) ranked WHERE n > 1
  LOOP
    PERFORM set_config('app.tenant_id', t::text, true);
    UPDATE calcom_connections
       SET status = 'needs_reauth', reauth_reason = 'calcom_account_in_use', updated_at = now()
     WHERE tenant_id = t AND status = 'connected';
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
  PERFORM set_config('app.scope', '', true);
END
$$;

-- The rule itself, race-safe: a unique index is checked across every row whatever the policies let
-- a transaction see, so two callbacks for one account at the same moment cannot both commit
-- (connections.repository.ts upsertConnection maps its violation to calcom_account_in_use). Partial:
-- a connection that needs re-authorisation no longer holds the account.
CREATE UNIQUE INDEX calcom_connections_one_tenant_per_account ON calcom_connections (calcom_user_id) WHERE status = 'connected';
