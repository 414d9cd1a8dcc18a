// A headless run from start to exit code: live view, signals, reports.
import { constants } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitCode, UsageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Environment } from '../core/environment.ts';
import { defaultClientDefaults } from '../core/environment.ts';
import type { LoadShape } from '../core/load-shape.ts';
import { ConsoleReporter } from '../exporters/console.ts';
import { CsvWriter } from '../exporters/csv.ts';
import { htmlReport } from '../exporters/html.ts';
import { jsonReport } from '../exporters/json.ts';
import { entryKey, type ReportData } from '../exporters/report-data.ts';
import { events } from '../index.ts';
import { LocalRunner } from '../runners/local-runner.ts';
import { RequestStats } from '../stats/request-stats.ts';
import { bucketValue } from '../stats/histogram.ts';
import type { LoadedCicadafiles } from './load-cicadafile.ts';
import type { RunnerControl } from '../core/contracts.ts';
import type { WorkerInfo } from '../runners/master-runner.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import type { CicadaOptions } from './options.ts';
import { buildReportData, type ReportContext } from '../exporters/build-report.ts';
import type { Selection } from './prepare.ts';
import { attachLiveErrors } from './live-errors.ts';
import { handleStopSignals } from './signals.ts';
import { taskRatios } from './task-ratios.ts';
import { cicadaVersion } from './version.ts';
import type { ScenarioCommon } from '../core/executor.ts';
import { executorOf } from '../runners/executors/index.ts';
import { scenarioMeta } from './scenarios.ts';

/** How often the live view prints (Locust's console interval). */
const LIVE_INTERVAL_MS = 2000;

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

/** Expands Locust's `{u}`, `{r}`, `{t}` placeholders in report file names. */
export function expandReportName(name: string, options: CicadaOptions): string {
  return name
    .replaceAll('{u}', String(options.users ?? 1))
    .replaceAll('{r}', String(options.spawnRate ?? 1))
    .replaceAll('{t}', String(options.runTime ?? 0));
}

/** Fails before the run, not after it, when a report could not be written (results would be lost). */
async function checkWritable(file: string, flag: string): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  try {
    await mkdir(folder, { recursive: true });
    await access(folder, constants.W_OK);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: the folder ${folder} is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'choose a path in a folder you can write to');
  }
}

async function writeReportFile(file: string, content: string): Promise<void> {
  try {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFile(file, content);
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as Error).message}`, 'choose a writable path');
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
  return () => {
    const data = buildReportData(setup.runner, { ...context, host: setup.environment.host ?? context.host });
    if (!run.options.csvFullHistory || !setup.currentPercentiles) return data;
    return { ...data, currentPercentiles: setup.currentPercentiles() };
  };
}

/** Checks the report destinations up front and opens the CSV writer, so a run never ends with results it cannot write. */
export async function prepareReports(options: CicadaOptions): Promise<CsvWriter | undefined> {
  if (options.html !== undefined) await checkWritable(expandReportName(options.html, options), '--html');
  if (options.jsonFile !== undefined) await checkWritable(`${expandReportName(options.jsonFile, options)}.json`, '--json-file');
  const csv = options.csv !== undefined ? new CsvWriter({ prefix: options.csv, fullHistory: options.csvFullHistory }) : undefined;
  await csv?.open();
  return csv;
}

/** Appends one `_stats_history.csv` row set (call it once a second); writes are queued, failures logged. */
export function csvHistoryAppender(csv: CsvWriter, run: HeadlessRun): (data: ReportData) => void {
  let writing = Promise.resolve();
  return (data) => {
    writing = writing.then(() => csv.appendHistory(data, Math.floor(Date.now() / 1000))).catch((error: unknown) => {
      run.logger.error(`writing ${run.options.csv}_stats_history.csv failed: ${String(error)}`);
    });
  };
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

/** The end of a run: summary, final CSV, HTML and JSON reports; returns the exit code the results call for. */
export async function finishReports(run: HeadlessRun, data: ReportData, csv: CsvWriter | undefined, environment: Environment): Promise<number> {
  const { options, logger, out } = run;
  new ConsoleReporter({ stream: out }).printSummary(data);
  if (csv) {
    await csv.appendHistory(data, Math.floor(Date.now() / 1000));
    await csv.writeFinal(data);
  }
  if (options.html !== undefined) {
    const file = expandReportName(options.html, options);
    await writeReportFile(file, htmlReport(data));
    logger.info(`HTML report written to ${path.resolve(file)}`);
  }
  const json = `${JSON.stringify(jsonReport(data, bucketValue), null, 2)}\n`;
  if (options.jsonFile !== undefined) await writeReportFile(`${expandReportName(options.jsonFile, options)}.json`, json);
  if (options.json) process.stdout.write(json);
  events.quitting.fire({ environment });
  const failed = data.total.numFailures > 0 || data.snapshot.exceptions.length > 0;
  return failed ? options.exitCodeOnError : ExitCode.ok;
}

/** Drives a headless run to its end: live view, CSV history, signals, final reports; returns the exit code. */
export async function driveHeadless(run: HeadlessRun, setup: HeadlessSetup): Promise<number> {
  const { options, logger, out } = run;
  const { runner, environment } = setup;
  const context = reportContext(run);
  const report = reportMaker(run, setup, context);
  const csv = await prepareReports(options);

  const console = new ConsoleReporter({ stream: out });
  const timers: NodeJS.Timeout[] = [];
  if (!options.onlySummary) {
    timers.push(setInterval(() => {
      console.printLive(report(), {
        elapsedMs: Date.now() - context.startTime,
        ...(options.runTime !== undefined ? { runTimeMs: options.runTime * 1000 } : {}),
        userCount: runner.userCount,
        targetUserCount: runner.targetUserCount,
        spawning: runner.state === 'spawning',
        state: runner.state,
      });
    }, LIVE_INTERVAL_MS));
  }
  if (csv) {
    const append = csvHistoryAppender(csv, run);
    timers.push(setInterval(() => append(report()), 1000));
  }

  const unsignal = handleStopSignals(runner, logger, (signal) => {
    logger.info(`${signal} received: stopping gracefully (final stats and reports follow). Press Ctrl+C again to cut the requests in flight.`);
    void runner.stop();
  });
  const unguard = guardStrayErrors(logger);

  events.init.fire({ environment });
  await setup.begin();
  await runner.whenStopped();
  await setup.beforeReport?.();
  for (const t of timers) clearInterval(t);
  unsignal();
  unguard();
  return finishReports(run, report(), csv, environment);
}
