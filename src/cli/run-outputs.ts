// The outputs a run's options ask for — console, CSV, HTML, JSON — each an Output of the run lifecycle.
import { constants } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { redact, redactDeep } from '../core/secrets.ts';
import { ConsoleReporter } from '../exporters/console.ts';
import { CsvWriter } from '../exporters/csv.ts';
import { htmlReport } from '../exporters/html.ts';
import { jsonReport } from '../exporters/json.ts';
import type { Output } from '../exporters/output.ts';
import type { ReportData } from '../exporters/report-data.ts';
import { bucketValue } from '../stats/histogram.ts';
import type { CicadaOptions } from './options.ts';

/** How often the live view prints (Locust's console interval). */
const LIVE_INTERVAL_MS = 2000;

/** Expands Locust's `{u}`, `{r}`, `{t}` placeholders in report file names. */
export function expandReportName(name: string, options: CicadaOptions): string {
  return name
    .replaceAll('{u}', String(options.users ?? 1))
    .replaceAll('{r}', String(options.spawnRate ?? 1))
    .replaceAll('{t}', String(options.runTime ?? 0));
}

/** Fails before the run, not after it, when a report could not be written (results would be lost). */
export async function checkWritable(file: string, flag: string): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  try {
    await mkdir(folder, { recursive: true });
    await access(folder, constants.W_OK);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: the folder ${folder} is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'choose a path in a folder you can write to');
  }
}

/** Writes a report file (its folder made if needed), secrets masked; a failure is a usage error naming the path. */
export async function writeReportFile(file: string, content: string): Promise<void> {
  try {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFile(file, redact(content));
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as Error).message}`, 'choose a writable path');
  }
}

export interface OutputSettings {
  options: CicadaOptions;
  logger: Logger;
  /** Where the run's text goes (stderr when --json owns stdout). */
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Headless: the live view unless --only-summary; web: only with --print-stats. */
  live: boolean;
}

/**
 * The console: the live view every 2 s (when asked for), and the summary at the end. The data is masked
 * before the tables are made, not only the text after (as stdout is): tables cut long names, and a cut
 * secret would no longer match.
 */
export function consoleOutput(settings: OutputSettings): Output {
  const reporter = new ConsoleReporter({ stream: settings.out });
  return {
    name: 'console',
    ...(settings.live ? { intervalMs: LIVE_INTERVAL_MS, tick: ({ data, progress }) => reporter.printLive(redactDeep(data), progress) } : {}),
    stop: (data) => reporter.printSummary(redactDeep(data)),
  } satisfies Output;
}

/** `--csv PREFIX`: Locust's files; the history row set once a second, the stats, failures and exceptions at the end. */
export function csvOutput(settings: OutputSettings, prefix: string): Output {
  const { options, logger } = settings;
  const csv = new CsvWriter({ prefix, fullHistory: options.csvFullHistory });
  let writing = Promise.resolve();
  return {
    name: 'csv',
    intervalMs: 1000,
    start: () => csv.open(),
    // Writes are queued, so a slow disk never overlaps rows; a failure is logged, the run goes on.
    tick: ({ data, now }) => {
      writing = writing.then(() => csv.appendHistory(data, Math.floor(now / 1000))).catch((error: unknown) => {
        logger.error(`writing ${prefix}_stats_history.csv failed: ${String(error)}`);
      });
    },
    stop: async (data) => {
      await writing;
      await csv.appendHistory(data, Math.floor(Date.now() / 1000));
      await csv.writeFinal(data);
    },
  } satisfies Output;
}

/** `--html FILE`: the self-contained report, written at the end; the folder is checked before the run. */
export function htmlOutput(settings: OutputSettings, name: string): Output {
  const file = expandReportName(name, settings.options);
  return {
    name: 'html',
    start: () => checkWritable(file, '--html'),
    stop: async (data) => {
      await writeReportFile(file, htmlReport(data));
      settings.logger.info(`HTML report written to ${path.resolve(file)}`);
    },
  } satisfies Output;
}

/** `--json` (stdout) and `--json-file NAME` (NAME.json): Locust's list of entries, at the end. */
export function jsonOutput(settings: OutputSettings): Output {
  const { options } = settings;
  const file = options.jsonFile !== undefined ? `${expandReportName(options.jsonFile, options)}.json` : undefined;
  return {
    name: 'json',
    ...(file !== undefined ? { start: () => checkWritable(file, '--json-file') } : {}),
    stop: async (data: ReportData) => {
      const json = `${JSON.stringify(jsonReport(data, bucketValue), null, 2)}\n`;
      if (file !== undefined) await writeReportFile(file, json);
      if (options.json) process.stdout.write(json);
    },
  } satisfies Output;
}

/** Every output the options ask for, in the order the end of a run writes them: summary, CSV, HTML, JSON. */
export function optionOutputs(settings: OutputSettings): Output[] {
  const { options } = settings;
  const outputs: Output[] = [consoleOutput(settings)];
  if (options.csv !== undefined) outputs.push(csvOutput(settings, options.csv));
  if (options.html !== undefined) outputs.push(htmlOutput(settings, options.html));
  if (options.jsonFile !== undefined || options.json) outputs.push(jsonOutput(settings));
  return outputs;
}
