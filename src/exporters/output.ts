// The Output contract of the run lifecycle (DESIGN.md §4): every report, view and export of a run implements it.
import type { LiveProgress, ReportData, RunEnd } from './report-data.ts';

/** What an output is told of the run as it goes. */
export interface OutputTick {
  /** The report as of now. */
  readonly data: ReportData;
  readonly progress: LiveProgress;
  /** Epoch ms of this tick. */
  readonly now: number;
}

/**
 * One output of a run: the console, CSV, HTML and JSON reports, and JUnit and summary JSON, and the
 * exporters. The lifecycle calls `start` once before the load (a destination that cannot be written
 * fails the run here, before any request), `tick` every `intervalMs` while the run goes, and `stop`
 * once with the final report and the run's exit code, on every stop path.
 * @example
 * ```ts
 * const htmlOutput = { name: 'html', start: () => checkWritable(file), stop: (data) => writeFile(file, htmlReport(data)) } satisfies Output;
 * ```
 */
export interface Output {
  readonly name: string;
  /** How often `tick` is called, ms (at most once a second); absent: never. */
  readonly intervalMs?: number;
  start?(): Promise<void> | void;
  tick?(tick: OutputTick): Promise<void> | void;
  /** The final report, and how the run ended (its exit code is decided before the outputs are written). */
  stop?(data: ReportData, end: RunEnd): Promise<void> | void;
}
