-- The admin console (issue 14): people signed in through OpenID Connect.
--
-- Sign-in transactions and sessions are platform-scoped, like admin_tokens: they
-- are read before any tenant is known. Only hashes of the browser's cookies are
-- stored, so a database dump cannot be replayed as a session.

CREATE TABLE console_login_transactions (
  -- SHA-256 of the random value in the short-lived login cookie (binds the callback to the browser that started it).
  id_hash       bytea PRIMARY KEY,
  state         text NOT NULL,
  nonce         text NOT NULL,
  -- PKCE verifier, encrypted with the key ring (server/src/crypto/keyring.ts).
  code_verifier text NOT NULL CHECK (code_verifier LIKE 'v1.%'),
  return_to     text NOT NULL CHECK (return_to LIKE '/admin%'),
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX console_login_transactions_expiry ON console_login_transactions (expires_at);

CREATE TABLE console_sessions (
  id_hash        bytea PRIMARY KEY,
  -- The person's `sub` at the issuer: what the audit log records. No email, no name.
  subject        text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
  issuer         text NOT NULL,
  roles          text[] NOT NULL,
  -- For RP-initiated logout (id_token_hint), encrypted with the key ring.
  id_token       text CHECK (id_token LIKE 'v1.%'),
  created_at     timestamptz NOT NULL,
  last_seen_at   timestamptz NOT NULL,
  idle_expires_at timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

ALTER TABLE console_login_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE console_login_transactions FORCE ROW LEVEL SECURITY;
CREATE POLICY console_login_transactions_platform ON console_login_transactions
  USING (calbridge_platform_scope()) WITH CHECK (calbridge_platform_scope());

ALTER TABLE console_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE console_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY console_sessions_platform ON console_sessions
  USING (calbridge_platform_scope()) WITH CHECK (calbridge_platform_scope());

-- Every console action: who (issuer subject), what (method and route pattern,
-- never a URL: some carry an email), on which tenant, and the answer's status.
-- Actions on one tenant are that tenant's rows; actions on the directory
-- (creating a tenant, tokens) have no tenant and are read in platform scope.
CREATE TABLE console_audit_log (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
  at        timestamptz NOT NULL,
  subject   text NOT NULL,
  method    text NOT NULL CHECK (method IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
  route     text NOT NULL CHECK (length(route) <= 300),
  status    smallint NOT NULL
);
CREATE INDEX console_audit_log_by_tenant ON console_audit_log (tenant_id, id DESC);

ALTER TABLE console_audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE console_audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY console_audit_log_isolation ON console_audit_log
  USING (tenant_id = calbridge_current_tenant() OR (tenant_id IS NULL AND calbridge_platform_scope()))
  WITH CHECK (tenant_id = calbridge_current_tenant() OR (tenant_id IS NULL AND calbridge_platform_scope()));
REVOKE UPDATE, DELETE ON console_audit_log FROM calbridge_app;
GRANT SELECT, INSERT ON console_audit_log TO calbridge_app;

-- The GDPR audit log names the person when a console session acted.
ALTER TABLE gdpr_audit_log ADD COLUMN actor_subject text CHECK (length(actor_subject) <= 255);
ALTER TABLE gdpr_audit_log DROP CONSTRAINT gdpr_audit_log_actor_kind_check;
ALTER TABLE gdpr_audit_log ADD CONSTRAINT gdpr_audit_log_actor_kind_check
  CHECK (actor_kind IN ('admin_token', 'environment_token', 'scheduler', 'console_session'));
