// Ctrl+C and SIGTERM during a run: the first stops gracefully, the second cuts the requests in flight, the third quits.
import type { RunnerControl } from '../core/contracts.ts';
import { ExitCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/**
 * Installs the run's SIGINT/SIGTERM handlers and returns the function that removes them.
 * 1st signal: `onFirst` (stop gracefully). 2nd: requests in flight are cut at once, and every report
 * is still written. 3rd: quit at once without reports.
 */
export function handleStopSignals(runner: Pick<RunnerControl, 'cutInFlight'>, logger: Logger, onFirst: (signal: NodeJS.Signals) => void): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    received++;
    if (received === 1) onFirst(signal);
    else if (received === 2) {
      logger.warning(`${signal} again: cutting the requests still in flight now (recorded as failed: cancelled at stop); the reports follow. Once more quits at once, without reports`);
      runner.cutInFlight();
    } else {
      logger.error(`${signal} a third time: quitting at once, without reports`);
      process.exit(ExitCode.failures);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
