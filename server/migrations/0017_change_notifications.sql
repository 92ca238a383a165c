-- Cross-instance cache invalidation (issue 16). Every instance keeps the widget
-- config of the tenants it serves in memory (server/src/widget/widget.config-cache.ts)
-- and LISTENs on `calbridge_changes` (server/src/db/changes.ts). These triggers
-- NOTIFY when something the config is built from changes: the tenant row, and
-- the Cal.com connection's kind and status (`native` is published only while
-- connected). NOTIFY is transactional: listeners hear it when the change commits,
-- never for a change that rolls back. Token refreshes (the frequent updates of
-- calcom_connections) change neither column and stay silent.
--
-- Payload: {"table": …, "tenantId": …, "slug": …} — ids and slugs only, never
-- personal data (any session may LISTEN).

CREATE FUNCTION calbridge_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF TG_TABLE_NAME = 'tenants' THEN
    PERFORM pg_notify('calbridge_changes', json_build_object('table', TG_TABLE_NAME, 'tenantId', r.id, 'slug', r.slug)::text);
  ELSE
    PERFORM pg_notify('calbridge_changes', json_build_object('table', TG_TABLE_NAME, 'tenantId', r.tenant_id)::text);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER tenants_notify_change
  AFTER INSERT OR UPDATE OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION calbridge_notify_change();

CREATE TRIGGER calcom_connections_notify_insert_delete
  AFTER INSERT OR DELETE ON calcom_connections
  FOR EACH ROW EXECUTE FUNCTION calbridge_notify_change();

CREATE TRIGGER calcom_connections_notify_update
  AFTER UPDATE ON calcom_connections
  FOR EACH ROW
  WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.status IS DISTINCT FROM NEW.status OR OLD.connected_at IS DISTINCT FROM NEW.connected_at)
  EXECUTE FUNCTION calbridge_notify_change();
