// Evaluates thresholds against one statistics snapshot: exact counts, merged histograms, never averaged percentiles.
import { Histogram, bucketValue, percentilesOfData } from '../histogram.ts';
import { currentRates } from '../view.ts';
import type { CheckSnapshot, EntrySnapshot, HistogramData, StatsSnapshot, ThresholdResult } from '../types.ts';
import { unitOf, type Operator, type TagName } from './metrics.ts';
import type { ThresholdSpec } from './parse.ts';

/** How request names carry scenarios in this run. */
export interface ThresholdScope {
  /** The run's scenario names (empty: Locust's model). */
  scenarios: readonly string[];
  /** True when requests are recorded as `name [scenario]` (more than one scenario runs). */
  scenarioTagged: boolean;
}

/** `name [scenario]` → its parts, when the suffix names one of the run's scenarios. */
export function splitScenarioName(name: string, scope: ThresholdScope): { name: string; scenario: string | undefined } {
  if (scope.scenarioTagged) {
    const m = / \[([^\]]+)\]$/.exec(name);
    if (m !== null && scope.scenarios.includes(m[1]!)) return { name: name.slice(0, m.index), scenario: m[1] };
  }
  return { name, scenario: scope.scenarios.length === 1 ? scope.scenarios[0] : undefined };
}

function matchesEntry(e: EntrySnapshot, tags: ThresholdSpec['tags'], scope: ThresholdScope): boolean {
  if (tags.method !== undefined && e.method !== tags.method) return false;
  if (tags.name === undefined && tags.scenario === undefined) return true;
  const parts = splitScenarioName(e.name, scope);
  if (tags.name !== undefined && parts.name !== tags.name) return false;
  return tags.scenario === undefined || parts.scenario === tags.scenario;
}

function hasRequestFilter(tags: ThresholdSpec['tags']): boolean {
  return tags.name !== undefined || tags.method !== undefined || tags.scenario !== undefined;
}

/** The request entries a threshold covers: the exact Aggregated row when unfiltered (it includes every name). */
function requestEntries(spec: ThresholdSpec, snapshot: StatsSnapshot, scope: ThresholdScope): EntrySnapshot[] {
  if (!hasRequestFilter(spec.tags)) return [snapshot.total];
  return snapshot.entries.filter((e) => matchesEntry(e, spec.tags, scope));
}

/** Response-time aggregations over several entries: sums and exact min/max added, histograms merged. */
function responseTime(spec: ThresholdSpec, entries: readonly EntrySnapshot[]): number | null {
  let n = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const e of entries) {
    if (e.numRequests === 0) continue;
    n += e.numRequests;
    sum += e.totalResponseTime;
    min = Math.min(min, e.minResponseTime);
    max = Math.max(max, e.maxResponseTime);
  }
  if (n === 0) return null;
  switch (spec.aggregation) {
    case 'avg': return sum / n;
    case 'min': return min;
    case 'max': return max;
    default: {
      const p = spec.aggregation === 'med' ? 0.5 : (spec.percentile ?? 100) / 100;
      if (p === 1) return max;
      const data = entries.length === 1 ? entries[0]!.histogram : mergedData(entries.map((e) => e.histogram));
      const value = percentilesOfData(data, [p])[0] ?? null;
      return value === null ? null : Math.min(Math.max(value, min), max);
    }
  }
}

function mergedData(list: readonly HistogramData[]): HistogramData {
  const h = new Histogram();
  for (const d of list) h.addData(d);
  return h.toData();
}

/** Iteration durations live in histograms only: avg, min and max come from them (≤ 0.1 % off). */
function histogramAggregate(spec: ThresholdSpec, data: HistogramData): number | null {
  let n = 0;
  let sum = 0;
  data.indices.forEach((index, i) => {
    const c = data.counts[i] ?? 0;
    n += c;
    sum += c * bucketValue(index);
  });
  if (n === 0) return null;
  const p = spec.aggregation === 'avg' ? undefined : spec.aggregation === 'min' ? 0 : spec.aggregation === 'max' ? 1 : spec.aggregation === 'med' ? 0.5 : (spec.percentile ?? 100) / 100;
  if (p === undefined) return sum / n;
  return percentilesOfData(data, [p])[0] ?? null;
}

