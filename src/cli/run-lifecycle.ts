// The run lifecycle (DESIGN.md §4), hosted once for local, master and web runs: outputs start, tick, stop; one exit code.
import { repeat, systemTimers, type Timers } from '../core/clock.ts';
import { ExitCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Output } from '../exporters/output.ts';
import type { LiveProgress, ReportData } from '../exporters/report-data.ts';

/** The base tick of the lifecycle: outputs tick on multiples of it. */
const BASE_MS = 1000;

export interface RunLifecycleOptions {
  outputs: readonly Output[];
  /** The report as of now (one per tick, shared by every output). */
  report: () => ReportData;
  progress: () => LiveProgress;
  /** Outputs tick only while this holds (the web UI: while a run goes); default always. */
  active?: () => boolean;
  logger: Logger;
  timers?: Timers;
}

/**
 * Hosts a run's outputs: `start` starts each (in order; a failure is the run's, before any load), then
 * ticks them on their intervals (a failing tick is logged, never stops the run); `stop` stops ticking and
 * hands each output the final report, every one of them even when one fails (the first failure is thrown after).
 */
export class RunLifecycle {
  private readonly options: RunLifecycleOptions;
  private readonly timers: Timers;
  private stopTicking: (() => void) | undefined;
  private ticks = 0;

  constructor(options: RunLifecycleOptions) {
    this.options = options;
    this.timers = options.timers ?? systemTimers;
  }

  async start(): Promise<void> {
    for (const output of this.options.outputs) await output.start?.();
    if (this.options.outputs.some((o) => o.tick !== undefined && o.intervalMs !== undefined)) {
      this.stopTicking = repeat(this.timers, BASE_MS, () => this.tick());
    }
  }

  private tick(): void {
    this.ticks++;
    if (this.options.active?.() === false) return;
    const due = this.options.outputs.filter((o) => o.tick !== undefined && o.intervalMs !== undefined && this.ticks % Math.max(1, Math.round(o.intervalMs / BASE_MS)) === 0);
    if (due.length === 0) return;
    const tick = { data: this.options.report(), progress: this.options.progress(), now: Date.now() };
    for (const output of due) {
      try {
        const pending = output.tick!(tick);
        if (pending instanceof Promise) pending.catch((error: unknown) => this.failed(output, error));
      } catch (error) {
        this.failed(output, error);
      }
    }
  }

  private failed(output: Output, error: unknown): void {
    this.options.logger.error(`${output.name} output failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  /**
   * Stops ticking, takes the final report, lets `decide` turn it into the exit code (before anything is
   * written, so the summary JSON can carry it), then gives every output the report and the exit code.
   */
  async stop(decide: (data: ReportData) => number = () => ExitCode.ok): Promise<{ data: ReportData; exitCode: number }> {
    this.stopTicking?.();
    this.stopTicking = undefined;
    const data = this.options.report();
    const exitCode = decide(data);
    let first: Error | undefined;
    for (const output of this.options.outputs) {
      try {
        await output.stop?.(data, { exitCode });
      } catch (error) {
        if (first === undefined) first = error instanceof Error ? error : new Error(String(error));
        else this.failed(output, error);
      }
    }
    if (first !== undefined) throw first;
    return { data, exitCode };
  }
}

/** What decides a run's exit code. */
export interface ExitFacts {
  /** Cicada itself failed (a bug). */
  internalError?: boolean;
  /** A threshold failed. */
  thresholdFailed?: boolean;
  /** `environment.processExitCode`, set by a script (Locust's `process_exit_code`). */
  processExitCode?: number | undefined;
  /** Failures or exceptions were recorded. */
  failed: boolean;
  /** `--exit-code-on-error`. */
  exitCodeOnError: number;
}

/**
 * The exit code, decided in one place with the precedence of DESIGN.md §4: internal error 3 > a failed
 * threshold 99 > a script's `processExitCode` > failures (`--exit-code-on-error`) > 0.
 */
export function decideExitCode(facts: ExitFacts): number {
  if (facts.internalError === true) return ExitCode.internal;
  if (facts.thresholdFailed === true) return ExitCode.threshold;
  if (facts.processExitCode !== undefined) return facts.processExitCode;
  return facts.failed ? facts.exitCodeOnError : ExitCode.ok;
}
