-- Several jobs of one task in one call (decision 0031): graphile-worker's add_jobs makes the same
-- job rows as add_job one by one (calbridge_enqueue), but its per-call work (the task and queue
-- upserts, the notification) is done once: the webhook intake queues the booking.changed jobs of a
-- group commit with it, just before the group's COMMIT. Payloads carry ids only, as for
-- calbridge_enqueue; max_attempts is its default, 25.
CREATE FUNCTION calbridge_enqueue_many(task text, payloads json[]) RETURNS int
  LANGUAGE sql
  SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT count(*)::int FROM graphile_worker.add_jobs(
      (SELECT array_agg(ROW(task, u.payload, NULL, NULL, 25, NULL, NULL, NULL)::graphile_worker.job_spec ORDER BY u.n)
         FROM unnest(payloads) WITH ORDINALITY AS u(payload, n))
    )
  $$;

REVOKE ALL ON FUNCTION calbridge_enqueue_many(text, json[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION calbridge_enqueue_many(text, json[]) TO calbridge_app;
