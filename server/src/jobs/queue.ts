import { Logger as JobLogger, run, type Runner, type Task, type TaskList } from 'graphile-worker';
import pg from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import { boundedPoolConfig, DEFAULT_DB_TIMEOUTS, statementName, type DbTimeouts, type Tx } from '../db/db.js';
import type { Logger } from '../logger.js';

/**
 * The job queue: graphile-worker on the same PostgreSQL. Every instance runs a
 * worker; jobs are taken with SKIP LOCKED, so several instances share the work
 * without any coordination of ours, and a job of a crashed instance is retried.
 */

export interface EnqueueOptions {
  /** Run no earlier than this. */
  runAt?: Date;
  /** A job with the same key replaces the pending one (debounce / singleton). */
  jobKey?: string;
  maxAttempts?: number;
  /** Jobs in one named queue run one at a time, in order. */
  queueName?: string;
}

/**
 * Adds a job inside the caller's transaction: it exists only if the
 * transaction commits. The payload must hold ids only, never personal data.
 */
export async function enqueue(tx: Tx, task: string, payload: Record<string, unknown>, options: EnqueueOptions = {}): Promise<string> {
  const r = await tx.query<{ id: string }>({
    name: statementName(tx, 'enqueue'),
    text: 'SELECT calbridge_enqueue($1, $2::json, $3, $4, $5, $6)::text AS id',
    values: [task, JSON.stringify(payload), options.runAt ?? null, options.jobKey ?? null, options.maxAttempts ?? null, options.queueName ?? null],
  });
  return r.rows[0]!.id;
}

/**
 * Adds one job of `task` per payload inside the caller's transaction, in one call: the same job
 * rows as {@link enqueue} one by one, for a fraction of the database's work per job
 * (graphile-worker's add_jobs does its per-call upserts and notification once; decision 0031).
 */
export async function enqueueMany(tx: Tx, task: string, payloads: Record<string, unknown>[]): Promise<number> {
  if (payloads.length === 0) return 0;
  const r = await tx.query<{ n: number }>({
    name: statementName(tx, 'enqueue_many'),
    text: 'SELECT calbridge_enqueue_many($1, $2::json[]) AS n',
    values: [task, payloads.map((p) => JSON.stringify(p))],
  });
  return r.rows[0]!.n;
}

export type JobHandler = (payload: Record<string, unknown>, job: { id: string; attempts: number; maxAttempts: number }) => Promise<void>;

export interface Worker {
  /**
   * Stops taking jobs and waits for the running ones, at most `timeoutMs` (then their
   * connections are closed: graphile-worker retries a job whose lock expires, after 4 hours).
   */
  stop(timeoutMs?: number): Promise<void>;
}

