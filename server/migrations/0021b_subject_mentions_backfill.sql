-- Migration 0021's index of where each address is mentioned (decision 0037), filled in for what was
-- stored before it. Apart from 0021, which creates the triggers under locks that block the six
-- tables' writers until it commits: this reads those tables (no lock a writer waits for) for as long
-- as the rows take (about 200 s for a million bookings on the bench machine), while every write
-- since 0021 is indexed by the triggers. A row written in between may be indexed twice; the index
-- is not unique, the export reads each row once, and a row's change or removal takes every copy.

-- Tenant by tenant under the policies (the owner running this is subject to them: FORCE), as 0018
-- and 0020 read.
DO $$
DECLARE
  t uuid;
BEGIN
  -- The tenant list is platform-scoped (its policy), each tenant's rows tenant-scoped.
  PERFORM set_config('app.scope', 'platform', true);
  FOR t IN SELECT id FROM tenants LOOP
    PERFORM set_config('app.tenant_id', t::text, true);
    INSERT INTO subject_mentions (tenant_id, mention, source, row_key)
    SELECT r.tenant_id, k, r.source, r.row_key FROM (
      SELECT tenant_id, 'bookings' AS source, calbridge_mention_row(b) AS row_key, calbridge_mention_text(b) AS t FROM bookings b WHERE tenant_id = t
      UNION ALL SELECT tenant_id, 'webhook_inbox', calbridge_mention_row(w), calbridge_mention_text(w) FROM webhook_inbox w WHERE tenant_id = t
      UNION ALL SELECT tenant_id, 'consent_receipts', calbridge_mention_row(c), calbridge_mention_text(c) FROM consent_receipts c WHERE tenant_id = t
      UNION ALL SELECT tenant_id, 'calcom_booking_requests', calbridge_mention_row(q), calbridge_mention_text(q) FROM calcom_booking_requests q WHERE tenant_id = t
      UNION ALL SELECT tenant_id, 'leads', calbridge_mention_row(l), calbridge_mention_text(l) FROM leads l WHERE tenant_id = t
      UNION ALL SELECT tenant_id, 'crm_messages', calbridge_mention_row(m), calbridge_mention_text(m) FROM crm_messages m WHERE tenant_id = t
    ) r, unnest(calbridge_mention_keys(r.t)) AS k;
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
  PERFORM set_config('app.scope', '', true);
END
$$;
