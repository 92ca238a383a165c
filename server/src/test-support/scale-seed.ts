import type pg from 'pg';

/**
 * Seeds a database as an agency of `tenants` clients would fill it, straight through SQL
 * (owner connection; row-level security does not apply to it): per booking an event
 * history of two, the two raw deliveries and their log lines, a consent receipt and the
 * observed booking that links it, a CRM message with its attempt; per two bookings one
 * person, hence one lead. Used by `npm run bench:scale` (1,000 tenants, up to a million
 * bookings) and by the plan test (a few thousand). Values derive from the tenant's number
 * and the booking's index, so the bench can grow a database in steps and find any row again.
 */

export const scaleSlug = (n: number): string => `scale-${String(n).padStart(4, '0')}`;
/** The person of booking `i` of tenant `n` (two bookings each). */
export const scaleEmail = (n: number, i: number): string => `p${Math.floor(i / 2)}@t${n}.example`;
export const scaleBookingUid = (n: number, i: number): string => `bk${n}-${i}`;

/**
 * Creates tenants 1…count (those missing), each with a webhook CRM destination, a webhook
 * secret, a Cal.com connection and a retention policy that keeps everything seeded (raw
 * deliveries a year), so a sweep finds what a nightly one finds: next to nothing.
 */
export async function seedScaleTenants(owner: pg.Pool | pg.Client, count: number): Promise<void> {
  await owner.query(
    `INSERT INTO tenants (slug, name, allowed_origins, cal_link)
     SELECT 'scale-' || lpad(n::text, 4, '0'), 'Client ' || n, ARRAY['https://t' || n || '.example'], 'client' || n || '/intro'
       FROM generate_series(1, $1::int) n
     ON CONFLICT (slug) DO NOTHING`,
    [count],
  );
  await owner.query(`CREATE TABLE IF NOT EXISTS scale_tenants (n int PRIMARY KEY, id uuid NOT NULL)`);
  await owner.query(
    `INSERT INTO scale_tenants (n, id) SELECT substr(slug, 7)::int, id FROM tenants WHERE slug LIKE 'scale-%' ON CONFLICT DO NOTHING`,
  );
  await owner.query(
    `INSERT INTO crm_destinations (tenant_id, id, kind, url, created_at, updated_at)
     SELECT id, md5('de' || n)::uuid, 'webhook', 'https://crm.t' || n || '.example/hook', now() - interval '400 days', now() - interval '400 days'
       FROM scale_tenants
     ON CONFLICT DO NOTHING`,
  );
  await owner.query(
    `INSERT INTO tenant_secrets (tenant_id, kind, ciphertext, key_id, created_at)
     SELECT id, 'webhook_secret', 'v1.seeded', 'k1', now() - interval '400 days' FROM scale_tenants t
      WHERE NOT EXISTS (SELECT 1 FROM tenant_secrets s WHERE s.tenant_id = t.id)`,
  );
  await owner.query(
    `INSERT INTO calcom_connections (tenant_id, kind, status, calcom_user_id, calcom_username, tokens_ciphertext, key_id,
                                     access_expires_at, connected_at, last_synced_at)
     SELECT id, 'oauth', 'connected', n, 'client' || n, 'v1.seeded', 'k1', now() + interval '1 hour', now() - interval '400 days', now() - interval '15 minutes'
       FROM scale_tenants
     ON CONFLICT DO NOTHING`,
  );
  await owner.query(
    `INSERT INTO gdpr_policies (tenant_id, raw_delivery_days, booking_days, consent_receipt_days, updated_at)
     SELECT id, 365, 730, 1095, now() FROM scale_tenants
     ON CONFLICT DO NOTHING`,
  );
}

