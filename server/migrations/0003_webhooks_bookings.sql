-- Webhook intake and booking records (issue 4).
--
--   webhook_inbox       every verified, accepted delivery, raw bytes as signed,
--                       so a booking can be rebuilt from it. Its two unique
--                       keys are the delivery identity (SHA-256 of the body) and
--                       the event identity (trigger, booking uid, createdAt).
--   webhook_deliveries  one line per delivery whose tenant is known, whatever
--                       its outcome; never a body.
--   booking_events      each booking's history: every event, applied or not.
--   bookings            each booking's current state (the projection).
--
-- Everything is tenant-owned and under row-level security.

CREATE TABLE webhook_inbox (
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  body_sha256      bytea NOT NULL CHECK (length(body_sha256) = 32),
  trigger_event    text NOT NULL,
  -- The envelope's createdAt: Cal.com's time of the event.
  event_created_at timestamptz NOT NULL,
  -- NULL for triggers that are not about one booking (OOO_CREATED, FORM_SUBMITTED…).
  booking_uid      text,
  received_at      timestamptz NOT NULL,
  body             bytea NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT webhook_inbox_delivery_identity UNIQUE (tenant_id, body_sha256),
  -- NULL booking uids never collide: such events are identified by their body alone.
  CONSTRAINT webhook_inbox_event_identity UNIQUE (tenant_id, trigger_event, booking_uid, event_created_at)
);
CREATE INDEX webhook_inbox_booking ON webhook_inbox (tenant_id, booking_uid) WHERE booking_uid IS NOT NULL;
CREATE INDEX webhook_inbox_event_time ON webhook_inbox (event_created_at);

ALTER TABLE webhook_inbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_inbox FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_inbox_isolation ON webhook_inbox
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

CREATE TABLE webhook_deliveries (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  received_at   timestamptz NOT NULL,
  -- Known once the body was verified and read; NULL otherwise.
  trigger_event text,
  outcome       text NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'stale', 'rejected')),
  -- The problem code of a refused delivery; NULL when accepted or duplicate.
  code          text,
  inbox_id      uuid
);
CREATE INDEX webhook_deliveries_by_tenant ON webhook_deliveries (tenant_id, id DESC);

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_isolation ON webhook_deliveries
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

CREATE TABLE booking_events (
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  booking_uid   text NOT NULL,
  trigger_event text NOT NULL,
  occurred_at   timestamptz NOT NULL,
  -- Orders events of the same instant: terminal states win ties.
  rank          smallint NOT NULL,
  source        text NOT NULL CHECK (source IN ('webhook', 'reconciliation')),
  inbox_id      uuid,
  -- The status this event reports, lower case; NULL for events without one.
  status        text,
  recorded_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT booking_events_identity UNIQUE (tenant_id, booking_uid, trigger_event, occurred_at)
);
CREATE INDEX booking_events_history ON booking_events (tenant_id, booking_uid, occurred_at);

ALTER TABLE booking_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_events FORCE ROW LEVEL SECURITY;
CREATE POLICY booking_events_isolation ON booking_events
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

CREATE TABLE bookings (
  tenant_id            uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  uid                  text NOT NULL,
  calcom_id            integer,
  status               text NOT NULL CHECK (status IN ('accepted', 'pending', 'cancelled', 'rejected', 'awaiting_host')),
  title                text,
  start_time           timestamptz,
  end_time             timestamptz,
  event_type_id        integer,
  attendees            jsonb NOT NULL DEFAULT '[]',
  -- Lower-cased attendee emails, for the admin filter.
  attendee_emails      text[] NOT NULL DEFAULT '{}',
  organizer            jsonb,
  metadata             jsonb,
  rescheduled_from_uid text,
  rescheduled_to_uid   text,
  cancellation_reason  text,
  meeting_started_at   timestamptz,
  meeting_ended_at     timestamptz,
  -- The event the state comes from: newer events move it, older ones only fill gaps.
  state_at             timestamptz NOT NULL,
  state_rank           smallint NOT NULL,
  state_event_id       uuid NOT NULL,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, uid)
);
CREATE INDEX bookings_by_start ON bookings (tenant_id, (coalesce(start_time, '-infinity'::timestamptz)), uid);
CREATE INDEX bookings_by_email ON bookings USING gin (attendee_emails);

ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
ALTER TABLE bookings FORCE ROW LEVEL SECURITY;
CREATE POLICY bookings_isolation ON bookings
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_inbox, webhook_deliveries, booking_events, bookings TO calbridge_app;
