// The OTLP view of a report: its metric families (model.ts) as OpenTelemetry ResourceMetrics, cumulative, in OTel's names.
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType,
  type CollectionResult, type DataPoint, type Histogram, type MetricData, type MetricProducer, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ReportData } from '../report-data.ts';
import { metricFamilies, type Labels, type MetricFamily } from './model.ts';

/**
 * OTel names and units (UCUM, `{annotation}` for counts) of every family of model.ts. OTel's semantic
 * conventions where one exists (`http.client.request.duration`); Cicada's own `cicada.*` otherwise.
 * Failures stay a separate counter instead of an `error.type` on the histogram: the statistics keep
 * response times per method and name, not per error, so an `error.type` split could not be exact.
 */
export const OTLP_NAMES: Readonly<Record<string, { name: string; unit: string }>> = {
  cicada_requests_total: { name: 'cicada.requests', unit: '{request}' },
  cicada_request_failures_total: { name: 'cicada.request.failures', unit: '{request}' },
  cicada_response_time_seconds: { name: 'http.client.request.duration', unit: 's' },
  cicada_response_size_bytes_total: { name: 'cicada.response.body.size', unit: 'By' },
  cicada_users: { name: 'cicada.users', unit: '{user}' },
  cicada_workers: { name: 'cicada.workers', unit: '{worker}' },
  cicada_iterations_total: { name: 'cicada.iterations', unit: '{iteration}' },
  cicada_dropped_iterations_total: { name: 'cicada.dropped_iterations', unit: '{iteration}' },
  cicada_checks_total: { name: 'cicada.checks', unit: '{check}' },
  cicada_threshold_passed: { name: 'cicada.threshold.passed', unit: '1' },
};

/** Label → attribute. Cicada's own are namespaced `cicada.*`, as OTel asks of attributes outside its conventions. */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  method: 'http.request.method',
  name: 'url.template',
  scenario: 'cicada.scenario',
  run_id: 'cicada.run_id',
  check: 'cicada.check',
  result: 'cicada.check.result',
  threshold: 'cicada.threshold',
};

/** The methods `http.request.method` may hold as they are; any other is `_OTHER` plus `http.request.method_original`. */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

/** A family model.ts gains later still goes out, named by rule (`cicada_foo_total` → `cicada.foo`) until it gets an entry above. */
function otlpNameOf(family: MetricFamily): { name: string; unit: string } {
  const known = OTLP_NAMES[family.name];
  if (known !== undefined) return known;
  const unit = family.unit === 'seconds' ? 's' : family.unit === 'bytes' ? 'By' : '1';
  return { name: family.name.replace(/_(total|seconds|bytes)$/, '').replace(/^cicada_/, 'cicada.'), unit };
}

export function otlpAttributes(labels: Labels): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(labels)) {
    if (key === 'scenario' && value === '') continue; // '' = the request ran outside any named scenario
    if (key === 'method' && !KNOWN_METHODS.has(value)) {
      out['http.request.method'] = '_OTHER';
      out['http.request.method_original'] = value;
      continue;
    }
    out[ATTRIBUTE_NAMES[key] ?? `cicada.${key}`] = value;
  }
  return out;
}

/** Epoch ms as OTel's [seconds, nanoseconds]. */
export function hrTimeOf(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  const nanos = Math.min(999_999_999, Math.round((epochMs - seconds * 1000) * 1e6));
  return [seconds, nanos];
}

/** Per-bucket counts (OTLP's explicit-bounds layout: one per bound, then the overflow) from cumulative ones. */
function bucketCounts(cumulative: readonly number[], count: number): number[] {
  const counts = cumulative.map((c, i) => Math.max(0, c - (i === 0 ? 0 : cumulative[i - 1]!)));
  counts.push(Math.max(0, count - (cumulative.at(-1) ?? 0)));
  return counts;
}

export interface OtlpViewOptions {
  resource: Resource;
  /** The instrumentation scope: Cicada and its version. */
  scope: { name: string; version: string };
  /** Start of every cumulative point: when the statistics started (or were last reset), epoch ms. */
  startMs: number;
  /** When the report was taken, epoch ms. */
  endMs: number;
}

