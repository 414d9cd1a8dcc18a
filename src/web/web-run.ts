// What the web layer needs from a run: a runner (through the core contract), report data, and a few facts.
import type { RunnerControl } from '../core/contracts.ts';
import type { ReportData } from '../exporters/report-data.ts';
import type { StatsSnapshot } from '../stats/types.ts';

export interface WorkerView {
  id: string;
  state: string;
  userCount: number;
  /** CPU use of the worker process, percent of one core. */
  cpu: number;
  /** Resident memory, bytes. */
  memory: number;
  missing: boolean;
}

/** Facts for the start form (`GET /config`). */
export interface RunFacts {
  userClasses: string[];
  shapeClass: string | null;
  host: string;
  users: number | null;
  spawnRate: number | null;
  runTime: number | null;
  distributed: boolean;
  version: string;
  /** True when some user class has no host of its own and no -H was given: /swarm must bring one. */
  hostRequired?: boolean;
  /** The scenarios the cicadafile or config declares (the start form offers them); empty when none. */
  scenarios?: { name: string; executor: string; description: string }[];
}

export interface WebRun {
  runner: RunnerControl<StatsSnapshot>;
  /** Everything the exporters render, as of now. */
  report(): ReportData;
  facts: RunFacts;
  /** Workers of a distributed run; absent in one process. */
  workers?(): WorkerView[];
  /** `_stats_history.csv` of the current run, one row set per second (Locust's full-history download). */
  historyCsv?(): string;
  /** Starts the declared scenarios of these names (all when empty), capped at `runTime` seconds; throws UsageError for an unknown name. */
  startScenarios?(names: readonly string[], runTime?: number): void;
}
