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
}

export interface WebRun {
  runner: RunnerControl<StatsSnapshot>;
  /** Everything the exporters render, as of now. */
  report(): ReportData;
  facts: RunFacts;
  /** Workers of a distributed run; absent in one process. */
  workers?(): WorkerView[];
}
