// The Output contract of the run lifecycle (DESIGN.md §4): every report, view and export of a run implements it.
import type { LiveProgress, ReportData } from './report-data.ts';

/** What an output is told of the run as it goes. */
export interface OutputTick {
  /** The report as of now. */
  readonly data: ReportData;
  readonly progress: LiveProgress;
  /** Epoch ms of this tick. */
  readonly now: number;
}

/**
 * One output of a run: the console, CSV, HTML and JSON reports, and (later) JUnit, thresholds and the
 * exporters. The lifecycle calls `start` once before the load (a destination that cannot be written
 * fails the run here, before any request), `tick` every `intervalMs` while the run goes, and `stop`
 * once with the final report, on every stop path.
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
  stop?(data: ReportData): Promise<void> | void;
}
