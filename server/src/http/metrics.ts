import type { RequestHandler } from 'express';
import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { routeOf } from './problem.js';

/**
 * Prometheus metrics, one registry per app (several apps can share a process
 * in tests). Labels use route patterns, never raw paths, to keep cardinality
 * bounded and personal data out.
 */
export interface Metrics {
  registry: Registry;
  /**
   * The recorder of one `method` / `route` / `status` series of `calbridge_http_requests_total` and
   * `calbridge_http_request_duration_seconds`: call it with a request's duration in seconds.
   * Resolve it once per label set on a hot path (the page-view and delivery fast paths).
   */
  series(method: string, route: string, status: string): (seconds: number) => void;
  middleware: RequestHandler;
}

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One label set's count, sum and (non-cumulative) bucket counts; the last slot is +Inf. */
class Series {
  count = 0;
  sum = 0;
  readonly buckets = new Float64Array(BUCKETS.length + 1);
  constructor(readonly labels: Record<'method' | 'route' | 'status', string>) {}
  readonly record = (seconds: number): void => {
    this.count++;
    this.sum += seconds;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    this.buckets[i]!++;
  };
}

/**
 * The two request metrics, kept in plain numbers per series and turned into Prometheus values
 * when the registry is read. prom-client's Counter and Histogram hash the label object on every
 * call; on the page-view path that cost 3–4 µs a request, about a tenth of the whole answer
 * (bench:config), so the series are resolved once and only added to per request.
 */
function requestMetrics(registry: Registry) {
  const all = new Map<string, Series>();
  const series = (method: string, route: string, status: string) => {
    const key = `${method}\u0000${route}\u0000${status}`;
    let s = all.get(key);
    if (!s) all.set(key, (s = new Series({ method, route, status })));
    return s.record;
  };
  const reset = () => all.clear();
  // A registry reads a metric through `get()` and clears it through `reset()` only (prom-client's
  // Registry.registerMetric, getMetricsAsString, resetMetrics), so these two plain objects stand
  // in for its Metric class; metrics.test.ts reads the exposition they produce.
  registry.registerMetric({
    name: 'calbridge_http_requests_total',
    help: 'HTTP requests by method, route pattern and status.',
    type: 'counter',
    aggregator: 'sum',
    reset,
    get: () => ({
      name: 'calbridge_http_requests_total',
      help: 'HTTP requests by method, route pattern and status.',
      type: 'counter',
      aggregator: 'sum',
      values: [...all.values()].map((s) => ({ labels: s.labels, value: s.count })),
    }),
  } as unknown as Metric);
  const name = 'calbridge_http_request_duration_seconds';
  registry.registerMetric({
    name,
    help: 'HTTP request latency by method, route pattern and status.',
    type: 'histogram',
    aggregator: 'sum',
    reset,
    get: () => ({
      name,
      help: 'HTTP request latency by method, route pattern and status.',
      type: 'histogram',
      aggregator: 'sum',
      values: [...all.values()].flatMap((s) => {
        let cumulative = 0;
        const buckets = [...BUCKETS, '+Inf' as const].map((le, i) => ({ labels: { ...s.labels, le }, value: (cumulative += s.buckets[i]!), metricName: `${name}_bucket` }));
        return [...buckets, { labels: s.labels, value: s.sum, metricName: `${name}_sum` }, { labels: s.labels, value: s.count, metricName: `${name}_count` }];
      }),
    }),
  } as unknown as Metric);
  return series;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'calbridge_' });
  const series = requestMetrics(registry);
  const middleware: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => series(req.method, routeOf(req), String(res.statusCode))(Number(process.hrtime.bigint() - start) / 1e9));
    next();
  };
  return { registry, series, middleware };
}
