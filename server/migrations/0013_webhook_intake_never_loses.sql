-- Webhook intake that never loses a verified delivery (issue 11, issue 13 findings 5 and 6).
--
-- Cal.com never resends a delivery we answered with an HTTP error, so every
-- delivery whose signature verifies is stored, whatever its shape. One that
-- cannot be applied to the bookings yet stays in the inbox as `unprocessed`
-- with a reason and the version of the processor that tried; a later
-- processor (after an upgrade) or an operator (reprocess endpoint) applies it.
--
-- The body stays raw bytes (bytea): PostgreSQL text and jsonb cannot hold
-- U+0000 or lone surrogates, and the bytes are what Cal.com signed.

ALTER TABLE webhook_inbox
  ALTER COLUMN trigger_event DROP NOT NULL,
  ALTER COLUMN event_created_at DROP NOT NULL,
  ADD COLUMN status text NOT NULL DEFAULT 'processed' CHECK (status IN ('processed', 'unprocessed')),
  -- Why it could not be applied (a short code and detail we write, never body text).
  ADD COLUMN reason text CHECK (length(reason) <= 1000),
  -- The intake's processor version that last tried it (see WEBHOOK_PROCESSOR_VERSION).
  ADD COLUMN processor_version integer NOT NULL DEFAULT 1,
  ADD COLUMN processed_at timestamptz;

CREATE INDEX webhook_inbox_unprocessed ON webhook_inbox (tenant_id, processor_version) WHERE status = 'unprocessed';

-- A rejected booking's reason (Cal.com's `rejectionReason`), and the calendar
-- identity Cal.com keeps across reschedules (`iCalUID`, `iCalSequence`), which
-- names the original of a reschedule that awaits confirmation.
ALTER TABLE bookings
  ADD COLUMN rejection_reason text,
  ADD COLUMN ical_uid text,
  ADD COLUMN ical_sequence integer;

CREATE INDEX bookings_by_ical_uid ON bookings (tenant_id, ical_uid) WHERE ical_uid IS NOT NULL;
