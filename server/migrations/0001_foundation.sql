-- Foundation: the run-time role, tenants, their encrypted secrets and admin tokens.
--
-- Two roles: whoever runs this (the owner) and calbridge_app, which the server
-- switches to for every query at run time. calbridge_app is subject to row-level
-- security; FORCE makes the owner subject to it too, so only a superuser or a
-- BYPASSRLS role reads across tenants.
--
-- The policies read two settings, both set with set_config(..., true) inside a
-- transaction so they end with it:
--   app.tenant_id  the tenant a transaction works for (withTenant)
--   app.scope      'platform' only while resolving tenants and admin tokens
--                  (withPlatform); it never opens tenant-owned data tables.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'calbridge_app') THEN
    CREATE ROLE calbridge_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  -- Another database in the same cluster created it at the same moment.
  NULL;
END
$$;

DO $$
BEGIN
  EXECUTE format('GRANT calbridge_app TO %I', current_user);
EXCEPTION WHEN duplicate_object OR invalid_grant_operation THEN
  NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO calbridge_app;

CREATE FUNCTION calbridge_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION calbridge_platform_scope() RETURNS boolean
  LANGUAGE sql STABLE
  AS $$ SELECT coalesce(current_setting('app.scope', true), '') = 'platform' $$;

CREATE TABLE tenants (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug            text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  allowed_origins text[] NOT NULL DEFAULT '{}',
  cal_link        text,
  time_zone       text NOT NULL DEFAULT 'UTC',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_isolation ON tenants
  USING (id = calbridge_current_tenant() OR calbridge_platform_scope())
  WITH CHECK (id = calbridge_current_tenant() OR calbridge_platform_scope());

CREATE TABLE tenant_secrets (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind        text NOT NULL,
  -- AES-256-GCM, see server/src/crypto/keyring.ts. Never plaintext.
  ciphertext  text NOT NULL CHECK (ciphertext LIKE 'v1.%'),
  key_id      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- A rotated-out secret keeps verifying until this moment (grace period).
  expires_at  timestamptz
);
CREATE INDEX tenant_secrets_lookup ON tenant_secrets (tenant_id, kind, created_at DESC);

ALTER TABLE tenant_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_secrets_isolation ON tenant_secrets
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

CREATE TABLE admin_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- NULL: the token reaches every tenant.
  tenant_id    uuid REFERENCES tenants(id) ON DELETE CASCADE,
  token_hash   bytea NOT NULL UNIQUE,
  label        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);

ALTER TABLE admin_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE admin_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY admin_tokens_isolation ON admin_tokens
  USING (tenant_id = calbridge_current_tenant() OR calbridge_platform_scope())
  WITH CHECK (tenant_id = calbridge_current_tenant() OR calbridge_platform_scope());

GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, tenant_secrets, admin_tokens TO calbridge_app;

-- Tables made by later migrations are usable by the run-time role; each of them
-- still declares its own row-level security (a test checks every table that has
-- a tenant_id column).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO calbridge_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO calbridge_app;
