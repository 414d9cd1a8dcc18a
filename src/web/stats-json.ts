// The JSON of GET /stats/requests (Locust's fields, plus Cicada's) and of the history points charts use.
import { entryJson, percentileMap, type EntryJson } from '../exporters/json.ts';
import type { ReportData } from '../exporters/report-data.ts';
import { scenarioPercentiles } from '../stats/scenario-stats.ts';
import { PERCENTILES_TO_REPORT, type HistoryPoint, type ScenarioSnapshot } from '../stats/types.ts';
import type { WorkerView } from './web-run.ts';

/** Locust caps the tables at 500 rows; the UI stays responsive with many dynamic names. */
const MAX_ROWS = 500;

export interface HistoryPointJson {
  time: number;
  user_count: number;
  current_rps: number;
  current_fail_per_sec: number;
  response_time_percentiles: Record<string, number | null>;
  total_requests: number;
  total_failures: number;
}

export function historyPointJson(point: HistoryPoint): HistoryPointJson {
  const percentiles = percentileMap(point.currentPercentiles);
  return {
    time: point.time,
    user_count: point.userCount,
    current_rps: point.currentRps,
    current_fail_per_sec: point.currentFailPerSec,
    response_time_percentiles: percentiles,
    total_requests: point.totalRequests,
    total_failures: point.totalFailures,
  };
}

/** One scenario's iterations (arrival-rate and iteration-count executors record them; closed-model ones do not). */
export interface ScenarioJson {
  name: string;
  /** null when the run does not say (a scenario the web layer did not start and the reports do not list). */
  executor: string | null;
  iterations: number;
  failed_iterations: number;
  dropped_iterations: number;
  interrupted_iterations: number;
  /** Iterations an iteration count owed and did not run (its maxDuration ended it first). */
  not_run_iterations: number;
  /** ms from each iteration's scheduled start to its end; the keys of `response_time_percentiles`. */
  iteration_duration_percentiles: Record<string, number | null>;
  /** How late the 99th percentile of iterations started against their schedule, ms. */
  start_lateness_p99: number | null;
}

const P99 = PERCENTILES_TO_REPORT.indexOf(0.99);

export function scenarioJson(s: ScenarioSnapshot, executor: string | null): ScenarioJson {
  return {
    name: s.name,
    executor,
    iterations: s.iterations,
    failed_iterations: s.failedIterations,
    dropped_iterations: s.dropped,
    interrupted_iterations: s.interrupted,
    not_run_iterations: s.notRun ?? 0,
    iteration_duration_percentiles: percentileMap(scenarioPercentiles(s.duration)),
    start_lateness_p99: scenarioPercentiles(s.lateness)[P99] ?? null,
  };
}

/** What /stats/requests adds to a report: from the runner, the workers, and the web layer's own memory. */
export interface LiveInputs {
  targetUserCount: number;
  workers?: WorkerView[] | undefined;
  /** Iterations started per second lately; null when unknown. */
  currentArrivalRate: number | null;
  /** The executor of a scenario by name, or null. */
  executorOf(name: string): string | null;
}

export interface StatsRequestsJson {
  stats: EntryJson[];
  errors: { method: string; name: string; error: string; occurrences: number; first_seen: number; last_seen: number }[];
  total_rps: number;
  total_fail_per_sec: number;
  fail_ratio: number;
  current_rps: number;
  current_fail_per_sec: number;
  current_response_time_percentiles: Record<string, number | null>;
  state: string;
  user_count: number;
  target_user_count: number;
  user_classes: Record<string, number>;
  exceptions_count: number;
  host: string;
  start_time: number;
  time: number;
  workers?: { id: string; state: string; user_count: number; cpu_usage: number; memory_usage: number; missing: boolean }[];
  worker_count?: number;
  scenarios: ScenarioJson[];
  dropped_iterations: number;
  current_arrival_rate: number | null;
}

export function statsRequestsJson(data: ReportData, live: LiveInputs): StatsRequestsJson {
  const { targetUserCount, workers } = live;
  const scenarios = data.snapshot.scenarios ?? [];
  const total = entryJson(data.total);
  const last = data.snapshot.history.at(-1);
  const current = last ? historyPointJson(last) : undefined;
  const stats = data.entries.slice(0, MAX_ROWS).map(entryJson);
  const errors = [...data.snapshot.errors]
    .sort((a, b) => b.occurrences - a.occurrences)
    .slice(0, MAX_ROWS)
    .map((e) => ({ method: e.method, name: e.name, error: e.error, occurrences: e.occurrences, first_seen: e.firstSeen, last_seen: e.lastSeen }));
  return {
    stats: [...stats, total],
    errors,
    total_rps: total.total_rps,
    total_fail_per_sec: total.total_fail_per_sec,
    fail_ratio: total.fail_ratio,
    current_rps: total.current_rps,
    current_fail_per_sec: total.current_fail_per_sec,
    // Locust's "current" percentiles: the sliding window of the latest history point.
    current_response_time_percentiles: {
      'response_time_percentile_0.5': current?.response_time_percentiles['0.5'] ?? null,
      'response_time_percentile_0.95': current?.response_time_percentiles['0.95'] ?? null,
    },
    state: data.meta.state,
    user_count: data.meta.userCount,
    target_user_count: targetUserCount,
    user_classes: data.meta.userClassCounts,
    exceptions_count: data.snapshot.exceptions.length,
    host: data.meta.host,
    start_time: data.snapshot.startTime,
    time: Math.floor(data.snapshot.time / 1000),
    ...(workers
      ? {
          workers: workers.map((w) => ({ id: w.id, state: w.state, user_count: w.userCount, cpu_usage: w.cpu, memory_usage: w.memory, missing: w.missing })),
          worker_count: workers.filter((w) => !w.missing).length,
        }
      : {}),
    scenarios: scenarios.map((s) => scenarioJson(s, live.executorOf(s.name))),
    dropped_iterations: scenarios.reduce((n, s) => n + s.dropped, 0),
    current_arrival_rate: live.currentArrivalRate === null ? null : Math.round(live.currentArrivalRate * 100) / 100,
  };
}
