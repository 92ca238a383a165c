-- Widget sessions (issue 5): consent receipts, bookings the embed reported, and
-- rate-limit counters shared by every server instance. All tenant-owned, all under RLS.

CREATE TABLE consent_receipts (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id           uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- The session the receipt was minted with (the token's `sub`).
  session_id          uuid NOT NULL UNIQUE,
  consent_version     text NOT NULL,
  -- SHA-256 (hex) of the exact consent text shown, so the version can be proven later.
  consent_text_sha256 text NOT NULL CHECK (consent_text_sha256 ~ '^[0-9a-f]{64}$'),
  purposes            text[] NOT NULL,
  page_origin         text NOT NULL,
  page_url            text NOT NULL,
  referrer            text NOT NULL DEFAULT '',
  utm                 jsonb NOT NULL DEFAULT '{}',
  -- IPv4 truncated to /24, IPv6 to /48; never the full address.
  ip_prefix           text NOT NULL,
  -- Browser family only (e.g. "Chrome"), never the full user-agent string.
  user_agent_family   text NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_receipts_tenant_time ON consent_receipts (tenant_id, created_at DESC);

ALTER TABLE consent_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE consent_receipts FORCE ROW LEVEL SECURITY;
CREATE POLICY consent_receipts_isolation ON consent_receipts
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

CREATE TABLE observed_bookings (
  tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  uid                text NOT NULL CHECK (length(uid) BETWEEN 1 AND 100),
  session_id         uuid NOT NULL,
  consent_receipt_id uuid NOT NULL REFERENCES consent_receipts(id) ON DELETE CASCADE,
  start_time         timestamptz,
  end_time           timestamptz,
  event_type_id      integer,
  event_type         text,
  status             text,
  observed_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, uid)
);

ALTER TABLE observed_bookings ENABLE ROW LEVEL SECURITY;
ALTER TABLE observed_bookings FORCE ROW LEVEL SECURITY;
CREATE POLICY observed_bookings_isolation ON observed_bookings
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

-- Fixed-window counters: one row per tenant, bucket (e.g. "ip:203.0.113.0/24" or "tenant") and window.
CREATE TABLE widget_rate_limits (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  bucket       text NOT NULL,
  window_start timestamptz NOT NULL,
  hits         integer NOT NULL,
  PRIMARY KEY (tenant_id, bucket, window_start)
);

ALTER TABLE widget_rate_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE widget_rate_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY widget_rate_limits_isolation ON widget_rate_limits
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON consent_receipts, observed_bookings, widget_rate_limits TO calbridge_app;
