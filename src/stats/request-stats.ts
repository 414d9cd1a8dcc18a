// The statistics recorder of one process: fed by the request event, read as plain snapshots.
import type { Events } from '../core/events.ts';
import { StatsEntry } from './entry.ts';
import { ErrorTable, ExceptionTable } from './failures.ts';
import { HistoryBuffer, type HistoryLimits } from './history.ts';
import { currentRate } from './rate.ts';
import { PERCENTILES_TO_REPORT, type EntrySnapshot, type HistoryPoint, type StatsSnapshot } from './types.ts';
import { HistogramWindow } from './window.ts';
import { ScenarioStats } from './scenario-stats.ts';
import { CheckStats } from './checks.ts';

/** Name of the entry that requests with names beyond the cap are grouped into (per method). */
export const OTHER_NAME = '(other)';
/** Method and name of the Aggregated total. */
export const AGGREGATED_METHOD = '';
export const AGGREGATED_NAME = 'Aggregated';

export interface RequestStatsOptions {
  /** Distinct (method, name) pairs kept; later new names are grouped as `(other)`. Default 500. */
  maxNames?: number;
  /** Distinct (method, name, message) error rows; later new messages are grouped. Default 1000. */
  maxErrors?: number;
  /** Distinct exception tracebacks; later new ones are grouped. Default 1000. */
  maxExceptions?: number;
  /** Wall clock, epoch ms (injected by tests). Default `Date.now`. */
  now?: () => number;
  /** Called once (per recorder) with the first name that did not fit under `maxNames`. */
  onNameCapReached?: (firstOverflowName: string) => void;
  /**
   * Also keep current-window percentiles per entry (needed by `--csv-full-history`). Costs two
   * histogram copies per entry and a scan of each entry once per `recordHistory`. Default false.
   */
  entryWindows?: boolean;
  /** Bounds of the history (default: 6 h at 1 s, then 7 days at 1 min). */
  history?: HistoryLimits;
}

/** Current-window percentiles of one entry, aligned with PERCENTILES_TO_REPORT. */
export interface EntryCurrentPercentiles {
  method: string;
  name: string;
  percentiles: (number | null)[];
}

/**
 * Records every request of this process, per (method, name) and in total.
 * @example
 * ```ts
 * const stats = new RequestStats({ onNameCapReached: (n) => logger.warning(`too many names: ${n}`) });
 * const detach = stats.attach(events);
 * setInterval(() => stats.recordHistory(runner.userCount), 1000);
 * const snapshot = stats.snapshot(runner.userCount);
 * ```
 */
export class RequestStats {
  private readonly maxNames: number;
  private readonly now: () => number;
  private readonly onNameCapReached: ((firstOverflowName: string) => void) | undefined;
  private readonly trackEntryWindows: boolean;
  /** method → name → entry; nested so the hot path never builds a key string. */
  private readonly entries = new Map<string, Map<string, StatsEntry>>();
  private distinctNames = 0;
  private capReported = false;
  private overflowed = 0;
  readonly total = new StatsEntry(AGGREGATED_METHOD, AGGREGATED_NAME);
  private readonly errors: ErrorTable;
  private readonly scenarios = new ScenarioStats();
  private readonly checks = new CheckStats();
  private readonly exceptions: ExceptionTable;
  private readonly history: HistoryBuffer;
  private readonly totalWindow = new HistogramWindow();
  private readonly entryWindows = new Map<StatsEntry, HistogramWindow>();
  /** Epoch seconds statistics started or were last reset. */
  private started: number;

  constructor(options: RequestStatsOptions = {}) {
    this.maxNames = Math.max(1, options.maxNames ?? 500);
    this.now = options.now ?? Date.now;
    this.onNameCapReached = options.onNameCapReached;
    this.trackEntryWindows = options.entryWindows ?? false;
    this.errors = new ErrorTable(Math.max(1, options.maxErrors ?? 1000));
    this.exceptions = new ExceptionTable(Math.max(1, options.maxExceptions ?? 1000));
    this.history = new HistoryBuffer(options.history);
    this.started = this.now() / 1000;
  }

  /**
   * With more than one scenario, requests are recorded per scenario as `name [scenario]` (Locust's CSV
   * columns stay as they are); the runner sets it when a run starts.
   */
  tagScenarios = false;

  /** Epoch seconds statistics started (or were last reset). */
  get startTime(): number {
    return this.started;
  }

  /** Requests whose names were grouped into `(other)` because the name cap was reached. */
  get overflowedNames(): number {
    return this.overflowed;
  }

  /**
   * Records one completed request (failed or not); `contentLength` in bytes. `atMs` is when it
   * completed (epoch ms), defaulting to the clock; passing it saves a clock read per request.
   */
  log(method: string, name: string, responseTimeMs: number, contentLength: number, atMs: number = this.now(), expectedIntervalMs?: number): void {
    const nowSec = atMs / 1000;
    this.entry(method, name, true).log(responseTimeMs, contentLength, nowSec, expectedIntervalMs);
    this.total.log(responseTimeMs, contentLength, nowSec, expectedIntervalMs);
  }

  /** Records one failure of (method, name); the request itself is recorded by `log`, as in Locust. */
  logError(method: string, name: string, message: string, atMs: number = this.now()): void {
    const nowSec = atMs / 1000;
    const entry = this.entry(method, name, false);
    entry.logError(nowSec);
    this.total.logError(nowSec);
    this.errors.log(method, entry.name, message, nowSec);
  }

