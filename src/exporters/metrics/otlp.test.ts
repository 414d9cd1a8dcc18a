// The OTLP conversion: cumulative sums, gauges and explicit-bucket histograms in OTel's names, and the producer inside the SDK.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader,
  type MetricData, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { RunnerControl } from '../../core/contracts.ts';
import { RequestStats } from '../../stats/request-stats.ts';
import type { StatsSnapshot } from '../../stats/types.ts';
import { buildReportData } from '../build-report.ts';
import { gatedReportData } from '../fixtures.test-helper.ts';
import type { ReportData } from '../report-data.ts';
import { metricFamilies, RESPONSE_TIME_BOUNDS, runIdOf } from './model.ts';
import { hrTimeOf, OTLP_NAMES, otlpAttributes, otlpResource, pointCount, ReportMetricProducer, toResourceMetrics } from './otlp.ts';

const T0 = 1_700_000_000_000;
const resource = resourceFromAttributes({ 'service.name': 'cicada-test' });

/** A report of real recorded requests, as a runner would give it. */
function report(stats: RequestStats, scenarios?: string[]): ReportData {
  const runner = { snapshot: () => stats.snapshot(3), state: 'running', userCount: 3, userClassCounts: () => ({ U: 3 }) } as unknown as RunnerControl<StatsSnapshot>;
  return buildReportData(runner, { host: '', cicadafiles: [], startTime: T0, cicadaVersion: 't', ...(scenarios ? { scenarios: scenarios.map((name) => ({ name, executor: 'users', description: '' })) } : {}) });
}

function convert(data: ReportData, endMs = T0 + 1000): ResourceMetrics {
  return toResourceMetrics(metricFamilies(data, { workers: 2 }), { resource, scope: { name: 'cicada', version: 't' }, startMs: data.snapshot.startTime * 1000, endMs });
}

function metric(rm: ResourceMetrics, name: string): MetricData {
  const found = rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  assert.ok(found, `no metric ${name} in ${rm.scopeMetrics.flatMap((s) => s.metrics).map((m) => m.descriptor.name).join(', ')}`);
  return found;
}

/** `url.template` → value (or histogram count) of a metric's points. */
function byTemplate(m: MetricData): Record<string, unknown> {
  return Object.fromEntries(m.dataPoints.map((p) => [`${String(p.attributes['http.request.method'])} ${String(p.attributes['url.template'])}`, typeof p.value === 'number' ? p.value : p.value.count]));
}

function recorded(): RequestStats {
  let clock = T0;
  const stats = new RequestStats({ now: () => clock });
  for (const ms of [0.3, 0.9, 4, 40, 400, 4000]) stats.log('GET', '/a', ms, 100, T0);
  stats.log('POST', '/b', 2, 10, T0);
  stats.logError('POST', '/b', 'HTTP 500', T0);
  clock += 1000;
  return stats;
}