/** Adds bookings with index from…to-1 to every seeded tenant, with everything that hangs off them. */
export async function seedScaleBookings(owner: pg.Pool | pg.Client, from: number, to: number): Promise<void> {
  if (to <= from) return;
  const range = [from, to - 1];
  // The rows of one range: tenant number n, booking index i, and what derives from them.
  const base = `
    SELECT t.id AS tenant_id, t.n, i,
           'bk' || t.n || '-' || i AS uid,
           'p' || (i / 2) || '@t' || t.n || '.example' AS email,
           now() - interval '300 days' + i * interval '7 hours' AS start_at,
           now() - interval '307 days' + i * interval '7 hours' AS made_at,
           CASE WHEN i % 5 = 0 THEN 'cancelled' WHEN i % 7 = 0 THEN 'pending' ELSE 'accepted' END AS status,
           md5('ld' || t.n || '-' || (i / 2))::uuid AS lead_id
      FROM scale_tenants t CROSS JOIN generate_series($1::int, $2::int) i`;
  await owner.query(
    `INSERT INTO bookings (tenant_id, uid, calcom_id, status, title, start_time, end_time, event_type_id, attendees, attendee_emails,
                           organizer, metadata, state_at, state_rank, state_event_id, created_at, updated_at)
     SELECT tenant_id, uid, n * 100000 + i, status, 'Intro call', start_at, start_at + interval '30 minutes', 7,
            jsonb_build_array(jsonb_build_object('name', 'Person ' || (i / 2), 'email', email, 'timeZone', 'Europe/Berlin')),
            ARRAY[email], jsonb_build_object('id', 1, 'name', 'Host', 'email', 'host@t' || n || '.example', 'username', 'host', 'timeZone', 'UTC'),
            jsonb_build_object('calbridge_tenant', 'scale-' || lpad(n::text, 4, '0')),
            made_at + interval '1 hour', 2, md5('ev2' || uid)::uuid, made_at, made_at + interval '1 hour'
       FROM (${base}) s`,
    range,
  );
  // Two raw deliveries per booking (created, then cancelled or ended), their log lines and history.
  await owner.query(
    `WITH ev AS (
       SELECT s.*, k, CASE WHEN k = 1 THEN 'BOOKING_CREATED' WHEN status = 'cancelled' THEN 'BOOKING_CANCELLED' ELSE 'MEETING_ENDED' END AS trigger,
              made_at + (k - 1) * interval '1 hour' AS at
         FROM (${base}) s CROSS JOIN generate_series(1, 2) k
     ), body AS (
       SELECT ev.*, convert_to(json_build_object('triggerEvent', trigger, 'createdAt', at,
                'payload', json_build_object('uid', uid, 'title', 'Intro call', 'startTime', start_at, 'endTime', start_at + interval '30 minutes',
                  'attendees', json_build_array(json_build_object('name', 'Person ' || (i / 2), 'email', email, 'timeZone', 'Europe/Berlin')),
                  'metadata', json_build_object('calbridge_tenant', 'scale-' || lpad(n::text, 4, '0'))))::text, 'UTF8') AS body
         FROM ev
     ), inbox AS (
       INSERT INTO webhook_inbox (tenant_id, id, body_sha256, trigger_event, event_created_at, booking_uid, received_at, body)
       SELECT tenant_id, md5('in' || k || uid)::uuid, sha256(body), trigger, at, uid, at, body FROM body
       RETURNING tenant_id, id, trigger_event, received_at
     ), events AS (
       INSERT INTO booking_events (tenant_id, id, booking_uid, trigger_event, occurred_at, rank, source, inbox_id, status, recorded_at)
       SELECT tenant_id, md5('ev' || k || uid)::uuid, uid, trigger, at, k, 'webhook', md5('in' || k || uid)::uuid,
              CASE WHEN k = 1 THEN 'accepted' ELSE status END, at
         FROM ev
     )
     INSERT INTO webhook_deliveries (tenant_id, received_at, trigger_event, outcome, inbox_id)
     SELECT tenant_id, received_at, trigger_event, 'accepted', id FROM inbox`,
    range,
  );
  await owner.query(
    `WITH r AS (
       INSERT INTO consent_receipts (id, tenant_id, session_id, consent_version, consent_text_sha256, purposes, page_origin, page_url,
                                     ip_prefix, user_agent_family, created_at)
       SELECT md5('cr' || uid)::uuid, tenant_id, md5('se' || uid)::uuid, '2026-11-25', encode(sha256('consent'::bytea), 'hex'),
              ARRAY['booking'], 'https://t' || n || '.example', 'https://t' || n || '.example/book', '203.0.113.0/24', 'Chrome', made_at
         FROM (${base}) s
       RETURNING id
     )
     INSERT INTO observed_bookings (tenant_id, uid, session_id, consent_receipt_id, start_time, end_time, event_type_id, event_type, status, observed_at)
     SELECT tenant_id, uid, md5('se' || uid)::uuid, md5('cr' || uid)::uuid, start_at, start_at + interval '30 minutes', 7, 'intro', 'ACCEPTED', made_at
       FROM (${base}) s`,
    range,
  );
  // One booking in ten made in native mode (our own slot picker), with its idempotency record.
  await owner.query(
    `INSERT INTO calcom_booking_requests (tenant_id, idempotency_key, request_hash, booking_uid, response, created_at)
     SELECT tenant_id, 'idem-' || uid, sha256(uid::bytea), uid, jsonb_build_object('uid', uid, 'status', 'accepted'), made_at
       FROM (${base}) s WHERE i % 10 = 0`,
    range,
  );
  await owner.query(
    `INSERT INTO leads (tenant_id, id, email, name, score, grade, explanation, booking_count, scored_at, created_at, updated_at)
     SELECT tenant_id, lead_id, email, 'Person ' || (i / 2), (i * 37) % 100, CASE WHEN (i * 37) % 100 >= 70 THEN 'A' WHEN (i * 37) % 100 >= 40 THEN 'B' ELSE 'C' END,
            '[{"rule":"booked","points":10}]', 2, made_at, made_at, made_at
       FROM (${base}) s WHERE i % 2 = 0
     ON CONFLICT DO NOTHING`,
    range,
  );
  await owner.query(
    `WITH m AS (
       INSERT INTO crm_messages (tenant_id, id, destination_id, lead_id, order_key, event_type, payload, dedupe_key, status, attempts,
                                 next_attempt_at, created_at, delivered_at)
       SELECT tenant_id, md5('cm' || uid)::uuid, md5('de' || n)::uuid, lead_id, lead_id::text, 'booking.created',
              jsonb_build_object('type', 'booking.created', 'timestamp', made_at, 'data', jsonb_build_object('uid', uid, 'email', email)),
              'booking.created:' || uid, 'delivered', 1, made_at, made_at, made_at + interval '1 second'
         FROM (${base}) s
       RETURNING tenant_id, id, created_at
     )
     INSERT INTO crm_attempts (tenant_id, message_id, attempt, started_at, finished_at, status_code, outcome)
     SELECT tenant_id, id, 1, created_at, created_at + interval '1 second', 200, 'delivered' FROM m`,
    range,
  );
}
