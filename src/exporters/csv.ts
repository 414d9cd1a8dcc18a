// Locust-compatible CSV (`--csv`): exact columns (reference §1.6), RFC 4180 quoting, formula guard, and the file writer.
import * as nodeFs from 'node:fs/promises';
import * as path from 'node:path';
import { redact } from '../core/secrets.ts';
import { PERCENTILES_TO_REPORT, type EntryView } from '../stats/types.ts';
import { ReportWriteError } from './errors.ts';
import { formatMs, PERCENTILE_LABELS, round2 } from './format.ts';
import { entryKey, type ReportData } from './report-data.ts';

/**
 * Number formats (documented because dashboards parse these files):
 * - median, min, max and percentiles: whole ms from 1 ms up, up to 2 decimals below 1 ms (see formatMs);
 *   Locust writes integers, which would print every sub-millisecond response as 0;
 * - averages, content size and rates: rounded to 2 decimals;
 * - timestamps: integer epoch seconds; percentiles `N/A` when an entry has no requests.
 */
export type CsvCell = string | number;

/** Python's csv module (which Locust uses) ends rows with CRLF, as RFC 4180 does. */
const EOL = '\r\n';

export const STATS_COLUMNS: readonly string[] = [
  'Type', 'Name', 'Request Count', 'Failure Count', 'Median Response Time', 'Average Response Time',
  'Min Response Time', 'Max Response Time', 'Average Content Size', 'Requests/s', 'Failures/s',
  ...PERCENTILE_LABELS,
];

export const HISTORY_COLUMNS: readonly string[] = [
  'Timestamp', 'User Count', 'Type', 'Name', 'Requests/s', 'Failures/s', ...PERCENTILE_LABELS,
  'Total Request Count', 'Total Failure Count', 'Total Median Response Time', 'Total Average Response Time',
  'Total Min Response Time', 'Total Max Response Time', 'Total Average Content Size',
];

export const FAILURES_COLUMNS: readonly string[] = ['Method', 'Name', 'Error', 'Occurrences', 'First Seen', 'Last Seen'];

export const EXCEPTIONS_COLUMNS: readonly string[] = ['Count', 'Message', 'Traceback', 'Nodes'];

/**
 * A cell a spreadsheet could run as a formula (OWASP CSV injection): one that starts with `= + - @`, their
 * full-width forms `＝ ＋ － ＠` (which some spreadsheets read as the ASCII ones), or a tab, CR or LF; or
 * any of those formula characters after leading white space (` =1+1`, `\u3000=…`: trimmed on import).
 */
