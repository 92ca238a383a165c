import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WebhookMetrics {
  deliveries: Counter<'outcome' | 'code'>;
  latency: Histogram<'outcome'>;
  reprocessed: Counter<'status'>;
  spool: Counter<'event'>;
  spoolWaiting: Gauge;
  commitGroup: Histogram;
  commitWaiting: Gauge;
}

/** The intake's metrics on the app's registry (created once per registry). */
export function webhookMetrics(registry: Registry): WebhookMetrics {
  const deliveries =
    (registry.getSingleMetric('calbridge_webhook_deliveries_total') as Counter<'outcome' | 'code'> | undefined) ??
    new Counter({
      name: 'calbridge_webhook_deliveries_total',
      help: 'Cal.com webhook deliveries by outcome (accepted, unprocessed, duplicate, stale, rejected, error) and code (refusal code; reason code when unprocessed; "none" when accepted).',
      labelNames: ['outcome', 'code'] as const,
      registers: [registry],
    });
  const latency =
    (registry.getSingleMetric('calbridge_webhook_intake_duration_seconds') as Histogram<'outcome'> | undefined) ??
    new Histogram({
      name: 'calbridge_webhook_intake_duration_seconds',
      help: 'Time from a delivery being read to its answer (verification, storage, projection), by outcome.',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  const reprocessed =
    (registry.getSingleMetric('calbridge_webhook_reprocessed_total') as Counter<'status'> | undefined) ??
    new Counter({
      name: 'calbridge_webhook_reprocessed_total',
      help: 'Stored deliveries tried again (reprocess endpoint, or after an upgrade), by the status they ended in (processed, unprocessed).',
      labelNames: ['status'] as const,
      registers: [registry],
    });
  const spool =
    (registry.getSingleMetric('calbridge_webhook_spool_total') as Counter<'event'> | undefined) ??
    new Counter({
      name: 'calbridge_webhook_spool_total',
      help: 'Verified deliveries and the local spool while PostgreSQL was unreachable: spooled (acknowledged 202), drained (stored once the database was back), full (answered 503: only reconciliation can heal those), set_aside (could not be applied from the spool).',
      labelNames: ['event'] as const,
      registers: [registry],
    });
  const spoolWaiting =
    (registry.getSingleMetric('calbridge_webhook_spool_entries') as Gauge | undefined) ??
    new Gauge({ name: 'calbridge_webhook_spool_entries', help: 'Verified deliveries waiting in the local spool for the database.', registers: [registry] });
  const commitGroup =
    (registry.getSingleMetric('calbridge_webhook_commit_group_size') as Histogram | undefined) ??
    new Histogram({
      name: 'calbridge_webhook_commit_group_size',
      help: 'Verified deliveries of one tenant stored in one transaction (group commit: those that waited for a connection together).',
      buckets: [1, 2, 4, 8, 16],
      registers: [registry],
    });
  const commitWaiting =
    (registry.getSingleMetric('calbridge_webhook_commit_waiting') as Gauge | undefined) ??
    new Gauge({ name: 'calbridge_webhook_commit_waiting', help: 'Verified deliveries waiting for the transaction that stores them.', registers: [registry] });
  return { deliveries, latency, reprocessed, spool, spoolWaiting, commitGroup, commitWaiting };
}
