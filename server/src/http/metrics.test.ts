import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

describe('request metrics', () => {
  it('when requests are recorded, then the scrape shows their count and a cumulative histogram with +Inf, sum and count', async () => {
    const m = createMetrics();
    const pageView = m.series('GET', '/v1/widget/:tenant/config', '200');
    for (const seconds of [0.0004, 0.0009, 0.003, 7]) pageView(seconds);
    m.series('GET', '/v1/widget/:tenant/config', '304')(0.0002);
    // The same label set resolved again adds to the same series.
    m.series('GET', '/v1/widget/:tenant/config', '200')(0.0001);

    const text = await m.registry.metrics();
    const labels = 'method="GET",route="/v1/widget/:tenant/config",status="200"';
    expect(text).toContain('# TYPE calbridge_http_requests_total counter');
    expect(text).toContain(`calbridge_http_requests_total{${labels}} 5\n`);
    expect(text).toContain(`calbridge_http_requests_total{method="GET",route="/v1/widget/:tenant/config",status="304"} 1\n`);
    expect(text).toContain('# TYPE calbridge_http_request_duration_seconds histogram');
    const bucket = (le: string) => new RegExp(`^calbridge_http_request_duration_seconds_bucket\\{${labels.replace(/[/:]/g, '\\$&')},le="${le.replace('+', '\\+')}"\\} (\\d+)$`, 'm').exec(text)?.[1];
    // Cumulative: each bucket counts every value at or below its bound.
    expect([bucket('0.001'), bucket('0.0025'), bucket('0.005'), bucket('5'), bucket('+Inf')]).toEqual(['3', '3', '4', '4', '5']);
    const sum = text.split('\n').find((l) => l.startsWith(`calbridge_http_request_duration_seconds_sum{${labels}} `));
    expect(Number(sum?.split(' ')[1])).toBeCloseTo(7.0044, 9);
    expect(text).toContain(`calbridge_http_request_duration_seconds_count{${labels}} 5\n`);
  });

  it('when the registry is reset, then the request series start again from nothing', async () => {
    const m = createMetrics();
    m.series('POST', '/v1/webhooks/calcom/:tenant', '200')(0.002);
    m.registry.resetMetrics();
    expect(await m.registry.metrics()).not.toContain('route="/v1/webhooks/calcom/:tenant"');
  });
});