/** The job queue's metrics (`calbridge_jobs_*`): outcomes, worker errors, and how stale the queue is. */
function jobMetrics(registry: Registry, pool: pg.Pool) {
  const runs = new Counter({
    name: 'calbridge_jobs_total',
    help: 'Jobs run, by task and outcome (success; error = an attempt failed and will be retried; failed = no attempts left).',
    labelNames: ['task', 'outcome'] as const,
    registers: [registry],
  });
  const workerErrors = new Counter({
    name: 'calbridge_jobs_worker_errors_total',
    help: 'Errors of the job worker itself, outside any job: getting a job, the LISTEN connection, writing a result.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  // Read at scrape time, under a short deadline: a stalled queue shows as a growing age.
  // Both gauges are collected at once (prom-client collects in parallel): they share one read.
  let last = { age: 0, runnable: 0 };
  let reading: Promise<void> | null = null;
  const refresh = () =>
    (reading ??= read()
      .catch(() => {
        workerErrors.inc({ kind: 'metrics_read' });
      })
      .finally(() => {
        reading = null;
      }));
  const read = async () => {
    const r = await pool.query<{ age: number | null; runnable: number }>({
      text: `SELECT extract(epoch FROM now() - min(run_at))::float8 AS age, count(*)::int AS runnable
               FROM graphile_worker._private_jobs WHERE is_available AND run_at <= now()`,
      query_timeout: 900,
    } as pg.QueryConfig);
    last = { age: Math.max(0, r.rows[0]?.age ?? 0), runnable: r.rows[0]?.runnable ?? 0 };
  };
  new Gauge({
    name: 'calbridge_jobs_oldest_runnable_age_seconds',
    help: 'Age of the oldest job that is due and not taken (0 when none): a stalled queue grows it. The last reading is kept when the database does not answer.',
    registers: [registry],
    async collect() {
      await refresh();
      this.set(last.age);
    },
  });
  new Gauge({
    name: 'calbridge_jobs_runnable',
    help: 'Jobs that are due and not taken.',
    registers: [registry],
    async collect() {
      await refresh();
      this.set(last.runnable);
    },
  });
  return { runs, workerErrors };
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Starts a worker for these handlers on its own small pool (owner role; handlers use db.withTenant for data). */
/**
 * graphile-worker records a job's outcome (complete or fail) without awaiting it, and retries that
 * only for errors whose `code` is in its RETRYABLE_ERROR_CODES (serialisation failures, 57P03,
 * EHOSTUNREACH, ETIMEDOUT; graphile-worker dist/lib.js). Our own deadlines (pg's query_timeout,
 * the pool's connection timeout, statement_timeout, lock_timeout) and a dropped connection carry no such code, so a database that
 * froze or restarted while an outcome was being recorded became an unhandled rejection and ended
 * the whole server (the frozen-database e2e test caught it). These are transient for us: they go
 * to graphile-worker as ETIMEDOUT (the original code kept as `originalCode`), which it retries with
 * backoff (3 s up to 2 min). Errors with a SQLSTATE (the database answered) are left alone.
 */
function asTransient(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  const transient =
    /^(Query read timeout|timeout exceeded when trying to connect|Connection terminated)/.test(err.message) ||
    TRANSIENT_CODES.has(String(code)) ||
    // SQLSTATE class 08: connection exception.
    /^08[0-9A-Z]{3}$/.test(String(code));
  return transient ? Object.assign(err, { code: 'ETIMEDOUT', originalCode: code }) : err;
}
/**
 * Node's network errors, and the SQLSTATEs of our own deadlines and of a server going away:
 * statement_timeout (57014), lock_timeout (55P03), admin/crash shutdown (57P01, 57P02).
 * Anything else the database answers (a constraint, a bad statement) is not retried.
 */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57014', '55P03', '57P01', '57P02']);

export async function startWorker(options: {
  connectionString: string;
  handlers: Record<string, JobHandler>;
  logger: Logger;
  concurrency?: number;
  pollIntervalMs?: number;
  /** A crontab in graphile-worker's format, e.g. `*\/15 * * * * reconcile.all`. */
  crontab?: string;
  /** Deadlines for the worker's own connections; {@link DEFAULT_DB_TIMEOUTS} by default. */
  timeouts?: DbTimeouts;
  /** Where `calbridge_jobs_*` are registered; a private registry when absent. */
  registry?: Registry;
}): Promise<Worker> {
  const concurrency = options.concurrency ?? 2;
  const timeouts = options.timeouts ?? DEFAULT_DB_TIMEOUTS;
  // One connection per running job, one for LISTEN, one for getting jobs and cron.
  const pool = new pg.Pool({ connectionString: options.connectionString, max: concurrency + 2, ...boundedPoolConfig(timeouts) });
  const log = options.logger.child({ component: 'jobs' });
  const metrics = jobMetrics(options.registry ?? new Registry(), pool);
  const onError = (err: Error) => {
    metrics.workerErrors.inc({ kind: 'connection' });
    log.warn({ err: err.message }, 'job queue connection failed');
  };
  pool.on('error', onError);
  pool.on('connect', (client) => {
    client.on('error', onError);
    // Every query graphile-worker makes on this client: deadline errors presented as transient (asTransient).
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      const result = query(...args);
      return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(asTransient(err))) : result;
    }) as typeof client.query;
  });
  // The same for getting a connection (graphile-worker uses the promise form).
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  pool.connect = ((...args: unknown[]) =>
    args.length ? connect(...args) : (connect() as Promise<pg.PoolClient>).catch((err: unknown) => Promise.reject(asTransient(err)))) as typeof pool.connect;
  const taskList: TaskList = {};
  for (const [name, handler] of Object.entries(options.handlers)) {
    const task: Task = async (payload, helpers) => {
      await handler((payload ?? {}) as Record<string, unknown>, {
        id: String(helpers.job.id),
        attempts: helpers.job.attempts,
        maxAttempts: helpers.job.max_attempts,
      });
    };
    taskList[name] = task;
  }
  const runner: Runner = await run({
    pgPool: pool,
    taskList,
    concurrency,
    pollInterval: options.pollIntervalMs ?? 1000,
    noHandleSignals: true,
    crontab: options.crontab ?? '',
    logger: new JobLogger((scope) => (level, message) => {
      // graphile-worker's messages name tasks and job ids, never payloads. Its own failures
      // (getting jobs, LISTEN) are errors at its level; they are counted below and logged at warn
      // there, so they are visible at the default level rather than only under debug.
      const name = String(level);
      const fn = name === 'error' ? log.error : name === 'warning' ? log.warn : log.debug;
      fn.call(log, { task: scope.taskIdentifier, jobId: scope.jobId }, message);
    }),
  });
  // Every outcome counted; a failed attempt at warn, a job out of attempts at error.
  runner.events.on('job:success', ({ job }) => metrics.runs.inc({ task: job.task_identifier, outcome: 'success' }));
  runner.events.on('job:error', ({ job, error }) => {
    metrics.runs.inc({ task: job.task_identifier, outcome: 'error' });
    log.warn({ task: job.task_identifier, jobId: String(job.id), attempt: job.attempts, maxAttempts: job.max_attempts, err: errorText(error) }, 'job attempt failed; it will be retried');
  });
  runner.events.on('job:failed', ({ job, error }) => {
    metrics.runs.inc({ task: job.task_identifier, outcome: 'failed' });
    log.error({ task: job.task_identifier, jobId: String(job.id), attempts: job.attempts, err: errorText(error) }, 'job failed with no attempts left');
  });
  runner.events.on('worker:getJob:error', ({ error }) => {
    // graphile-worker backs off before asking again; each failure is counted and visible.
    metrics.workerErrors.inc({ kind: 'get_job' });
    log.warn({ err: errorText(error) }, 'the worker could not get a job from the database; backing off');
  });
  runner.events.on('pool:listen:error', ({ error }) => {
    metrics.workerErrors.inc({ kind: 'listen' });
    log.warn({ err: errorText(error) }, 'the worker lost its LISTEN connection; reconnecting');
  });
  runner.events.on('worker:fatalError', ({ error }) => {
    metrics.workerErrors.inc({ kind: 'fatal' });
    log.error({ err: errorText(error) }, 'the worker failed outside a job');
  });
  return {
    async stop(timeoutMs = 15_000) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'timeout'>((ok) => {
        timer = setTimeout(() => ok('timeout'), timeoutMs);
      });
      const stopped = (async () => {
        await runner.stop();
        await runner.promise.catch(() => undefined);
        return 'stopped' as const;
      })().catch(() => 'stopped' as const);
      const outcome = await Promise.race([stopped, bound]);
      clearTimeout(timer);
      if (outcome === 'timeout') log.warn({ timeoutMs }, 'jobs still running at the shutdown bound; their connections are closed');
      await pool.end().catch(() => undefined);
    },
  };
}
