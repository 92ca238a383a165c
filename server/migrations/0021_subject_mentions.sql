-- Where each person is mentioned, so a GDPR export or erasure reads the person's rows and not the
-- whole tenant (issue 16, decision 0037). The export searches free text (raw deliveries, payloads,
-- titles, metadata, URLs) for the address as a whole word (gdpr.repository.ts emailPattern); no
-- index serves a regular expression under row-level security (`~` is not leakproof, so it can only
-- filter rows the policy already let through), so it read every row of the tenant: 57 ms of
-- database time per export at 1,000 bookings a tenant, growing with the tenant.
--
-- Now every write of those columns records, in the same statement (a trigger: no writer can forget,
-- and no extra round trip), a short key for each address the text mentions. The export looks the
-- person's key up by index (bytea equality is leakproof) and runs the same regular expression as
-- before on those rows only, so it returns exactly what it did.
--
-- The key of a text: in each run of address characters and '@' (EMAIL_CHAR of gdpr.repository.ts),
-- for each '@' with characters on both sides, the characters before it, '@', and the first label
-- of those after it ('ann@example' for 'ann@example.com.'), hashed to 8 bytes. Any text in which
-- the regular expression finds an address contains that address's key (the address sits in one run,
-- its '@' between the same neighbours), so the lookup misses nothing; 'ann@example.community' shares
-- the key and is dropped by the regular expression. A hash, not the address: the table is an index,
-- not another copy of personal data, and a row's keys go when the row goes or is rewritten.