const FORMULA_START = /^(?:[\t\r\n]|\s*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/u;

/**
 * One CSV field. Strings that a spreadsheet would run as a formula get a leading `'`; numbers are
 * never touched. Fields with a comma, quote or line break are quoted, quotes doubled.
 */
export function csvCell(cell: CsvCell): string {
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : '0';
  const guarded = FORMULA_START.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** One CSV line, CRLF-terminated. */
export function csvRow(cells: readonly CsvCell[]): string {
  return cells.map(csvCell).join(',') + EOL;
}

function ms(value: number | null): CsvCell {
  // A numeric-looking string is still written verbatim: formatMs never starts with a formula character.
  return formatMs(value, '0');
}

function percentileCells(percentiles: readonly (number | null)[], numRequests: number): CsvCell[] {
  if (numRequests === 0) return PERCENTILES_TO_REPORT.map(() => 'N/A');
  return PERCENTILES_TO_REPORT.map((_, i) => formatMs(percentiles[i] ?? null, '0'));
}

/** Count, failures, median, average, min, max and average size: the run so far, in both files' order. */
function summaryCells(e: EntryView): CsvCell[] {
  return [
    e.numRequests,
    e.numFailures,
    ms(e.medianResponseTime),
    round2(e.avgResponseTime),
    ms(e.minResponseTime),
    ms(e.numRequests > 0 ? e.maxResponseTime : 0),
    round2(e.avgContentLength),
  ];
}

function statsRow(e: EntryView, isTotal: boolean): CsvCell[] {
  return [
    isTotal ? '' : e.method,
    e.name,
    ...summaryCells(e),
    round2(e.totalRps),
    round2(e.totalFailPerSec),
    ...percentileCells(e.percentiles, e.numRequests),
  ];
}

/** `_stats.csv`: one row per entry in the given (Locust) order, then `Aggregated` with an empty Type. */
export function statsCsv(data: ReportData): string {
  return [STATS_COLUMNS, ...data.entries.map((e) => statsRow(e, false)), statsRow(data.total, true)].map(csvRow).join('');
}

/** `_failures.csv`: most frequent first (Locust's order is arbitrary: it sorts by hash); seen times in epoch seconds. */
export function failuresCsv(data: ReportData): string {
  const errors = [...data.snapshot.errors].sort(
    (a, b) => b.occurrences - a.occurrences || a.name.localeCompare(b.name) || a.method.localeCompare(b.method),
  );
  const rows = errors.map((e): CsvCell[] => [e.method, e.name, e.error, e.occurrences, Math.floor(e.firstSeen), Math.floor(e.lastSeen)]);
  return [FAILURES_COLUMNS, ...rows].map(csvRow).join('');
}

/** `_exceptions.csv`: nodes joined with `, ` as Locust does. */
export function exceptionsCsv(data: ReportData): string {
  const rows = data.snapshot.exceptions.map((x): CsvCell[] => [x.count, x.msg, x.traceback, x.nodes.join(', ')]);
  return [EXCEPTIONS_COLUMNS, ...rows].map(csvRow).join('');
}

/** The header line of `_stats_history.csv`. */
export function historyHeader(): string {
  return csvRow(HISTORY_COLUMNS);
}

function historyRow(nowS: number, userCount: number, e: EntryView, isTotal: boolean, percentiles: readonly (number | null)[]): CsvCell[] {
  return [
    Math.floor(nowS),
    userCount,
    isTotal ? '' : e.method,
    e.name,
    round2(e.currentRps),
    round2(e.currentFailPerSec),
    ...percentileCells(percentiles, e.numRequests),
    ...summaryCells(e),
  ];
}

/**
 * The rows `_stats_history.csv` gets at `nowS` (epoch seconds). Without full history: only the
 * Aggregated row, with cumulative percentiles. With full history: one row per entry, then Aggregated,
 * all with "current" (sliding-window) percentiles, as Locust does — taken from
 * `data.currentPercentiles` for entries and from the latest history point for Aggregated, falling
 * back to cumulative ones when those are missing.
 */
export function historyRows(data: ReportData, fullHistory: boolean, nowS: number): string {
  const users = data.meta.userCount;
  if (!fullHistory) return csvRow(historyRow(nowS, users, data.total, true, data.total.percentiles));
  const current = data.currentPercentiles ?? {};
  const latest = data.snapshot.history.at(-1);
  const rows = data.entries.map((e) => historyRow(nowS, users, e, false, current[entryKey(e.method, e.name)] ?? e.percentiles));
  rows.push(historyRow(nowS, users, data.total, true, latest?.currentPercentiles ?? data.total.percentiles));
  return rows.map(csvRow).join('');
}

/** The file operations the writer needs; node:fs/promises by default, a fake in tests. */
export interface CsvFs {
  mkdir(dir: string, options: { recursive: true }): Promise<unknown>;
  writeFile(file: string, data: string): Promise<void>;
  appendFile(file: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

export interface CsvWriterOptions {
  /** `--csv` value: files are `<prefix>_stats.csv`, `<prefix>_stats_history.csv`, … */
  prefix: string;
  /** `--csv-full-history`: a history row per entry, with current percentiles. */
  fullHistory: boolean;
  fs?: CsvFs;
}

/** The file names a prefix produces. */
export function csvPaths(prefix: string): { stats: string; history: string; failures: string; exceptions: string } {
  return {
    stats: `${prefix}_stats.csv`,
    history: `${prefix}_stats_history.csv`,
    failures: `${prefix}_failures.csv`,
    exceptions: `${prefix}_exceptions.csv`,
  };
}

export class CsvWriter {
  readonly paths: ReturnType<typeof csvPaths>;
  private readonly fullHistory: boolean;
  private readonly fs: CsvFs;
  private opened = false;
  /** Appends run one after another, so rows stay in call order even if a caller does not await. */
  private tail: Promise<void> = Promise.resolve();

  constructor(options: CsvWriterOptions) {
    this.paths = csvPaths(options.prefix);
    this.fullHistory = options.fullHistory;
    this.fs = options.fs ?? nodeFs;
  }

  /** Creates the folder and writes the history header. Fails fast, before the run starts, if that is impossible. */
  async open(): Promise<void> {
    const dir = path.dirname(this.paths.history);
    try {
      await this.fs.mkdir(dir, { recursive: true });
    } catch (err) {
      throw new ReportWriteError(dir, 'the CSV folder', err);
    }
    try {
      await this.fs.writeFile(this.paths.history, historyHeader());
    } catch (err) {
      throw new ReportWriteError(this.paths.history, 'the CSV history file', err);
    }
    this.opened = true;
  }

  /** Appends this second's rows to `_stats_history.csv`; `nowEpochS` is the row's Timestamp. */
  appendHistory(data: ReportData, nowEpochS: number): Promise<void> {
    if (!this.opened) return Promise.reject(new Error('CsvWriter.appendHistory() called before open()'));
    // Masked as written (the file is where the text leaves); the row builders stay pure.
    const rows = redact(historyRows(data, this.fullHistory, nowEpochS));
    const next = this.tail.then(async () => {
      try {
        await this.fs.appendFile(this.paths.history, rows);
      } catch (err) {
        throw new ReportWriteError(this.paths.history, 'the CSV history file', err);
      }
    });
    // A failed append must not block later ones; the caller sees the failure through `next`.
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Writes `_stats.csv`, `_failures.csv` and `_exceptions.csv` (each replaced atomically via a temp file). */
  async writeFinal(data: ReportData): Promise<void> {
    await this.tail;
    if (!this.opened) {
      const dir = path.dirname(this.paths.stats);
      try {
        await this.fs.mkdir(dir, { recursive: true });
      } catch (err) {
        throw new ReportWriteError(dir, 'the CSV folder', err);
      }
    }
    await this.replace(this.paths.stats, statsCsv(data));
    await this.replace(this.paths.failures, failuresCsv(data));
    await this.replace(this.paths.exceptions, exceptionsCsv(data));
  }

  private async replace(file: string, content: string): Promise<void> {
    // A reader (web UI download, a tail -f) never sees a half-written file.
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await this.fs.writeFile(tmp, redact(content));
      await this.fs.rename(tmp, file);
    } catch (err) {
      throw new ReportWriteError(file, 'a CSV file', err);
    }
  }
}
