// `--summary-json FILE`: everything a CI job wants from a run in one document (docs/summary.schema.json).
import { thresholdJson, type ThresholdJson } from './threshold-json.ts';
import { scenarioPercentiles } from '../stats/scenario-stats.ts';
import { PERCENTILES_TO_REPORT } from '../stats/types.ts';
import { entryJson, percentileMap, type EntryJson } from './json.ts';
import type { ReportData, RunEnd } from './report-data.ts';

/** Field names are snake_case (like the REST API) and stable within `schema`; a breaking change bumps it. */
export interface SummaryJson {
  schema: 'cicada.summary/v2';
  meta: {
    cicada_version: string;
    host: string;
    cicadafiles: string[];
    /** ISO 8601, UTC; '' when unknown. */
    start_time: string;
    end_time: string;
    duration_s: number;
    state: string;
    user_count: number;
    user_class_counts: Record<string, number>;
    /** The run's scenarios as configured ([] for a plain `-u/-r` run). */
    scenarios: { name: string; executor: string; description: string; tags: Record<string, string> }[];
  };
  /** The percentiles of every `response_time_percentiles` and `iteration_duration` map. */
  percentiles: number[];
  stats: EntryJson[];
  total: EntryJson;
  errors: { method: string; name: string; error: string; occurrences: number; first_seen: number; last_seen: number }[];
  exceptions: { count: number; msg: string; traceback: string; nodes: string[] }[];
  thresholds: SummaryThreshold[];
  checks: SummaryCheck[];
  scenarios: SummaryScenario[];
  /** The process's exit code: 0 passed, 99 a threshold failed (see the exit-code table). */
  exit_code: number;
}

/** One threshold as evaluated at the end of the run (the API's shape). */
export type SummaryThreshold = ThresholdJson;

/** One check name's results for one request name. */
export interface SummaryCheck {
  name: string;
  /** The request name checked, '' when the value had none. */
  request: string;
  passes: number;
  fails: number;
  last_error?: string;
}

/** One scenario's iterations, with what its configuration says about it. */
export interface SummaryScenario {
  name: string;
  /** From the run's configuration; null when the statistics name a scenario it does not list. */
  executor: string | null;
  description: string | null;
  iterations: number;
  failed_iterations: number;
  dropped_iterations: number;
  interrupted: number;
  not_run: number;
  /** ms from each iteration's scheduled start to its end, keyed as `response_time_percentiles`. */
  iteration_duration: Record<string, number | null>;
}

function iso(epochMs: number): string {
  return Number.isFinite(epochMs) && epochMs > 0 ? new Date(epochMs).toISOString() : '';
}

function meta(data: ReportData): SummaryJson['meta'] {
  const m = data.meta;
  return {
    cicada_version: m.cicadaVersion,
    host: m.host,
    cicadafiles: [...m.cicadafiles],
    start_time: iso(m.startTime),
    end_time: iso(m.endTime),
    duration_s: Math.max(0, (m.endTime - m.startTime) / 1000),
    state: m.state,
    user_count: m.userCount,
    user_class_counts: { ...m.userClassCounts },
    scenarios: (m.scenarios ?? []).map((s) => ({ name: s.name, executor: s.executor, description: s.description, tags: { ...s.tags } })),
  };
}

function scenarios(data: ReportData): SummaryScenario[] {
  const configured = new Map((data.meta.scenarios ?? []).map((s) => [s.name, s]));
  return [...(data.snapshot.scenarios ?? [])]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => ({
      name: s.name,
      executor: configured.get(s.name)?.executor ?? null,
      description: configured.get(s.name)?.description ?? null,
      iterations: s.iterations,
      failed_iterations: s.failedIterations,
      dropped_iterations: s.dropped,
      interrupted: s.interrupted,
      not_run: s.notRun ?? 0,
      iteration_duration: percentileMap(scenarioPercentiles(s.duration)),
    }));
}

/**
 * The summary document of a finished run, so CI can gate on and archive one file: Locust's entry
 * fields with every percentile, errors, the thresholds as evaluated, checks, scenarios and the exit code.
 */
export function summaryJson(data: ReportData, end: RunEnd): SummaryJson {
  return {
    schema: 'cicada.summary/v2',
    meta: meta(data),
    percentiles: [...PERCENTILES_TO_REPORT],
    stats: data.entries.map(entryJson),
    total: entryJson(data.total),
    errors: data.snapshot.errors.map((e) => ({
      method: e.method,
      name: e.name,
      error: e.error,
      occurrences: e.occurrences,
      first_seen: e.firstSeen,
      last_seen: e.lastSeen,
    })),
    exceptions: data.snapshot.exceptions.map((x) => ({ count: x.count, msg: x.msg, traceback: x.traceback, nodes: [...x.nodes] })),
    thresholds: (data.thresholds ?? []).map(thresholdJson),
    checks: (data.snapshot.checks ?? []).map((c) => ({
      name: c.name,
      request: c.request,
      passes: c.passes,
      fails: c.fails,
      ...(c.lastError !== undefined ? { last_error: c.lastError } : {}),
    })),
    scenarios: scenarios(data),
    exit_code: end.exitCode,
  };
}