describe('the OTLP conversion', () => {
  it('sends requests and failures as cumulative monotonic sums per http.request.method and url.template', () => {
    const data = report(recorded());
    const rm = convert(data);
    const requests = metric(rm, 'cicada.requests');
    assert.equal(requests.dataPointType, DataPointType.SUM);
    assert.equal(requests.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    assert.equal(requests.dataPointType === DataPointType.SUM && requests.isMonotonic, true);
    assert.deepEqual(byTemplate(requests), { 'GET /a': 6, 'POST /b': 1 });
    assert.deepEqual(byTemplate(metric(rm, 'cicada.request.failures')), { 'GET /a': 0, 'POST /b': 1 });
    const point = requests.dataPoints[0]!;
    assert.deepEqual(point.attributes, { 'http.request.method': 'GET', 'url.template': '/a', 'cicada.run_id': runIdOf(data) }, 'no cicada.scenario outside scenarios');
    assert.deepEqual(point.startTime, hrTimeOf(data.snapshot.startTime * 1000), 'cumulative since the statistics started');
    assert.deepEqual(point.endTime, hrTimeOf(T0 + 1000));
  });

  it('sends response times as http.client.request.duration: seconds, explicit bounds, per-bucket counts adding up to the count', () => {
    const rm = convert(report(recorded()));
    const duration = metric(rm, 'http.client.request.duration');
    assert.equal(duration.descriptor.unit, 's');
    assert.equal(duration.dataPointType, DataPointType.HISTOGRAM);
    assert.equal(duration.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    if (duration.dataPointType !== DataPointType.HISTOGRAM) return;
    const a = duration.dataPoints.find((p) => p.attributes['url.template'] === '/a')!.value;
    assert.deepEqual(a.buckets.boundaries, [...RESPONSE_TIME_BOUNDS]);
    assert.equal(a.buckets.counts.length, RESPONSE_TIME_BOUNDS.length + 1, 'one bucket per bound, then the overflow');
    assert.equal(a.count, 6);
    assert.equal(a.buckets.counts.reduce((x, y) => x + y, 0), 6);
    assert.ok(Math.abs(a.sum! - 4.4452) < 1e-9, String(a.sum));
    const bucketOf = (seconds: number): number => RESPONSE_TIME_BOUNDS.findIndex((b) => b >= seconds);
    for (const seconds of [0.0003, 0.0009, 0.004, 0.04, 0.4, 4]) assert.ok(a.buckets.counts[bucketOf(seconds)]! >= 1, `a request of ${seconds} s in its bucket`);
  });

  it('names every family of the model explicitly (a new family needs a conscious OTel name)', () => {
    const data = gatedReportData();
    const empty = { indices: [], counts: [] };
    data.snapshot.scenarios = [{ name: 'browse', iterations: 5, failedIterations: 0, dropped: 1, interrupted: 0, duration: empty, lateness: empty }];
    for (const family of metricFamilies(data, { workers: 0 })) assert.ok(OTLP_NAMES[family.name], `${family.name} has no OTel name`);
  });

  it('sends checks by cicada.check and cicada.check.result, thresholds as a 1/0 gauge, users and workers as gauges', () => {
    const rm = convert(gatedReportData());
    const checks = metric(rm, 'cicada.checks');
    assert.deepEqual(checks.dataPoints.map((p) => [p.attributes['cicada.check'], p.attributes['cicada.check.result'], p.value]), [
      ['status is 200', 'pass', 970], ['status is 200', 'fail', 10], ['has an id', 'pass', 379], ['has an id', 'fail', 1],
    ]);
    const thresholds = metric(rm, 'cicada.threshold.passed');
    assert.equal(thresholds.dataPointType, DataPointType.GAUGE);
    assert.deepEqual(thresholds.dataPoints.map((p) => p.value), [1, 0, 1, 1]);
    assert.equal(thresholds.dataPoints[1]!.attributes['cicada.threshold'], 'response_time{name:/items/[id]} p(99)<200');
    assert.equal(metric(rm, 'cicada.users').dataPoints[0]!.value, 100);
    assert.equal(metric(rm, 'cicada.workers').dataPoints[0]!.value, 2);
  });

  it('puts the scenario in cicada.scenario when several scenarios run', () => {
    let clock = T0;
    const stats = new RequestStats({ now: () => clock });
    stats.log('GET', '/a [browse]', 1, 0, T0);
    stats.log('GET', '/a [buy]', 1, 0, T0);
    clock += 1000;
    const requests = metric(convert(report(stats, ['browse', 'buy'])), 'cicada.requests');
    assert.deepEqual(requests.dataPoints.map((p) => [p.attributes['url.template'], p.attributes['cicada.scenario']]), [['/a', 'browse'], ['/a', 'buy']]);
  });

  it('sends a method outside HTTP as _OTHER with http.request.method_original (the semantic conventions)', () => {
    assert.deepEqual(otlpAttributes({ method: 'grpc', name: 'Say', scenario: '', run_id: '1' }), {
      'http.request.method': '_OTHER', 'http.request.method_original': 'grpc', 'url.template': 'Say', 'cicada.run_id': '1',
    });
  });

  it('leaves out families without samples and counts a histogram point as one', () => {
    const rm = convert(report(recorded()));
    const names = rm.scopeMetrics[0]!.metrics.map((m) => m.descriptor.name);
    assert.ok(!names.includes('cicada.checks') && !names.includes('cicada.threshold.passed'), names.join(', '));
    // requests, failures, histogram and bytes for two names, then users and workers.
    assert.equal(pointCount(rm), 4 * 2 + 2);
  });

  it('keeps millisecond precision in the nanosecond timestamps', () => {
    assert.deepEqual(hrTimeOf(1_700_000_000_123.5), [1_700_000_000, 123_500_000]);
    assert.deepEqual(hrTimeOf(1_700_000_000_000), [1_700_000_000, 0]);
  });
});

describe('the OTLP resource', () => {
  it('is service.name cicada with its version unless OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES say otherwise', () => {
    const saved = { name: process.env.OTEL_SERVICE_NAME, attributes: process.env.OTEL_RESOURCE_ATTRIBUTES };
    try {
      delete process.env.OTEL_SERVICE_NAME;
      delete process.env.OTEL_RESOURCE_ATTRIBUTES;
      const plain = otlpResource('1.2.3').attributes;
      assert.equal(plain['service.name'], 'cicada');
      assert.equal(plain['service.version'], '1.2.3');
      process.env.OTEL_SERVICE_NAME = 'checkout-load';
      process.env.OTEL_RESOURCE_ATTRIBUTES = 'cicada.loadtest=nightly,deployment.environment.name=staging';
      const set = otlpResource('1.2.3').attributes;
      assert.equal(set['service.name'], 'checkout-load');
      assert.equal(set['cicada.loadtest'], 'nightly');
      assert.equal(set['deployment.environment.name'], 'staging');
    } finally {
      for (const [key, value] of [['OTEL_SERVICE_NAME', saved.name], ['OTEL_RESOURCE_ATTRIBUTES', saved.attributes]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});

describe('the report metric producer', () => {
  it('plugs into an SDK MetricReader as a metricProducer, and gives nothing before a report', async () => {
    const producer = new ReportMetricProducer({ resource, version: 't', workers: () => 0 });
    assert.equal(pointCount((await producer.collect()).resourceMetrics), 0);
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000, metricProducers: [producer] });
    const provider = new MeterProvider({ readers: [reader] });
    try {
      producer.observe(report(recorded()), T0 + 1000);
      await reader.forceFlush();
      const exported = exporter.getMetrics().at(-1)!;
      const requests = exported.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'cicada.requests')!;
      assert.deepEqual(byTemplate(requests), { 'GET /a': 6, 'POST /b': 1 });
      assert.deepEqual(exported.scopeMetrics.map((s) => s.scope.name), ['cicada'], 'the SDK adds no scope of its own');
    } finally {
      await provider.shutdown();
    }
  });
});
