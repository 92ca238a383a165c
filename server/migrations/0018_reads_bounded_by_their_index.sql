-- Admin reads and retention whose index bounds the scan, not just the tenant (issue 16, decision 0029).
-- Under row-level security every read had an index leading with tenant_id, yet at a thousand
-- bookings per tenant several read all of the tenant's rows and filtered them. PostgreSQL uses a
-- condition as an index condition under RLS only when it is leakproof (it may then run before the
-- policy's): an operator marked leakproof on plain columns. Function calls such as coalesce() and
-- greatest() in an indexed expression, and arraycontains (`@>`), are not, so the expression indexes
-- of 0003 and 0017b served only their tenant_id column, and the GIN index on attendee emails none.

-- Bookings in the list's order, on the plain column: `start_time NULLS FIRST, uid` is the order
-- `coalesce(start_time, '-infinity'), uid` gave, and `start_time >= …`, `start_time < …` and the
-- keyset position `(start_time, uid) > (…)` are leakproof index conditions (bookings.repository.ts
-- listBookings). Replaces bookings_by_start (0003), whose coalesce() expression could not be one.
CREATE INDEX IF NOT EXISTS bookings_by_start_time ON bookings (tenant_id, start_time NULLS FIRST, uid);
DROP INDEX IF EXISTS bookings_by_start;
-- The same, filtered by status (texteq, leakproof): a page reads its 50 rows, and a status no
-- booking has reads none.
CREATE INDEX IF NOT EXISTS bookings_by_status ON bookings (tenant_id, status, start_time NULLS FIRST, uid);

-- Retention: `greatest(coalesce(end_time, start_time, updated_at), updated_at) < $1` is
-- `updated_at < $1 AND coalesce(end_time, start_time, updated_at) < $1`; the first half is a
-- leakproof condition on a plain column (gdpr.repository.ts enforceRetention). Replaces
-- bookings_tenant_last_moment (0017b), an expression index only its tenant_id column served.
CREATE INDEX IF NOT EXISTS bookings_tenant_updated ON bookings (tenant_id, updated_at);
DROP INDEX IF EXISTS bookings_tenant_last_moment;

-- Leads in both orders the admin API offers, read straight off the index with no sort:
-- score (descending, then id descending; ascending when scanned backwards) and creation time.
-- The index of 0006 had `score DESC, id` (id ascending), which matches neither order.
CREATE INDEX IF NOT EXISTS leads_by_score_desc ON leads (tenant_id, score DESC, id DESC);
DROP INDEX IF EXISTS leads_by_score;
CREATE INDEX IF NOT EXISTS leads_by_created ON leads (tenant_id, created_at, id);

-- The attendee email filter. `attendee_emails @> ARRAY[$1]` cannot use an index under row-level
-- security: arraycontains is not leakproof, and PostgreSQL evaluates a qual that is not leakproof
-- only after the policy's, never as an index condition (so the GIN index of 0003 was never used by
-- the app, and every booking write paid for it). Each booking's lower-cased attendee addresses are
-- kept here instead, one row each, by triggers on bookings (every writer: the projection,
-- erasure, retention, the seed): `email = $1` (texteq) is leakproof, so the lookup is an index
-- condition after tenant_id.
CREATE TABLE IF NOT EXISTS booking_emails (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email       text NOT NULL,
  booking_uid text NOT NULL,
  PRIMARY KEY (tenant_id, email, booking_uid)
);

CREATE FUNCTION calbridge_booking_emails_insert() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO booking_emails (tenant_id, email, booking_uid)
  SELECT NEW.tenant_id, e, NEW.uid FROM unnest(NEW.attendee_emails) e
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

CREATE FUNCTION calbridge_booking_emails_update() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM booking_emails
   WHERE tenant_id = OLD.tenant_id AND booking_uid = OLD.uid
     AND email = ANY (OLD.attendee_emails) AND NOT email = ANY (NEW.attendee_emails);
  INSERT INTO booking_emails (tenant_id, email, booking_uid)
  SELECT NEW.tenant_id, e, NEW.uid FROM unnest(NEW.attendee_emails) e
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

CREATE FUNCTION calbridge_booking_emails_delete() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM booking_emails WHERE tenant_id = OLD.tenant_id AND booking_uid = OLD.uid AND email = ANY (OLD.attendee_emails);
  RETURN NULL;
END
$$;

CREATE TRIGGER booking_emails_insert AFTER INSERT ON bookings
  FOR EACH ROW WHEN (cardinality(NEW.attendee_emails) > 0) EXECUTE FUNCTION calbridge_booking_emails_insert();
-- The WHEN is checked without calling the function: an update that leaves the addresses alone
-- (status, times, metadata: nearly all of them) costs nothing here.
CREATE TRIGGER booking_emails_update AFTER UPDATE OF attendee_emails ON bookings
  FOR EACH ROW WHEN (OLD.attendee_emails IS DISTINCT FROM NEW.attendee_emails) EXECUTE FUNCTION calbridge_booking_emails_update();
CREATE TRIGGER booking_emails_delete AFTER DELETE ON bookings
  FOR EACH ROW WHEN (cardinality(OLD.attendee_emails) > 0) EXECUTE FUNCTION calbridge_booking_emails_delete();

ALTER TABLE booking_emails ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_emails FORCE ROW LEVEL SECURITY;
CREATE POLICY booking_emails_isolation ON booking_emails
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON booking_emails TO calbridge_app;

-- The addresses of the bookings already stored, tenant by tenant under the policies (the owner
-- running this is subject to them: FORCE), so no lock beyond the triggers' is taken on bookings.
-- New writes are caught by the triggers above from here on; ON CONFLICT skips what they wrote.
DO $$
DECLARE
  t uuid;
BEGIN
  PERFORM set_config('app.scope', 'platform', true);
  FOR t IN SELECT id FROM tenants LOOP
    PERFORM set_config('app.tenant_id', t::text, true);
    INSERT INTO booking_emails (tenant_id, email, booking_uid)
    -- The policy's condition, stated too: a superuser (or BYPASSRLS) owner is not subject to it.
    SELECT tenant_id, e, uid FROM bookings, unnest(attendee_emails) e WHERE tenant_id = t
    ON CONFLICT DO NOTHING;
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
  PERFORM set_config('app.scope', '', true);
END
$$;

DROP INDEX IF EXISTS bookings_by_email;
