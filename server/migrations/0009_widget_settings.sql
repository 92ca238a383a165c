-- Per-tenant widget settings (issue 5): consent wording, privacy policy URL, theme,
-- allowed modes and default event, set through the admin tenant API.
--
-- The settings live on the tenant row (already under RLS); only what the tenant set
-- is stored, the server fills in the defaults when it publishes the widget config.
ALTER TABLE tenants ADD COLUMN widget_settings jsonb NOT NULL DEFAULT '{}'
  CHECK (jsonb_typeof(widget_settings) = 'object');

-- Every consent wording a tenant has published, by version. A receipt stores the
-- version and the SHA-256 of the text; this table keeps the text itself, so what a
-- visitor agreed to can be shown later, and lets the server refuse a version that
-- is reused for different wording.
CREATE TABLE widget_consent_versions (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  version      text NOT NULL CHECK (length(version) BETWEEN 1 AND 64),
  text_sha256  text NOT NULL CHECK (text_sha256 ~ '^[0-9a-f]{64}$'),
  text         text NOT NULL,
  purposes     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version)
);

ALTER TABLE widget_consent_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE widget_consent_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY widget_consent_versions_isolation ON widget_consent_versions
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON widget_consent_versions TO calbridge_app;
