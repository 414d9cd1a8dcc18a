// The run-time limit (`-t`, a start request's runTime) every runner kind applies the same way.
import type { Timers } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';

/** Stops the run once its run time has passed; setting it again (a new start) replaces the limit. */
export class RunTimer {
  private handle: unknown;
  private readonly timers: Timers;
  private readonly logger: Logger;
  private readonly stop: () => void;

  constructor(timers: Timers, logger: Logger, stop: () => void) {
    this.timers = timers;
    this.logger = logger;
    this.stop = stop;
  }

  /** Stops the run `seconds` from now; undefined: no limit. */
  set(seconds: number | undefined): void {
    this.clear();
    if (seconds === undefined) return;
    this.handle = this.timers.setTimeout(() => {
      this.handle = undefined;
      this.logger.info(`run time limit (${seconds} s) reached, stopping`);
      this.stop();
    }, seconds * 1000);
  }

  clear(): void {
    this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
