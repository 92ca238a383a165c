-- Cal.com connections: one per tenant, either the tenant's own Cal.com account
-- (third-party OAuth) or a Platform managed user. Tokens are sealed with the
-- key ring (server/src/crypto/keyring.ts, tenant id + kind as AAD); no column
-- here ever holds a token in plaintext.
--
-- The token vault refreshes under `SELECT … FOR UPDATE` of the connection row,
-- so one refresh happens even when several server processes need it at once;
-- `token_version` counts rotations (a waiter re-reads and sees it moved).

CREATE TABLE calcom_connections (
  tenant_id          uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  kind               text NOT NULL CHECK (kind IN ('oauth', 'managed_user')),
  status             text NOT NULL CHECK (status IN ('connected', 'needs_reauth')),
  calcom_user_id     bigint NOT NULL,
  calcom_username    text NOT NULL,
  -- JSON {accessToken, refreshToken}, sealed with purpose 'calcom_oauth_tokens' or 'calcom_managed_user_tokens'.
  tokens_ciphertext  text NOT NULL CHECK (tokens_ciphertext LIKE 'v1.%'),
  key_id             text NOT NULL,
  access_expires_at  timestamptz NOT NULL,
  refresh_expires_at timestamptz,
  token_version      integer NOT NULL DEFAULT 1,
  connected_at       timestamptz NOT NULL,
  refreshed_at       timestamptz,
  reauth_reason      text,
  -- Cal.com's id of the webhook we registered for this tenant, when known.
  webhook_id         text,
  webhook_synced_at  timestamptz,
  -- Reconciliation: bookings updated after this moment are listed next time.
  last_synced_at     timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE calcom_connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE calcom_connections FORCE ROW LEVEL SECURITY;
CREATE POLICY calcom_connections_isolation ON calcom_connections
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

-- OAuth `state` values in flight. The state sent to Cal.com is
-- `<tenant id>.<random>`; only the SHA-256 of the random part is kept. A row is
-- marked used on the first callback (single use) and kept until it expires so a
-- replayed callback is recognised as such.
CREATE TABLE calcom_oauth_states (
  state_hash             bytea PRIMARY KEY,
  tenant_id              uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- PKCE code verifier, sealed with purpose 'calcom_oauth_pkce'.
  code_verifier_sealed   text NOT NULL CHECK (code_verifier_sealed LIKE 'v1.%'),
  created_at             timestamptz NOT NULL,
  expires_at             timestamptz NOT NULL,
  used_at                timestamptz
);
CREATE INDEX calcom_oauth_states_expiry ON calcom_oauth_states (tenant_id, expires_at);

ALTER TABLE calcom_oauth_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE calcom_oauth_states FORCE ROW LEVEL SECURITY;
CREATE POLICY calcom_oauth_states_isolation ON calcom_oauth_states
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

-- Native-mode bookings by Idempotency-Key. The row is inserted in the same
-- transaction that calls Cal.com, so a concurrent duplicate waits on the
-- unique key and then reads the stored answer: a double click makes one booking.
CREATE TABLE calcom_booking_requests (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  idempotency_key text NOT NULL,
  request_hash    bytea NOT NULL,
  -- Filled in the same transaction, after Cal.com answered; a row is never committed without them.
  booking_uid     text,
  -- The answer we gave (booking uid, times, status; no attendee data).
  response        jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, idempotency_key)
);

ALTER TABLE calcom_booking_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE calcom_booking_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY calcom_booking_requests_isolation ON calcom_booking_requests
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());
