-- GDPR (issue 8): erasure receipts, erased-subject recognition, retention
-- policy and runs, and an audit log of every export and erasure. All
-- tenant-owned and under row-level security.
--
-- Where personal data lives before this migration (every column that can hold
-- an email, a name or attendee free text):
--   webhook_inbox.body              raw Cal.com bodies: attendees, responses, notes, title, metadata
--   bookings.attendees              names, emails, time zones
--   bookings.attendee_emails        lower-cased emails
--   bookings.organizer              the host (name, email)
--   bookings.title                  usually "<event> between <host> and <attendee name>"
--   bookings.metadata               booking metadata (free text)
--   bookings.cancellation_reason    free text
--   consent_receipts.page_url, .referrer, .utm   whatever the host page put in its URL
--   calcom_booking_requests.idempotency_key, .response   client-chosen key, our answer
-- No email, name or free text: webhook_deliveries, booking_events,
-- observed_bookings (uid, session, times, event type slug), widget_rate_limits.
-- Nothing here stores an email or a name: subjects are known by a salted
-- HMAC-SHA256 (per-tenant salt sealed in tenant_secrets, kind 'gdpr_subject_salt').

-- Consent receipts are immutable. The one change allowed is the one-time
-- redaction an erasure makes (URL query and fragment, referrer and UTM values
-- can carry personal data the host page put there); every proof field stays.
ALTER TABLE consent_receipts ADD COLUMN redacted_at timestamptz;

CREATE FUNCTION calbridge_consent_receipts_immutable() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
  BEGIN
    IF OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
       AND NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.session_id = OLD.session_id
       AND NEW.consent_version = OLD.consent_version AND NEW.consent_text_sha256 = OLD.consent_text_sha256
       AND NEW.purposes = OLD.purposes AND NEW.page_origin = OLD.page_origin AND NEW.ip_prefix = OLD.ip_prefix
       AND NEW.user_agent_family = OLD.user_agent_family AND NEW.created_at = OLD.created_at THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'consent receipts are immutable' USING ERRCODE = 'integrity_constraint_violation';
  END
  $$;

CREATE TRIGGER consent_receipts_immutable BEFORE UPDATE ON consent_receipts
  FOR EACH ROW EXECUTE FUNCTION calbridge_consent_receipts_immutable();

-- Per-tenant policy. Bounds are checked by the API too (shared/src/gdpr.schema.ts);
-- these keep the table honest whatever writes it. See docs/decisions/0005-retention.md.
CREATE TABLE gdpr_policies (
  tenant_id                         uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  raw_delivery_days                 integer NOT NULL CHECK (raw_delivery_days BETWEEN 7 AND 3650),
  booking_days                      integer NOT NULL CHECK (booking_days BETWEEN 30 AND 3650),
  consent_receipt_days              integer NOT NULL CHECK (consent_receipt_days BETWEEN 365 AND 3650),
  -- Default of an erasure's cancelFutureBookings flag.
  cancel_future_bookings_on_erasure boolean NOT NULL DEFAULT false,
  updated_at                        timestamptz NOT NULL,
  CHECK (raw_delivery_days <= booking_days),
  CHECK (consent_receipt_days >= booking_days)
);

ALTER TABLE gdpr_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY gdpr_policies_isolation ON gdpr_policies
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

-- One row per retention run of a tenant: the cut-offs used and what was removed where.
CREATE TABLE retention_runs (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  ran_at      timestamptz NOT NULL,
  cutoffs     jsonb NOT NULL,
  counts      jsonb NOT NULL
);
CREATE INDEX retention_runs_latest ON retention_runs (tenant_id, ran_at DESC);

ALTER TABLE retention_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY retention_runs_isolation ON retention_runs
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

-- What an erasure did, kept so it can be shown later. No email, no name: the
-- subject is its salted hash.
CREATE TABLE erasure_receipts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  subject_ref   text NOT NULL CHECK (subject_ref ~ '^[0-9a-f]{64}$'),
  -- Admin token id; NULL for the environment's admin token.
  requested_by  uuid,
  erased_at     timestamptz NOT NULL,
  counts        jsonb NOT NULL,
  calcom        jsonb NOT NULL,
  crm           jsonb NOT NULL
);
CREATE INDEX erasure_receipts_by_subject ON erasure_receipts (tenant_id, subject_ref);

ALTER TABLE erasure_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE erasure_receipts FORCE ROW LEVEL SECURITY;
CREATE POLICY erasure_receipts_isolation ON erasure_receipts
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

-- Erased people, recognised by salted hash only: a later delivery about one of
-- them is stored pseudonymised.
CREATE TABLE erased_subjects (
  tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  subject_hash bytea NOT NULL CHECK (length(subject_hash) = 32),
  erased_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, subject_hash)
);

ALTER TABLE erased_subjects ENABLE ROW LEVEL SECURITY;
ALTER TABLE erased_subjects FORCE ROW LEVEL SECURITY;
CREATE POLICY erased_subjects_isolation ON erased_subjects
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

-- Every export, erasure and policy change: who, when, what, counts. Never
-- personal data (the subject, when there is one, is its salted hash).
CREATE TABLE gdpr_audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  at          timestamptz NOT NULL,
  -- Admin token id; NULL for the environment's admin token or the scheduler.
  actor_token uuid,
  actor_kind  text NOT NULL CHECK (actor_kind IN ('admin_token', 'environment_token', 'scheduler')),
  action      text NOT NULL CHECK (action IN ('subject.export', 'subject.erase', 'consents.list', 'retention.update', 'retention.run')),
  subject_ref text CHECK (subject_ref ~ '^[0-9a-f]{64}$'),
  details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX gdpr_audit_log_by_tenant ON gdpr_audit_log (tenant_id, id DESC);

ALTER TABLE gdpr_audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE gdpr_audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY gdpr_audit_log_isolation ON gdpr_audit_log
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

-- Append-only for the run-time role: receipts and the audit trail are evidence.
GRANT SELECT, INSERT, UPDATE, DELETE ON gdpr_policies, retention_runs, erased_subjects TO calbridge_app;
REVOKE UPDATE, DELETE ON erasure_receipts, gdpr_audit_log FROM calbridge_app;
GRANT SELECT, INSERT ON erasure_receipts, gdpr_audit_log TO calbridge_app;
-- Cal.com cancellations are recorded on the receipt after the erasure committed.
GRANT UPDATE (calcom) ON erasure_receipts TO calbridge_app;
