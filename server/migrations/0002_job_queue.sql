-- The job queue is graphile-worker (schema graphile_worker, installed by
-- server/src/db/migrate.ts before these files run). The run-time role may not
-- touch its private tables; it enqueues through this one function, so a job is
-- added in the same transaction as the change that needs it (outbox pattern)
-- and is never lost or run for a change that rolled back.
--
-- Payloads carry ids only (tenant id, row ids), never personal data: jobs
-- re-read what they need under the tenant's row-level security.
CREATE FUNCTION calbridge_enqueue(
  task text,
  payload json,
  run_at timestamptz DEFAULT NULL,
  job_key text DEFAULT NULL,
  max_attempts int DEFAULT NULL,
  queue_name text DEFAULT NULL
) RETURNS bigint
  LANGUAGE sql
  SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT (graphile_worker.add_job(
      identifier => task,
      payload => payload,
      queue_name => queue_name,
      run_at => run_at,
      max_attempts => coalesce(max_attempts, 25),
      job_key => job_key
    )).id
  $$;

REVOKE ALL ON FUNCTION calbridge_enqueue(text, json, timestamptz, text, int, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION calbridge_enqueue(text, json, timestamptz, text, int, text) TO calbridge_app;
