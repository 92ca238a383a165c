-- Consent that cannot be forged (issue 13, finding 1; docs/security.md).
--
-- A widget session now carries a nonce the browser made; the server keeps only its SHA-256.
-- The widget puts the nonce in the booking's metadata (`cb_nonce`), and the webhook that
-- brings the booking back proves the booking came through that session. Only such a proof
-- (or the server having made the booking itself, native mode) links a consent receipt to a
-- booking: booking_consent_links. A page's report (observed_bookings) is kept as a hint only,
-- one row per booking per session, and no longer decides anything.

ALTER TABLE consent_receipts
  ADD COLUMN nonce_sha256   bytea CHECK (nonce_sha256 IS NULL OR length(nonce_sha256) = 32),
  -- Where the consent came from: the widget's consent step, grantConsent(), a TCF CMP, Google Consent Mode.
  ADD COLUMN consent_source text NOT NULL DEFAULT 'widget' CHECK (consent_source IN ('widget', 'api', 'tcf', 'gcm')),
  -- Ad click identifiers of the host page (gclid, fbclid), kept like UTM values for attribution.
  ADD COLUMN click_ids      jsonb NOT NULL DEFAULT '{}';
CREATE UNIQUE INDEX consent_receipts_nonce ON consent_receipts (tenant_id, nonce_sha256) WHERE nonce_sha256 IS NOT NULL;

-- The observed report becomes a hint: every session may report a booking once, none overrides another.
ALTER TABLE observed_bookings DROP CONSTRAINT observed_bookings_pkey;
ALTER TABLE observed_bookings ADD PRIMARY KEY (tenant_id, uid, session_id);
CREATE INDEX observed_bookings_session ON observed_bookings (tenant_id, session_id);

CREATE TABLE booking_consent_links (
  tenant_id          uuid NOT NULL,
  booking_uid        text NOT NULL,
  consent_receipt_id uuid NOT NULL,
  session_id         uuid NOT NULL,
  -- booking_nonce: the booking's own metadata carried the session's nonce (webhook or reconciliation);
  -- native_booking: our server made the booking through Cal.com under that session.
  linked_by          text NOT NULL CHECK (linked_by IN ('booking_nonce', 'native_booking')),
  linked_at          timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, booking_uid),
  FOREIGN KEY (tenant_id, booking_uid) REFERENCES bookings (tenant_id, uid) ON DELETE CASCADE,
  FOREIGN KEY (consent_receipt_id) REFERENCES consent_receipts (id) ON DELETE CASCADE
);
CREATE INDEX booking_consent_links_session ON booking_consent_links (tenant_id, session_id);
CREATE INDEX booking_consent_links_receipt ON booking_consent_links (consent_receipt_id);

ALTER TABLE booking_consent_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_consent_links FORCE ROW LEVEL SECURITY;
CREATE POLICY booking_consent_links_isolation ON booking_consent_links
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON booking_consent_links TO calbridge_app;