-- PL/pgSQL, not SQL: a SQL function that cannot be inlined is planned again at every call from a
-- trigger (PostgreSQL 17 keeps no plan for it), which made each indexed row cost ~150 µs; PL/pgSQL
-- keeps its query's plan for the session.
CREATE FUNCTION calbridge_mention_keys(t text) RETURNS bytea[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
  RETURN ARRAY(
    SELECT DISTINCT substr(sha256(convert_to(s[i] || '@' || split_part(s[i + 1], '.', 1), 'UTF8')), 1, 8)
      FROM regexp_matches(t, '[a-z0-9._%+''@-]*@[a-z0-9._%+''@-]*', 'g') AS run,
           string_to_array(run[1], '@') AS s,
           generate_series(1, cardinality(s) - 1) AS i
     WHERE s[i] <> '' AND split_part(s[i + 1], '.', 1) <> '');
END
$$;

CREATE TABLE subject_mentions (
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  mention   bytea NOT NULL CHECK (length(mention) = 8),
  -- The table the row is in, and the row's key there.
  source    text NOT NULL CHECK (source IN ('bookings', 'webhook_inbox', 'consent_receipts', 'calcom_booking_requests', 'leads', 'crm_messages')),
  row_key   text NOT NULL
);
-- One index, not unique: it serves the export's lookup and the trigger's removal of a row's keys
-- (by the keys of the row's old text, recomputed). Not unique, so an insert needs no conflict check
-- (a quarter of the trigger's cost) and can never fail the write it indexes: a duplicate, which only
-- a row removed without its triggers (TRUNCATE) could leave behind, costs nothing but a row.
CREATE INDEX subject_mentions_lookup ON subject_mentions (tenant_id, mention, source, row_key);

ALTER TABLE subject_mentions ENABLE ROW LEVEL SECURITY;
ALTER TABLE subject_mentions FORCE ROW LEVEL SECURITY;
CREATE POLICY subject_mentions_isolation ON subject_mentions
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

-- The text each table's export search reads, lower-cased as it reads it (one function per row
-- type; the trigger below calls it with NEW or OLD). Separated by spaces: no address spans two.
-- STABLE, as concat_ws and array_to_string are: a SQL function is inlined into the calling query
-- only when its body is no more volatile than it claims, and one that is not is planned again at
-- every call (a booking's row cost ~170 µs more to write that way).
CREATE FUNCTION calbridge_mention_text(r bookings) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT lower(concat_ws(' ', r.attendees::text, array_to_string(r.attendee_emails, ' '), r.organizer::text, r.metadata::text,
                         r.title, r.cancellation_reason, r.rejection_reason))
$$;
CREATE FUNCTION calbridge_mention_row(r bookings) RETURNS text LANGUAGE sql STABLE AS $$ SELECT r.uid $$;

-- Raw bodies as the export reads them: escape-encoded (bytes that are not ASCII become \ooo), so
-- bodies that are not UTF-8 are indexed too; the export hashes the address encoded the same way.
CREATE FUNCTION calbridge_mention_text(r webhook_inbox) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT lower(encode(r.body, 'escape'))
$$;
CREATE FUNCTION calbridge_mention_row(r webhook_inbox) RETURNS text LANGUAGE sql STABLE AS $$ SELECT r.id::text $$;

CREATE FUNCTION calbridge_mention_text(r consent_receipts) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT lower(concat_ws(' ', r.page_url, r.referrer, r.utm::text))
$$;
CREATE FUNCTION calbridge_mention_row(r consent_receipts) RETURNS text LANGUAGE sql STABLE AS $$ SELECT r.id::text $$;

CREATE FUNCTION calbridge_mention_text(r calcom_booking_requests) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT lower(concat_ws(' ', r.idempotency_key, r.response::text))
$$;
CREATE FUNCTION calbridge_mention_row(r calcom_booking_requests) RETURNS text LANGUAGE sql STABLE AS $$ SELECT r.idempotency_key $$;

CREATE FUNCTION calbridge_mention_text(r leads) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT lower(concat_ws(' ', r.email, r.explanation::text))
$$;
CREATE FUNCTION calbridge_mention_row(r leads) RETURNS text LANGUAGE sql STABLE AS $$ SELECT r.id::text $$;

CREATE FUNCTION calbridge_mention_text(r crm_messages) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT lower(r.payload::text)
$$;
CREATE FUNCTION calbridge_mention_row(r crm_messages) RETURNS text LANGUAGE sql STABLE AS $$ SELECT r.id::text $$;

-- One trigger function for the six tables: PL/pgSQL compiles a trigger function once per trigger,
-- so calbridge_mention_text(NEW) resolves to the table's own. Runs as the writer, under the
-- writer's tenant (the policy's WITH CHECK holds: a row and its keys share the tenant). A row's
-- keys are removed by recomputing them from its old text, so a later migration that changes what
-- calbridge_mention_text reads must rebuild the table.
CREATE FUNCTION calbridge_index_mentions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  src constant text := TG_ARGV[0];
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM subject_mentions
     WHERE tenant_id = OLD.tenant_id AND mention = ANY(calbridge_mention_keys(calbridge_mention_text(OLD)))
       AND source = src AND row_key = calbridge_mention_row(OLD);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO subject_mentions (tenant_id, mention, source, row_key)
    SELECT NEW.tenant_id, k, src, calbridge_mention_row(NEW) FROM unnest(calbridge_mention_keys(calbridge_mention_text(NEW))) AS k;
  END IF;
  RETURN NULL;
END
$$;

-- Updates run the function only when a searched column changed (WHEN is checked without calling
-- it): the intake rewrites a booking's row at every delivery, mostly with the same people in it.
CREATE TRIGGER bookings_mentions AFTER INSERT OR DELETE ON bookings FOR EACH ROW EXECUTE FUNCTION calbridge_index_mentions('bookings');
CREATE TRIGGER bookings_mentions_update AFTER UPDATE ON bookings FOR EACH ROW
  WHEN ((OLD.tenant_id, OLD.uid, OLD.attendees, OLD.attendee_emails, OLD.organizer, OLD.metadata, OLD.title, OLD.cancellation_reason, OLD.rejection_reason)
        IS DISTINCT FROM (NEW.tenant_id, NEW.uid, NEW.attendees, NEW.attendee_emails, NEW.organizer, NEW.metadata, NEW.title, NEW.cancellation_reason, NEW.rejection_reason))
  EXECUTE FUNCTION calbridge_index_mentions('bookings');
CREATE TRIGGER webhook_inbox_mentions AFTER INSERT OR DELETE ON webhook_inbox FOR EACH ROW EXECUTE FUNCTION calbridge_index_mentions('webhook_inbox');
CREATE TRIGGER webhook_inbox_mentions_update AFTER UPDATE ON webhook_inbox FOR EACH ROW
  WHEN ((OLD.tenant_id, OLD.id, OLD.body) IS DISTINCT FROM (NEW.tenant_id, NEW.id, NEW.body))
  EXECUTE FUNCTION calbridge_index_mentions('webhook_inbox');
CREATE TRIGGER consent_receipts_mentions AFTER INSERT OR DELETE ON consent_receipts FOR EACH ROW EXECUTE FUNCTION calbridge_index_mentions('consent_receipts');
CREATE TRIGGER consent_receipts_mentions_update AFTER UPDATE ON consent_receipts FOR EACH ROW
  WHEN ((OLD.tenant_id, OLD.id, OLD.page_url, OLD.referrer, OLD.utm) IS DISTINCT FROM (NEW.tenant_id, NEW.id, NEW.page_url, NEW.referrer, NEW.utm))
  EXECUTE FUNCTION calbridge_index_mentions('consent_receipts');
CREATE TRIGGER calcom_booking_requests_mentions AFTER INSERT OR DELETE ON calcom_booking_requests FOR EACH ROW EXECUTE FUNCTION calbridge_index_mentions('calcom_booking_requests');
CREATE TRIGGER calcom_booking_requests_mentions_update AFTER UPDATE ON calcom_booking_requests FOR EACH ROW
  WHEN ((OLD.tenant_id, OLD.idempotency_key, OLD.response) IS DISTINCT FROM (NEW.tenant_id, NEW.idempotency_key, NEW.response))
  EXECUTE FUNCTION calbridge_index_mentions('calcom_booking_requests');
CREATE TRIGGER leads_mentions AFTER INSERT OR DELETE ON leads FOR EACH ROW EXECUTE FUNCTION calbridge_index_mentions('leads');
CREATE TRIGGER leads_mentions_update AFTER UPDATE ON leads FOR EACH ROW
  WHEN ((OLD.tenant_id, OLD.id, OLD.email, OLD.explanation) IS DISTINCT FROM (NEW.tenant_id, NEW.id, NEW.email, NEW.explanation))
  EXECUTE FUNCTION calbridge_index_mentions('leads');
CREATE TRIGGER crm_messages_mentions AFTER INSERT OR DELETE ON crm_messages FOR EACH ROW EXECUTE FUNCTION calbridge_index_mentions('crm_messages');
CREATE TRIGGER crm_messages_mentions_update AFTER UPDATE ON crm_messages FOR EACH ROW
  WHEN ((OLD.tenant_id, OLD.id, OLD.payload) IS DISTINCT FROM (NEW.tenant_id, NEW.id, NEW.payload))
  EXECUTE FUNCTION calbridge_index_mentions('crm_messages');

-- What is already stored is indexed by 0021b, in a transaction of its own: this one takes the
-- six tables' trigger locks, which block their writers until it commits, so it commits at once.