  /** Records an error a task threw (not a request failure), keyed by its stack. */
  logException(msg: string, traceback: string, node = 'local'): void {
    this.exceptions.log(msg, traceback, node);
  }

  /**
   * Feeds this recorder from the event bus: every `request` is logged (and its error, if any) at
   * its end time, `startTime + responseTime`; every `userError` becomes an exception, every `iteration` and `check` is counted. Returns a function that detaches both listeners.
   */
  attach(events: Events): () => void {
    const offRequest = events.request.addListener((r) => {
      // The request's own end time (start + duration) instead of a clock read per request.
      const end = r.startTime + r.responseTime;
      const at = end > 0 ? end : this.now();
      const name = this.tagScenarios && r.scenario !== undefined ? `${r.name} [${r.scenario}]` : r.name;
      this.log(r.requestType, name, r.responseTime, r.responseLength, at, r.expectedIntervalMs);
      if (r.error) this.logError(r.requestType, name, r.error.message, at);
    });
    const offUserError = events.userError.addListener((e) => {
      this.logException(e.error.message, e.error.stack ?? `${e.error.name}: ${e.error.message}`);
    });
    const offIteration = events.iteration.addListener((e) => this.scenarios.record(e));
    const offCheck = events.check.addListener((e) => this.checks.record(e));
    return () => {
      offCheck();
      offRequest();
      offUserError();
      offIteration();
    };
  }

  /**
   * Appends this second's history point (the runner calls it once per second). Also advances the
   * current-percentile windows, so "current" means the samples of the last 10 calls (≈ 10 s).
   */
  recordHistory(userCount: number): HistoryPoint {
    const nowMs = this.now();
    this.totalWindow.tick(this.total.histogram);
    for (const [entry, window] of this.entryWindows) window.tick(entry.histogram);
    const point: HistoryPoint = {
      time: Math.floor(nowMs / 1000),
      userCount,
      currentRps: currentRate((s) => this.total.requestsAt(s), this.started, nowMs),
      currentFailPerSec: currentRate((s) => this.total.failuresAt(s), this.started, nowMs),
      currentPercentiles: this.clamped(this.totalWindow, this.total),
      totalRequests: this.total.numRequests,
      totalFailures: this.total.numFailures,
    };
    this.history.push(point);
    return point;
  }

  /** Current-window percentiles of the Aggregated row (as of the last `recordHistory`). */
  currentPercentiles(): (number | null)[] {
    return this.clamped(this.totalWindow, this.total);
  }

  /** Current-window percentiles per entry; empty unless the `entryWindows` option is on. */
  currentEntryPercentiles(): EntryCurrentPercentiles[] {
    const out: EntryCurrentPercentiles[] = [];
    for (const [entry, window] of this.entryWindows) {
      out.push({ method: entry.method, name: entry.name, percentiles: this.clamped(window, entry) });
    }
    return out;
  }

  /**
   * Cumulative plain data since the last reset. Workers reporting every second can leave out the
   * history (`{ history: false }`): the master keeps its own.
   */
  snapshot(userCount: number, options: { history?: boolean } = {}): StatsSnapshot {
    const entries: EntrySnapshot[] = [];
    for (const byName of this.entries.values()) for (const entry of byName.values()) entries.push(entry.toSnapshot());
    return {
      time: this.now(),
      startTime: this.started,
      entries,
      total: this.total.toSnapshot(),
      errors: this.errors.toSnapshot(),
      exceptions: this.exceptions.toSnapshot(),
      history: options.history === false ? [] : this.history.toArray(),
      userCount,
      overflowedNames: this.overflowed,
      scenarios: this.scenarios.snapshot(),
      checks: this.checks.snapshot(),
    };
  }

  /** Clears every entry, error, exception and history point, and restarts `startTime` now. */
  reset(): void {
    this.entries.clear();
    this.entryWindows.clear();
    this.scenarios.reset();
    this.checks.reset();
    this.distinctNames = 0;
    this.overflowed = 0;
    this.total.reset();
    this.totalWindow.clear();
    this.errors.clear();
    this.exceptions.clear();
    this.history.clear();
    this.started = this.now() / 1000;
  }

  /** The entry for (method, name), created on first use; `(other)` once the name cap is reached. */
  private entry(method: string, name: string, countOverflow: boolean): StatsEntry {
    let byName = this.entries.get(method);
    if (byName === undefined) this.entries.set(method, (byName = new Map<string, StatsEntry>()));
    const found = byName.get(name);
    if (found !== undefined) return found;
    if (this.distinctNames < this.maxNames) {
      this.distinctNames++;
      return this.create(byName, method, name);
    }
    if (countOverflow) this.overflowed++;
    if (!this.capReported) {
      this.capReported = true;
      this.onNameCapReached?.(name);
    }
    return byName.get(OTHER_NAME) ?? this.create(byName, method, OTHER_NAME);
  }

  private create(byName: Map<string, StatsEntry>, method: string, name: string): StatsEntry {
    const entry = new StatsEntry(method, name);
    byName.set(name, entry);
    if (this.trackEntryWindows) this.entryWindows.set(entry, new HistogramWindow());
    return entry;
  }

  private clamped(window: HistogramWindow, entry: StatsEntry): (number | null)[] {
    return window.valuesAtPercentiles(PERCENTILES_TO_REPORT).map((v) =>
      v === null ? null : Math.min(Math.max(v, entry.minResponseTime), entry.maxResponseTime));
  }
}
