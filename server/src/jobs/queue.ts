import { Logger as JobLogger, run, type Runner, type Task, type TaskList } from 'graphile-worker';
import pg from 'pg';
import { statementName, type Tx } from '../db/db.js';
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

export type JobHandler = (payload: Record<string, unknown>, job: { id: string; attempts: number; maxAttempts: number }) => Promise<void>;

export interface Worker {
  stop(): Promise<void>;
}

/** Starts a worker for these handlers on its own small pool (owner role; handlers use db.withTenant for data). */
export async function startWorker(options: {
  connectionString: string;
  handlers: Record<string, JobHandler>;
  logger: Logger;
  concurrency?: number;
  pollIntervalMs?: number;
  /** A crontab in graphile-worker's format, e.g. `*\/15 * * * * reconcile.all`. */
  crontab?: string;
}): Promise<Worker> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: (options.concurrency ?? 2) + 2 });
  const onError = (err: Error) => options.logger.warn({ err: err.message }, 'job queue connection failed');
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
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
  const log = options.logger.child({ component: 'jobs' });
  const runner: Runner = await run({
    pgPool: pool,
    taskList,
    concurrency: options.concurrency ?? 2,
    pollInterval: options.pollIntervalMs ?? 1000,
    noHandleSignals: true,
    crontab: options.crontab ?? '',
    logger: new JobLogger((scope) => (level, message) => {
      // graphile-worker's messages name tasks and job ids, never payloads.
      const fn = level === 'error' ? log.error : level === 'warning' ? log.warn : log.debug;
      fn.call(log, { task: scope.taskIdentifier, jobId: scope.jobId }, message);
    }),
  });
  return {
    async stop() {
      await runner.stop();
      await runner.promise.catch(() => undefined);
      await pool.end();
    },
  };
}