/**
 * The families as one ResourceMetrics: counters are monotonic CUMULATIVE sums, gauges gauges, histograms
 * explicit-bucket histograms on the family's bounds. Families without samples are left out.
 */
export function toResourceMetrics(families: readonly MetricFamily[], options: OtlpViewOptions): ResourceMetrics {
  const startTime = hrTimeOf(options.startMs);
  const endTime = hrTimeOf(options.endMs);
  const metrics: MetricData[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    const { name, unit } = otlpNameOf(family);
    const cumulative = AggregationTemporality.CUMULATIVE;
    if (family.type === 'histogram') {
      const boundaries = [...family.bounds];
      const dataPoints = family.samples.map((s): DataPoint<Histogram> => ({
        startTime, endTime, attributes: otlpAttributes(s.labels),
        value: { buckets: { boundaries, counts: bucketCounts(s.cumulative, s.count) }, sum: s.sum, count: s.count },
      }));
      const descriptor = { name, unit, description: family.help, valueType: ValueType.DOUBLE };
      metrics.push({ descriptor, aggregationTemporality: cumulative, dataPointType: DataPointType.HISTOGRAM, dataPoints });
      continue;
    }
    const dataPoints = family.samples.map((s): DataPoint<number> => ({ startTime, endTime, attributes: otlpAttributes(s.labels), value: s.value }));
    const descriptor = { name, unit, description: family.help, valueType: ValueType.INT };
    if (family.type === 'counter') {
      metrics.push({ descriptor, aggregationTemporality: cumulative, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints });
    } else {
      metrics.push({ descriptor, aggregationTemporality: cumulative, dataPointType: DataPointType.GAUGE, dataPoints });
    }
  }
  return { resource: options.resource, scopeMetrics: metrics.length === 0 ? [] : [{ scope: options.scope, metrics }] };
}

/** How many data points a ResourceMetrics holds (a histogram point is one): what "points sent" counts. */
export function pointCount(resourceMetrics: ResourceMetrics): number {
  return resourceMetrics.scopeMetrics.reduce((n, scope) => n + scope.metrics.reduce((m, metric) => m + metric.dataPoints.length, 0), 0);
}

/**
 * Cicada's resource: service.name `cicada` and its version, overridden by OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES (read by the SDK's env detector, which ignores a malformed value whole).
 */
export function otlpResource(version: string): Resource {
  return defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'cicada', 'service.version': version }))
    .merge(detectResources({ detectors: [envDetector] }));
}

export interface ReportMetricProducerOptions {
  resource: Resource;
  version: string;
  /** Workers connected now (the `cicada.workers` gauge). */
  workers: () => number;
}

/**
 * The SDK's MetricProducer over the latest report. Cicada's statistics are already aggregated
 * (cumulative, and on a master merged exactly from the workers), so nothing is recorded through OTel
 * instruments again: each collect converts the report as it stands. It also plugs into any
 * MetricReader (`new PeriodicExportingMetricReader({ exporter, metricProducers: [producer] })`).
 * @example
 * ```ts
 * const producer = new ReportMetricProducer({ resource: otlpResource('1.0.0'), version: '1.0.0', workers: () => 0 });
 * producer.observe(report, Date.now());
 * const { resourceMetrics } = await producer.collect();
 * ```
 */
export class ReportMetricProducer implements MetricProducer {
  private readonly options: ReportMetricProducerOptions;
  private latest: { data: ReportData; at: number } | undefined;

  constructor(options: ReportMetricProducerOptions) {
    this.options = options;
  }

  /** The report the next collect converts, taken at `at` (epoch ms). */
  observe(data: ReportData, at: number): void {
    this.latest = { data, at };
  }

  collect(): Promise<CollectionResult> {
    const { resource, version, workers } = this.options;
    if (this.latest === undefined) return Promise.resolve({ resourceMetrics: { resource, scopeMetrics: [] }, errors: [] });
    const { data, at } = this.latest;
    const families = metricFamilies(data, { workers: workers() });
    const resourceMetrics = toResourceMetrics(families, { resource, scope: { name: 'cicada', version }, startMs: data.snapshot.startTime * 1000, endMs: at });
    return Promise.resolve({ resourceMetrics, errors: [] });
  }
}
