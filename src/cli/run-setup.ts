// What every run shares, headless or web, local or distributed: its description, environment, statistics, reports and end.
import path from 'node:path';
import type { Logger } from '../core/logger.ts';
import type { Environment } from '../core/environment.ts';
import { defaultClientDefaults } from '../core/environment.ts';
import type { LiveProgress, ReportData } from '../exporters/report-data.ts';
import { events } from '../index.ts';
import { RequestStats } from '../stats/request-stats.ts';
import type { LoadedCicadafiles } from './load-cicadafile.ts';
import type { RunnerControl } from '../core/contracts.ts';
import type { WorkerInfo } from '../runners/master-runner.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import type { CicadaOptions } from './options.ts';
import { buildReportData, type ReportContext } from '../exporters/build-report.ts';
import type { Selection } from './prepare.ts';
import { taskRatios } from './task-ratios.ts';
import { cicadaVersion } from './version.ts';
import type { ScenarioCommon } from '../core/executor.ts';
import { executorOf } from '../runners/executors/index.ts';
import { scenarioMeta } from './scenarios.ts';
import { decideExitCode, RunLifecycle } from './run-lifecycle.ts';
import type { ThresholdSpec } from '../stats/thresholds/parse.ts';
import type { Output } from '../exporters/output.ts';
import { optionOutputs, type OutputSettings } from './run-outputs.ts';
import { junitOutput, summaryJsonOutput } from './ci-outputs.ts';
import { thresholdsOutput, withThresholds } from './thresholds.ts';
import { metricsListenerOutput } from './metrics-listener.ts';
import { remoteWriteOutput } from './export-remote-write.ts';
import { otelOutput } from './export-otel.ts';
import { graphiteOutput } from './export-graphite.ts';
import { metricFamilies } from '../exporters/metrics/model.ts';
import { prometheusText } from '../exporters/metrics/prometheus-text.ts';

export interface HeadlessRun {
  options: CicadaOptions;
  loaded: LoadedCicadafiles;
  selection: Selection;
  logger: Logger;
  /** Where the run's text output goes (stderr when --json owns stdout). */
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** The scenarios to run (cli/scenarios.ts); absent: Locust's model (-u/-r/-t, or the LoadShape). */
  scenarios?: ScenarioCommon[] | undefined;
  /** Caps a scenario run at -t when the scenarios come from definitions (the shortcuts take -t as their own duration). */
  scenarioRunTime?: number | undefined;
  /** The run's thresholds (cli/thresholds.ts), checked before it starts; evaluated in every report. */
  thresholds?: readonly ThresholdSpec[];
}

/** Starts what the run is made of: its scenarios, else the LoadShape, else -u users at -r per second. */
export function startLoad(run: HeadlessRun, runner: RunnerControl<StatsSnapshot>, hasShape: boolean, where = ''): void {
  const { options, logger } = run;
  if (run.scenarios !== undefined) {
    for (const s of run.scenarios) logger.info(`scenario ${s.name}: ${executorOf(s).describe(s)}${s.startTimeMs > 0 ? `, from ${s.startTimeMs / 1000} s` : ''}${where}`);
    runner.startScenarios(run.scenarios, run.scenarioRunTime);
  } else if (hasShape) {
    logger.info(`starting the LoadShape${where}`);
    runner.startShape(options.runTime);
  } else {
    const users = options.users ?? 1;
    const spawnRate = options.spawnRate ?? 1;
    logger.info(`starting ${users} users at ${spawnRate}/s${options.runTime !== undefined ? ` for ${options.runTime} s` : ''}${where}`);
    runner.start({ userCount: users, spawnRate, ...(options.runTime !== undefined ? { runTime: options.runTime } : {}) });
  }
}

/** Builds the environment every run shares: the process-wide events, the host, the client defaults. */
export function createEnvironment(options: CicadaOptions, logger: Logger): Environment {
  return {
    events,
    host: options.host,
    logger,
    clientDefaults: { ...defaultClientDefaults, timeoutMs: options.requestTimeout * 1000 },
    parsedOptions: Object.freeze({ ...options }),
    runner: undefined,
  };
}

/** The process's own recorder, attached to the event bus. */
export function createRequestStats(options: CicadaOptions, logger: Logger): RequestStats {
  return new RequestStats({
    // Per-entry current percentiles cost two histogram copies per name: only --csv-full-history needs them.
    entryWindows: options.csvFullHistory,
    onNameCapReached: (name) => logger.warning(`more than 500 distinct request names; '${name}' and later new names are grouped as '(other)'. Use the name option to group dynamic URLs`),
  });
}

/** A runner ready to go, however it generates load (in this process, or through workers). */
export interface HeadlessSetup {
  runner: RunnerControl<StatsSnapshot>;
  environment: Environment;
  /** Starts the load (after, e.g., waiting for workers). */
  begin(): Promise<void>;
  /** Per-entry current percentiles for --csv-full-history, when available. */
  currentPercentiles?: () => Record<string, (number | null)[]>;
  /** Runs after the stop, before reports are written (e.g. collect workers' final reports). */
  beforeReport?: () => Promise<void>;
  /** The workers of a distributed run (for the web UI's workers tab). */
  workers?: () => WorkerInfo[];
}

