// Per-scenario iteration statistics: iterations run, dropped and interrupted, and iteration_duration measured from the schedule.
import type { IterationEvent } from '../core/events.ts';
import { Histogram, percentilesOfData } from './histogram.ts';
import { PERCENTILES_TO_REPORT, type HistogramData, type ScenarioSnapshot } from './types.ts';

class ScenarioEntry {
  iterations = 0;
  failedIterations = 0;
  dropped = 0;
  interrupted = 0;
  notRun = 0;
  readonly duration = new Histogram();
  readonly lateness = new Histogram();
}

/** Records `iteration` events per scenario. */
export class ScenarioStats {
  private readonly byName = new Map<string, ScenarioEntry>();
  /** Scenario names kept; later new names are ignored (names come from the run's own config). */
  private static readonly MAX = 100;

  record(e: IterationEvent): void {
    let entry = this.byName.get(e.scenario);
    if (entry === undefined) {
      if (this.byName.size >= ScenarioStats.MAX) return;
      this.byName.set(e.scenario, (entry = new ScenarioEntry()));
    }
    if (e.notRun !== undefined) {
      entry.notRun += e.notRun;
      return;
    }
    if (e.dropped) {
      entry.dropped++;
      return;
    }
    entry.iterations++;
    if (!e.ok) entry.failedIterations++;
    if (e.interrupted) entry.interrupted++;
    entry.duration.record(e.durationMs);
    entry.lateness.record(e.lateMs);
  }

  snapshot(): ScenarioSnapshot[] {
    return [...this.byName].map(([name, e]) => ({
      name, iterations: e.iterations, failedIterations: e.failedIterations, dropped: e.dropped, interrupted: e.interrupted,
      ...(e.notRun > 0 ? { notRun: e.notRun } : {}), duration: e.duration.toData(), lateness: e.lateness.toData(),
    }));
  }

  reset(): void {
    this.byName.clear();
  }
}

/** Sums the scenarios of several processes' snapshots (each cumulative), by name. */
export function mergeScenarios(lists: readonly (readonly ScenarioSnapshot[])[]): ScenarioSnapshot[] {
  const out = new Map<string, { s: Omit<ScenarioSnapshot, 'duration' | 'lateness'>; duration: Histogram; lateness: Histogram }>();
  for (const list of lists) {
    for (const s of list) {
      let m = out.get(s.name);
      if (m === undefined) out.set(s.name, (m = { s: { name: s.name, iterations: 0, failedIterations: 0, dropped: 0, interrupted: 0 }, duration: new Histogram(), lateness: new Histogram() }));
      m.s.iterations += s.iterations;
      m.s.failedIterations += s.failedIterations;
      m.s.dropped += s.dropped;
      m.s.interrupted += s.interrupted;
      if (s.notRun !== undefined) m.s.notRun = (m.s.notRun ?? 0) + s.notRun;
      m.duration.addData(s.duration);
      m.lateness.addData(s.lateness);
    }
  }
  return [...out.values()].map((m) => ({ ...m.s, duration: m.duration.toData(), lateness: m.lateness.toData() }));
}

/** `iteration_duration` (or lateness) percentiles, aligned with PERCENTILES_TO_REPORT. */
export function scenarioPercentiles(data: HistogramData): (number | null)[] {
  return percentilesOfData(data, PERCENTILES_TO_REPORT);
}
