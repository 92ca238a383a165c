-- HubSpot contact ids per lead and destination (issue 7): the HubSpot destination records the
-- contact it created or updated for a lead, so that `subject.erased` (which carries no email)
-- can still ask HubSpot for a GDPR delete of that contact. The row is deleted once HubSpot
-- confirmed the delete.
--
--   crm_hubspot_contacts   lead_id → HubSpot's contact id (a number HubSpot assigns), per destination.
--                          No email or name. lead_id is not a foreign key: the erasure deletes the
--                          lead before its subject.erased message goes out, and that message still
--                          needs the contact id. Rows go with their destination (cascade).

CREATE TABLE crm_hubspot_contacts (
  tenant_id      uuid NOT NULL,
  destination_id uuid NOT NULL,
  lead_id        uuid NOT NULL,
  contact_id     text NOT NULL CHECK (contact_id ~ '^[0-9A-Za-z_-]{1,64}$'),
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, destination_id, lead_id),
  FOREIGN KEY (tenant_id, destination_id) REFERENCES crm_destinations (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE crm_hubspot_contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_hubspot_contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY crm_hubspot_contacts_isolation ON crm_hubspot_contacts
  USING (tenant_id = calbridge_current_tenant())
  WITH CHECK (tenant_id = calbridge_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON crm_hubspot_contacts TO calbridge_app;