/** Drives a run to its end (headless or web) and returns the exit code. */
export type Drive = (run: HeadlessRun, setup: HeadlessSetup) => Promise<number>;

/** What the reports say about the run: host, files, start time, task ratios. */
export function reportContext(run: HeadlessRun, startTime = Date.now()): ReportContext {
  const { options, loaded, selection } = run;
  return {
    host: options.host ?? [...selection.classes.values()].map((c) => c.host).find((h) => h) ?? '',
    cicadafiles: loaded.files.map((f) => path.relative(process.cwd(), f) || f),
    startTime,
    cicadaVersion,
    taskRatios: taskRatios(selection.classes, selection.plan, options.equalWeights),
    ...(run.scenarios !== undefined ? { scenarios: scenarioMeta(run.scenarios) } : {}),
  };
}

/** Report data as of now (with per-entry current percentiles when --csv-full-history needs them). */
export function reportMaker(run: HeadlessRun, setup: HeadlessSetup, context: ReportContext): () => ReportData {
  const scenarios = (run.scenarios ?? []).map((s) => s.name);
  return () => {
    const data = withThresholds(buildReportData(setup.runner, { ...context, host: setup.environment.host ?? context.host }), run.thresholds ?? [], scenarios);
    if (!run.options.csvFullHistory || !setup.currentPercentiles) return data;
    return { ...data, currentPercentiles: setup.currentPercentiles() };
  };
}

/** What the outputs of a run reach beyond its options: the runner's stop, the report of now, the workers. */
export interface RunHooks {
  /** Stops the run gracefully (an abortOnFail threshold). */
  stopRun: () => void;
  report: () => ReportData;
  /** Workers connected now (0 in a local run). */
  workers: () => number;
}

/**
 * Every output of a run, in the order its end writes them: the console summary, CSV, HTML and JSON,
 * the CI files (--junit, --summary-json), the thresholds (which stop the run on an abortOnFail), and the
 * metrics exporters (the /metrics listener, remote write, OTLP, Graphite), last so they send the end.
 */
export function runOutputs(run: HeadlessRun, settings: OutputSettings, hooks: RunHooks): Output[] {
  const { options, logger } = run;
  const outputs = optionOutputs(settings);
  if (options.junit !== undefined) outputs.push(junitOutput(settings, options.junit));
  if (options.summaryJson !== undefined) outputs.push(summaryJsonOutput(settings, options.summaryJson));
  if (run.thresholds !== undefined && run.thresholds.length > 0) outputs.push(thresholdsOutput(run.thresholds, { logger, stop: hooks.stopRun }));
  if (options.metricsPort !== undefined) {
    outputs.push(metricsListenerOutput(options, () => prometheusText(metricFamilies(hooks.report(), { workers: hooks.workers() })), logger));
  }
  const exportSettings = { options, logger, workers: hooks.workers };
  if (options.prometheusRemoteWrite !== undefined) outputs.push(remoteWriteOutput(exportSettings));
  if (options.otel) outputs.push(otelOutput(exportSettings));
  if (options.graphite !== undefined) outputs.push(graphiteOutput(exportSettings));
  return outputs;
}

/** Workers connected now, from a distributed run's list (0 in a local run). */
export function connectedWorkers(setup: HeadlessSetup): () => number {
  return () => setup.workers?.().filter((w) => !w.missing).length ?? 0;
}

/**
 * A cicadafile's stray promise or timer callback must not end the run and lose its results: it is
 * recorded as an exception and the run goes on. Returns the function that removes the handlers.
 */
export function guardStrayErrors(logger: Logger): () => void {
  const onStray = (error: unknown): void => {
    const e = error instanceof Error ? error : new Error(String(error));
    logger.error(`unhandled error in the cicadafile: ${e.message}`);
    events.userError.fire({ user: {}, error: e, task: '(unhandled)' });
  };
  process.on('unhandledRejection', onStray);
  process.on('uncaughtException', onStray);
  return () => {
    process.off('unhandledRejection', onStray);
    process.off('uncaughtException', onStray);
  };
}

/** The console view of a run's progress, for the live view. */
export function progressOf(run: HeadlessRun, runner: RunnerControl<StatsSnapshot>, startTime: number): () => LiveProgress {
  const { runTime } = run.options;
  return () => ({
    elapsedMs: Date.now() - startTime,
    ...(runTime !== undefined ? { runTimeMs: runTime * 1000 } : {}),
    userCount: runner.userCount,
    targetUserCount: runner.targetUserCount,
    spawning: runner.state === 'spawning',
    state: runner.state,
  });
}

/**
 * The end of every run, headless or web: `quitting` fires (a script may set `environment.processExitCode`
 * there, as in Locust), the exit code is decided once (decideExitCode), and the outputs get the final
 * report with it.
 */
export async function endRun(run: HeadlessRun, lifecycle: RunLifecycle, environment: Environment): Promise<number> {
  const { exitCode } = await lifecycle.stop((data) => {
    events.quitting.fire({ environment });
    return decideExitCode({
      thresholdFailed: data.thresholds?.some((t) => !t.ok) ?? false,
      processExitCode: environment.processExitCode,
      failed: data.total.numFailures > 0 || data.snapshot.exceptions.length > 0,
      exitCodeOnError: run.options.exitCodeOnError,
    });
  });
  return exitCode;
}
