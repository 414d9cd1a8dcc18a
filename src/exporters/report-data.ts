// The input every exporter renders: a cumulative stats snapshot, its derived entry views and run metadata.
import type { EntryView, StatsSnapshot, ThresholdResult } from '../stats/types.ts';

/** Task ratios as `--show-task-ratio` and Locust's `/tasks` show them; nested for TaskSets. */
export interface TaskRatioNode {
  /** Share of the parent, 0..1. */
  ratio: number;
  tasks?: Record<string, TaskRatioNode>;
}

export interface TaskRatios {
  /** Ratio of each task within its own user class. */
  perClass: Record<string, TaskRatioNode>;
  /** Ratio of each task over the whole run (class weight × task weight). */
  total: Record<string, TaskRatioNode>;
}

export interface ReportMeta {
  host: string;
  cicadafiles: string[];
  /** Epoch ms. */
  startTime: number;
  /** Epoch ms; for a live report, the time the report was made. */
  endTime: number;
  /** Runner state, e.g. `running` or `stopped`. */
  state: string;
  userCount: number;
  userClassCounts: Record<string, number>;
  taskRatios?: TaskRatios;
  cicadaVersion: string;
  /** The run's scenarios, when it runs any beyond the `-u/-r` default. */
  scenarios?: ScenarioMeta[];
}

/** What the reports say about one scenario. */
export interface ScenarioMeta {
  name: string;
  executor: string;
  /** e.g. `100 iterations per 1 s for 30 s`. */
  description: string;
  /** The scenario's own tags (`tags: { team: 'checkout' }`). */
  tags?: Record<string, string>;
}

/**
 * Everything an exporter needs. Exporters only format: the CLI (or web layer) derives `entries` and
 * `total` from `snapshot` with the stats functions, so no exporter computes statistics itself.
 */
export interface ReportData {
  /** Raw cumulative data: history for charts, errors, exceptions, raw entries for JSON. */
  snapshot: StatsSnapshot;
  /** One view per (method, name), already sorted in Locust order (name, then method). */
  entries: EntryView[];
  /** The Aggregated row (method '', name 'Aggregated'). */
  total: EntryView;
  meta: ReportMeta;
  /**
   * Current (sliding-window) percentiles per entry, keyed by `entryKey(method, name)` and aligned with
   * PERCENTILES_TO_REPORT. Only `--csv-full-history` needs them (Locust switches history rows to
   * "current" percentiles there); entries without a value fall back to their cumulative percentiles.
   */
  currentPercentiles?: Record<string, (number | null)[]>;
  /** The run's thresholds, evaluated against `snapshot` (absent: the run has none). */
  thresholds?: ThresholdResult[];
}

/** How a run ended, for the outputs written at its end (the summary JSON's `exit_code`). */
export interface RunEnd {
  /** The process's exit code (decideExitCode). */
  exitCode: number;
}

/** Converts a histogram bucket index to its value in ms (supplied by the stats histogram, which exporters may not import). */
export type BucketValue = (index: number) => number;

/** Key of one (method, name) entry in maps such as `ReportData.currentPercentiles`. */
export function entryKey(method: string, name: string): string {
  return `${method} ${name}`;
}

/** Progress of a live run, for the console header. */
export interface LiveProgress {
  /** Time since the run started, ms. */
  elapsedMs: number;
  /** `-t/--run-time` in ms, when set. */
  runTimeMs?: number;
  userCount: number;
  targetUserCount: number;
  spawning: boolean;
  state: string;
}
