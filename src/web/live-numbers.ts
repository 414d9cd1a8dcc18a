// Live numbers the web layer derives from successive reports (the current arrival rate), and what /swarm last started.
import type { ReportData } from '../exporters/report-data.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import type { LiveInputs } from './stats-json.ts';
import type { WebRun } from './web-run.ts';

/** The arrival rate is measured over about this much of the latest samples, ms. */
export const ARRIVAL_WINDOW_MS = 5_000;
/** Below this span between the oldest and newest sample the rate is unknown (null): too noisy. */
const MIN_SPAN_MS = 1_000;

interface Sample {
  /** Epoch ms of the snapshot. */
  time: number;
  /** Iterations that ran plus those dropped, summed over every scenario. */
  started: number;
}

/**
 * Iterations started per second (those run plus those dropped: the rate the schedule asked for),
 * from the cumulative counts of successive snapshots. Pure: time comes from the snapshots.
 * Samples are kept for about `windowMs`; one sample at or before the window's start is kept too,
 * so the rate spans the whole window (or, when samples are further apart, since the previous one).
 */
export class ArrivalRateMeter {
  private samples: Sample[] = [];
  private startTime: number | undefined;

  constructor(private readonly windowMs = ARRIVAL_WINDOW_MS) {}

  /** Feeds a snapshot; returns iterations started per second, or null when not known (yet). */
  observe(snapshot: Pick<StatsSnapshot, 'time' | 'startTime' | 'scenarios'>, live: boolean): number | null {
    const scenarios = snapshot.scenarios ?? [];
    if (scenarios.length === 0) {
      this.samples = [];
      return null;
    }
    const started = scenarios.reduce((n, s) => n + s.iterations + s.dropped, 0);
    const last = this.samples.at(-1);
    // A new run or a reset starts the counts over.
    if (snapshot.startTime !== this.startTime || (last !== undefined && started < last.started)) {
      this.startTime = snapshot.startTime;
      this.samples = [];
    }
    const newest = this.samples.at(-1);
    if (newest === undefined || snapshot.time > newest.time) this.samples.push({ time: snapshot.time, started });
    const horizon = snapshot.time - this.windowMs;
    while (this.samples.length > 2 && this.samples[1]!.time <= horizon) this.samples.shift();
    // Nothing starts once the run has stopped, whatever the last window held.
    if (!live) return 0;
    const first = this.samples[0]!;
    const end = this.samples.at(-1)!;
    const span = end.time - first.time;
    if (span < MIN_SPAN_MS) return null;
    return ((end.started - first.started) * 1000) / span;
  }
}

/** What the web layer keeps between requests. */
export class LiveNumbers {
  readonly arrivalRate = new ArrivalRateMeter();
  /**
   * The executor of each scenario /swarm started, by name (an arrival rate starts `default` as
   * constant-arrival-rate): the reports' metadata only knows the declared scenarios.
   */
  started: ReadonlyMap<string, string> = new Map();

  /** What /stats/requests and /stream add to this report (each call also feeds the arrival-rate meter). */
  inputsFor(data: ReportData, run: WebRun): LiveInputs {
    const declared = data.meta.scenarios ?? run.facts.scenarios ?? [];
    const state = data.meta.state;
    return {
      targetUserCount: run.runner.targetUserCount,
      workers: run.workers?.(),
      currentArrivalRate: this.arrivalRate.observe(data.snapshot, state !== 'ready' && state !== 'stopped'),
      executorOf: (name) => this.started.get(name) ?? declared.find((s) => s.name === name)?.executor ?? null,
    };
  }
}
