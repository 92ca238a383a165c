-- The session answer's first page of free times reads the tenant's Cal.com account (username)
-- from a per-instance cache (server/src/calcom/native-booking.service.ts), and the session's
-- published modes read the connection's summary from another (tenants.service.ts). Both are
-- dropped through migration 0017's NOTIFY, which fired on a change of kind, status or
-- connected_at. A new account has always come with a new connected_at; this names the account
-- itself too, so a change of account is heard whatever else the statement sets.
DROP TRIGGER calcom_connections_notify_update ON calcom_connections;
CREATE TRIGGER calcom_connections_notify_update
  AFTER UPDATE ON calcom_connections
  FOR EACH ROW
  WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.status IS DISTINCT FROM NEW.status OR OLD.connected_at IS DISTINCT FROM NEW.connected_at
        OR OLD.calcom_user_id IS DISTINCT FROM NEW.calcom_user_id OR OLD.calcom_username IS DISTINCT FROM NEW.calcom_username)
  EXECUTE FUNCTION calbridge_notify_change();
