-- Indexes for agency size (issue 16): 1,000 tenants, a million bookings. Every read of a
-- tenant's rows runs under row-level security, whose qual is `tenant_id = <the tenant>`;
-- each index here leads with tenant_id so that qual is its first condition and a read
-- touches one tenant's rows only, however many the others have. Which statement each
-- serves is named; server/src/db/indexes.test.ts EXPLAINs them all on a seeded database.
-- (Plain CREATE INDEX: migrations run in a transaction. On a large live database, create
-- them CONCURRENTLY by hand first, same names, and this migration then finds them: see
-- README "Deploy", zero-downtime migrations.)

-- Retention: raw deliveries older than the cut-off (gdpr.repository enforceRetention).
CREATE INDEX IF NOT EXISTS webhook_inbox_tenant_received ON webhook_inbox (tenant_id, received_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_tenant_received ON webhook_deliveries (tenant_id, received_at);
-- GDPR export and retention: the log lines of given raw deliveries.
CREATE INDEX IF NOT EXISTS webhook_deliveries_tenant_inbox ON webhook_deliveries (tenant_id, inbox_id) WHERE inbox_id IS NOT NULL;

-- Retention: bookings whose last moment is before the cut-off (the expression of enforceRetention).
CREATE INDEX IF NOT EXISTS bookings_tenant_last_moment
  ON bookings (tenant_id, (greatest(coalesce(end_time, start_time, updated_at), updated_at)));

-- GDPR export, erasure and retention: native-mode booking requests of given bookings.
CREATE INDEX IF NOT EXISTS calcom_booking_requests_tenant_booking ON calcom_booking_requests (tenant_id, booking_uid) WHERE booking_uid IS NOT NULL;

-- Retention keeps a receipt while a booking links to it; the GDPR export follows the links.
CREATE INDEX IF NOT EXISTS observed_bookings_tenant_receipt ON observed_bookings (tenant_id, consent_receipt_id);
CREATE INDEX IF NOT EXISTS observed_bookings_tenant_session ON observed_bookings (tenant_id, session_id);

-- Erasure: the HubSpot contacts of given leads.
CREATE INDEX IF NOT EXISTS crm_hubspot_contacts_tenant_lead ON crm_hubspot_contacts (tenant_id, lead_id);
