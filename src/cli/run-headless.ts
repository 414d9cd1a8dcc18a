// A run in this process, and the headless driver: start, signals, the lifecycle's outputs, the exit code.
import { connectedWorkers, createEnvironment, createRequestStats, endRun, guardStrayErrors, progressOf, reportContext, reportMaker, runOutputs, startLoad, type Drive, type HeadlessRun, type HeadlessSetup } from './run-setup.ts';
import type { LoadShape } from '../core/load-shape.ts';
import { entryKey } from '../exporters/report-data.ts';
import { events } from '../index.ts';
import { LocalRunner } from '../runners/local-runner.ts';
import { attachLiveErrors } from './live-errors.ts';
import { handleStopSignals } from './signals.ts';
import { RunLifecycle } from './run-lifecycle.ts';

/** Runs the test in this process (users here, no workers), driven headless or by the web UI; returns the exit code. */
export async function runLocal(run: HeadlessRun, drive: Drive = driveHeadless): Promise<number> {
  const { options, loaded, selection, logger } = run;
  const environment = createEnvironment(options, logger);
  const stats = createRequestStats(options, logger);
  const detach = stats.attach(events);
  const detachErrors = attachLiveErrors(events, logger);
  const shape: LoadShape | undefined = loaded.shapeClass ? new loaded.shapeClass() : undefined;
  const runner = new LocalRunner({
    environment,
    userClasses: selection.classes,
    plan: selection.plan,
    stats,
    shape,
    stopTimeout: options.stopTimeout,
    drainTimeout: options.drainTimeout,
    equalWeights: options.equalWeights,
    resetStatsAfterRamp: options.resetStats,
  });
  try {
    return await drive(run, {
      runner,
      environment,
      begin: () => {
        startLoad(run, runner, shape !== undefined);
        return Promise.resolve();
      },
      currentPercentiles: () => Object.fromEntries(stats.currentEntryPercentiles().map((e) => [entryKey(e.method, e.name), e.percentiles])),
    });
  } finally {
    detachErrors();
    detach();
  }
}

/** Drives a headless run to its end: outputs (live view, CSV history), signals, final reports; returns the exit code. */
export async function driveHeadless(run: HeadlessRun, setup: HeadlessSetup): Promise<number> {
  const { options, logger, out } = run;
  const { runner, environment } = setup;
  const context = reportContext(run);
  const report = reportMaker(run, setup, context);
  const lifecycle = new RunLifecycle({
    outputs: runOutputs(run, { options, logger, out, live: !options.onlySummary }, { stopRun: () => void runner.stop(), report, workers: connectedWorkers(setup) }),
    report,
    progress: progressOf(run, runner, context.startTime),
    logger,
  });
  await lifecycle.start();

  const unsignal = handleStopSignals(runner, logger, (signal) => {
    logger.info(`${signal} received: stopping gracefully (final stats and reports follow). Press Ctrl+C again to cut the requests in flight.`);
    void runner.stop();
  });
  const unguard = guardStrayErrors(logger);

  events.init.fire({ environment });
  await setup.begin();
  await runner.whenStopped();
  await setup.beforeReport?.();
  unsignal();
  unguard();
  return endRun(run, lifecycle, environment);
}