function checkRate(checks: readonly CheckSnapshot[], tags: ThresholdSpec['tags']): number | null {
  let passes = 0;
  let total = 0;
  for (const c of checks) {
    if (tags.check !== undefined && c.name !== tags.check) continue;
    if (tags.name !== undefined && c.request !== tags.name) continue;
    passes += c.passes;
    total += c.passes + c.fails;
  }
  return total === 0 ? null : passes / total;
}

/** Seconds the statistics cover (for per-second rates over the run). */
function elapsedSeconds(snapshot: StatsSnapshot): number {
  return Math.max(0.001, snapshot.time / 1000 - snapshot.startTime);
}

/** The value a threshold compares, or null when nothing it covers has happened yet. */
export function observe(spec: ThresholdSpec, snapshot: StatsSnapshot, scope: ThresholdScope): number | null {
  switch (spec.base) {
    case 'response_time':
      return responseTime(spec, requestEntries(spec, snapshot, scope));
    case 'requests':
    case 'failures': {
      // Counts are never "no data": nothing matched is a count of 0 (so `requests{name:/login} count>0` fails).
      const entries = requestEntries(spec, snapshot, scope);
      const count = entries.reduce((n, e) => n + (spec.base === 'requests' ? e.numRequests : e.numFailures), 0);
      return spec.aggregation === 'count' ? count : count / elapsedSeconds(snapshot);
    }
    case 'fail_ratio': {
      const entries = requestEntries(spec, snapshot, scope);
      const requests = entries.reduce((n, e) => n + e.numRequests, 0);
      const failures = entries.reduce((n, e) => n + e.numFailures, 0);
      if (requests === 0) return failures > 0 ? 1 : null;
      return failures / requests;
    }
    case 'rps': {
      const entries = requestEntries(spec, snapshot, scope);
      return entries.reduce((sum, e) => sum + currentRates(e, snapshot.time).rps, 0);
    }
    case 'checks':
      return checkRate(snapshot.checks ?? [], spec.tags);
    case 'iteration_duration':
    case 'dropped_iterations': {
      const scenarios = (snapshot.scenarios ?? []).filter((s) => spec.tags.scenario === undefined || s.name === spec.tags.scenario);
      if (spec.base === 'iteration_duration') return histogramAggregate(spec, mergedData(scenarios.map((s) => s.duration)));
      const dropped = scenarios.reduce((n, s) => n + s.dropped, 0);
      return spec.aggregation === 'count' ? dropped : dropped / elapsedSeconds(snapshot);
    }
  }
}

function holds(observed: number, operator: Operator, value: number): boolean {
  switch (operator) {
    case '<': return observed < value;
    case '<=': return observed <= value;
    case '>': return observed > value;
    case '>=': return observed >= value;
    case '==': return observed === value;
    case '!=': return observed !== value;
  }
}

/** Every threshold against one snapshot (a pure function: the same snapshot gives the same verdicts). */
export function evaluateThresholds(specs: readonly ThresholdSpec[], snapshot: StatsSnapshot, scope: ThresholdScope): ThresholdResult[] {
  return specs.map((spec) => {
    const observed = observe(spec, snapshot, scope);
    const tags: Record<string, string> = {};
    for (const [tag, value] of Object.entries(spec.tags) as [TagName, string][]) tags[tag] = value;
    return {
      metric: spec.metric,
      expression: spec.expression,
      // No data yet passes, as in k6 (counts and rates are never null: nothing is a count of 0).
      ok: observed === null || holds(observed, spec.operator, spec.value),
      observed,
      unit: unitOf(spec.base, spec.aggregation),
      tags,
      abortOnFail: spec.abortOnFail,
    };
  });
}
