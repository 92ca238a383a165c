-- Lead scoring and CRM hand-off (issue 7). Every table is tenant-owned and under RLS.
--
--   lead_rule_sets            a tenant's scoring rules, one row per version (PUT creates the next).
--                             No personal data.
--   leads                     one person per tenant, keyed by lower-cased email.
--                             PERSONAL DATA: email, name; explanation (may quote a booking
--                             answer the rule matched on); marketing_consent.
--   crm_destinations          where a tenant's leads go (signed webhook, HubSpot). No personal data.
--   crm_destination_secrets   per-destination secrets (whsec_…, HubSpot token), sealed with the
--                             key ring (purpose crm_destination_secret); several valid during rotation.
--   crm_messages              the outbox: one message per event and destination, in order per lead.
--                             PERSONAL DATA: payload (email, name, answers, UTM as consent allows).
--                             lead_id is not a foreign key, so a message outlives an erased lead;
--                             an erasure must scrub payloads WHERE lead_id = the lead.
--   crm_attempts              one row per delivery attempt: status code, outcome, short error code.
--                             No personal data (never a response body).
--
-- Export / erasure of a subject (GDPR): leads.email / leads.name, crm_messages.payload by lead_id.

CREATE TABLE lead_rule_sets (
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  version    integer NOT NULL CHECK (version >= 1),
  rules      jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, version)
);

ALTER TABLE lead_rule_sets ENABLE ROW LEVEL SECURITY;
ALTER TABLE lead_rule_sets FORCE ROW LEVEL SECURITY;
CREATE POLICY lead_rule_sets_isolation ON lead_rule_sets
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

CREATE TABLE leads (
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id                uuid NOT NULL DEFAULT gen_random_uuid(),
  email             text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  name              text,
  score             integer NOT NULL DEFAULT 0,
  grade             text,
  -- [{ ruleId, description, points, count }]: each rule that fired.
  explanation       jsonb NOT NULL DEFAULT '[]',
  -- The rule-set version the score comes from; 0 is the built-in default rule set.
  rule_set_version  integer NOT NULL DEFAULT 0,
  booking_count     integer NOT NULL DEFAULT 0,
  -- Whether the latest consent receipt grants the optional marketing purpose (follow_up).
  marketing_consent boolean NOT NULL DEFAULT false,
  scored_at         timestamptz,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT leads_email UNIQUE (tenant_id, email)
);
CREATE INDEX leads_by_score ON leads (tenant_id, score DESC, id);

ALTER TABLE leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE leads FORCE ROW LEVEL SECURITY;
CREATE POLICY leads_isolation ON leads
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

CREATE TABLE crm_destinations (
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  kind            text NOT NULL CHECK (kind IN ('webhook', 'hubspot')),
  url             text NOT NULL,
  -- NULL: every event type.
  events          text[],
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  -- Why it was disabled, e.g. 'gone' (the receiver answered 410) or 'admin'.
  disabled_reason text,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

ALTER TABLE crm_destinations ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_destinations FORCE ROW LEVEL SECURITY;
CREATE POLICY crm_destinations_isolation ON crm_destinations
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

CREATE TABLE crm_destination_secrets (
  tenant_id      uuid NOT NULL,
  id             uuid NOT NULL DEFAULT gen_random_uuid(),
  destination_id uuid NOT NULL,
  ciphertext     text NOT NULL,
  key_id         text NOT NULL,
  created_at     timestamptz NOT NULL,
  -- NULL while current; set when rotated out (valid until then, for the overlap).
  expires_at     timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, destination_id) REFERENCES crm_destinations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX crm_destination_secrets_by_destination ON crm_destination_secrets (tenant_id, destination_id);

ALTER TABLE crm_destination_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_destination_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY crm_destination_secrets_isolation ON crm_destination_secrets
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

CREATE TABLE crm_messages (
  tenant_id       uuid NOT NULL,
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  -- Global order of creation: messages of one order key go out in this order.
  seq             bigint GENERATED ALWAYS AS IDENTITY,
  destination_id  uuid NOT NULL,
  lead_id         uuid,
  -- Messages with the same key (the lead, or the message itself when there is no lead) go out one at a time, in seq order.
  order_key       text NOT NULL,
  event_type      text NOT NULL CHECK (event_type IN ('lead.created', 'lead.updated', 'booking.created', 'booking.cancelled', 'booking.rescheduled', 'subject.erased')),
  payload         jsonb NOT NULL,
  -- Makes a re-run of the job that created the message a no-op (NULL: never deduplicated).
  dedupe_key      text,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead', 'cancelled')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  -- A worker that took the message holds it until then; a crashed worker's lease simply runs out.
  lease_until     timestamptz,
  last_status     integer,
  last_error      text,
  created_at      timestamptz NOT NULL,
  delivered_at    timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, destination_id) REFERENCES crm_destinations (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX crm_messages_dedupe ON crm_messages (tenant_id, destination_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX crm_messages_order ON crm_messages (tenant_id, destination_id, order_key, seq) WHERE status = 'pending';
CREATE INDEX crm_messages_due ON crm_messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX crm_messages_by_lead ON crm_messages (tenant_id, lead_id);
CREATE INDEX crm_messages_recent ON crm_messages (tenant_id, seq DESC);

ALTER TABLE crm_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY crm_messages_isolation ON crm_messages
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

CREATE TABLE crm_attempts (
  tenant_id    uuid NOT NULL,
  id           bigint GENERATED ALWAYS AS IDENTITY,
  message_id   uuid NOT NULL,
  attempt      integer NOT NULL,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  -- HTTP status of the answer; NULL when none came (network error, timeout).
  status_code  integer,
  outcome      text NOT NULL CHECK (outcome IN ('in_flight', 'delivered', 'retry', 'gone', 'dead', 'abandoned')),
  -- A short code (e.g. 'timeout', 'network', 'http_503'); never a response body.
  error        text,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, message_id) REFERENCES crm_messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX crm_attempts_by_message ON crm_attempts (tenant_id, message_id, id);

ALTER TABLE crm_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY crm_attempts_isolation ON crm_attempts
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON lead_rule_sets, leads, crm_destinations, crm_destination_secrets, crm_messages, crm_attempts TO calbridge_app;
