// Locust-style console tables (stats, percentiles, failures, exceptions) as pure string builders.
import pc from 'picocolors';
import { scenarioPercentiles } from '../stats/scenario-stats.ts';
import { PERCENTILES_TO_REPORT, type EntryView } from '../stats/types.ts';
import { formatAvgMs, formatMs, formatPercent, PERCENTILE_LABELS, sanitizeForTerminal, truncate } from './format.ts';
import type { ReportData } from './report-data.ts';

export interface TableOptions {
  /** ANSI colors; the caller decides (TTY and NO_COLOR unset). Default false. */
  color?: boolean;
  /** Width of the Name column in characters (default 50). */
  nameWidth?: number;
  /** Rates over the whole run instead of the current window (the final summary, as Locust's `current=False`). */
  totalRates?: boolean;
}

interface Column {
  width: number;
  align: 'left' | 'right';
  /** A `|` is drawn before this column (Locust's column groups). */
  bar?: boolean;
}

const TYPE_WIDTH = 8;
const DEFAULT_NAME_WIDTH = 50;

function fit(text: string, col: Column): string {
  const t = truncate(sanitizeForTerminal(text), col.width);
  return col.align === 'left' ? t.padEnd(col.width) : t.padStart(col.width);
}

function row(cells: readonly string[], cols: readonly Column[]): string {
  let out = '';
  cols.forEach((col, i) => {
    const cell = fit(cells[i] ?? '', col);
    if (i === 0) out = cell;
    else out += col.bar ? ` | ${cell}` : ` ${cell}`;
  });
  return out.trimEnd();
}

/** Locust's separator line: a `|` where each column gap is, dashes elsewhere. */
function separator(cols: readonly Column[]): string {
  let out = '';
  cols.forEach((col, i) => {
    const dashes = '-'.repeat(col.width);
    if (i === 0) out = dashes;
    else out += col.bar ? `-|-${dashes}` : `|${dashes}`;
  });
  return out;
}

/** Paints whole lines after padding, so escape codes never disturb column widths. */
export function painter(color: boolean | undefined): ReturnType<typeof pc.createColors> {
  return pc.createColors(color === true);
}

/** Width of the Name column; the thresholds and checks blocks size their label columns from it too. */
export function nameWidthOf(options: TableOptions): number {
  return Math.max(10, Math.floor(options.nameWidth ?? DEFAULT_NAME_WIDTH));
}

/** `12(1.23%)`: failures with their share of requests, as Locust's `# fails` column. */
function failsCell(e: EntryView): string {
  return `${e.numFailures}(${formatPercent(e.failRatio)})`;
}

/** The request statistics table: `Type Name # reqs # fails | Avg Min Max Med | req/s failures/s`, Aggregated last. */
export function statsTable(data: ReportData, options: TableOptions = {}): string {
  const c = painter(options.color);
  const cols: Column[] = [
    { width: TYPE_WIDTH, align: 'left' },
    { width: nameWidthOf(options), align: 'left' },
    { width: 7, align: 'right' },
    { width: 14, align: 'right' },
    { width: 7, align: 'right', bar: true },
    { width: 7, align: 'right' },
    { width: 7, align: 'right' },
    { width: 7, align: 'right' },
    { width: 8, align: 'right', bar: true },
    { width: 11, align: 'right' },
  ];
  const line = (e: EntryView): string =>
    row(
      [
        e.method,
        e.name,
        String(e.numRequests),
        failsCell(e),
        // Console averages keep up to 2 decimals in 7 characters; min/max/median follow formatMs (whole ms from 1 ms up).
        e.numRequests > 0 ? formatAvgMs(e.avgResponseTime) : '0',
        formatMs(e.minResponseTime, '0'),
        formatMs(e.numRequests > 0 ? e.maxResponseTime : null, '0'),
        formatMs(e.medianResponseTime, '0'),
        (options.totalRates ? e.totalRps : e.currentRps).toFixed(2),
        (options.totalRates ? e.totalFailPerSec : e.currentFailPerSec).toFixed(2),
      ],
      cols,
    );
  const paintRow = (e: EntryView, text: string): string => (e.numFailures > 0 ? c.red(text) : text);
  const sep = separator(cols);
  const lines = [
    c.bold(row(['Type', 'Name', '# reqs', '# fails', 'Avg', 'Min', 'Max', 'Med', 'req/s', 'failures/s'], cols)),
    sep,
    ...data.entries.map((e) => paintRow(e, line(e))),
    sep,
    c.bold(paintRow(data.total, line(data.total))),
  ];
  return lines.join('\n');
}

/** The response time percentile table: `Type Name 50% … 100% # reqs`, Aggregated last; N/A without requests. */
export function percentileTable(data: ReportData, options: TableOptions = {}, corrected = false): string {
  const values = (e: EntryView): readonly (number | null)[] => (corrected ? e.correctedPercentiles ?? e.percentiles : e.percentiles);
  if (corrected && data.total.correctedPercentiles === undefined) return '';
  const c = painter(options.color);
  const cols: Column[] = [
    { width: TYPE_WIDTH, align: 'left' },
    { width: nameWidthOf(options), align: 'left' },
    ...PERCENTILE_LABELS.map((): Column => ({ width: 6, align: 'right' })),
    { width: 7, align: 'right' },
  ];
  const line = (e: EntryView): string =>
    row([e.method, e.name, ...PERCENTILE_LABELS.map((_, i) => formatMs(values(e)[i] ?? null)), String(e.numRequests)], cols);
  const sep = separator(cols);
  return [
    corrected ? 'Response time percentiles (ms), corrected for coordinated omission (paced users: constantPacing/constantThroughput)' : 'Response time percentiles (ms)',
    c.bold(row(['Type', 'Name', ...PERCENTILE_LABELS, '# reqs'], cols)),
    sep,
    ...data.entries.map(line),
    sep,
    c.bold(line(data.total)),
  ].join('\n');
}

/** The error report: `# occurrences | Error` with `METHOD name: message`, most frequent first; '' when none. */
export function failuresTable(data: ReportData, options: TableOptions = {}): string {
  const errors = data.snapshot.errors;
  if (errors.length === 0) return '';
  const c = painter(options.color);
  const cols: Column[] = [
    { width: 18, align: 'left' },
    { width: nameWidthOf(options) + 60, align: 'left' },
  ];
  const sorted = [...errors].sort((a, b) => b.occurrences - a.occurrences);
  const sep = separator(cols);
  return [
    'Error report',
    c.bold(row(['# occurrences', 'Error'], cols)),
    sep,
    ...sorted.map((e) => c.red(row([String(e.occurrences), `${e.method} ${e.name}: ${e.error}`], cols))),
    sep,
  ].join('\n');
}

/** Task exceptions: count, message, nodes, then the traceback indented; '' when none. */
export function exceptionsTable(data: ReportData, options: TableOptions = {}): string {
  const exceptions = data.snapshot.exceptions;
  if (exceptions.length === 0) return '';
  const c = painter(options.color);
  const cols: Column[] = [
    { width: 18, align: 'left' },
    { width: nameWidthOf(options) + 60, align: 'left' },
  ];
  const sep = separator(cols);
  const lines = ['Exceptions', c.bold(row(['# occurrences', 'Message'], cols)), sep];
  for (const ex of [...exceptions].sort((a, b) => b.count - a.count)) {
    lines.push(c.red(row([String(ex.count), ex.msg], cols)));
    if (ex.nodes.length > 0) lines.push(c.dim(`    on: ${sanitizeForTerminal(ex.nodes.join(', '))}`));
    for (const tbLine of ex.traceback.split(/\r?\n/)) {
      if (tbLine.trim() !== '') lines.push(c.dim(`    ${sanitizeForTerminal(tbLine)}`));
    }
  }
  lines.push(sep);
  return lines.join('\n');
}

/**
 * The scenarios of arrival-rate and iteration-count runs: executor, iterations, dropped, interrupted,
 * and `iteration_duration` (from each iteration's scheduled start) percentiles; '' when none ran.
 */
export function scenariosTable(data: ReportData, options: TableOptions = {}): string {
  const scenarios = data.snapshot.scenarios ?? [];
  if (scenarios.length === 0) return '';
  const c = painter(options.color);
  const executors = new Map((data.meta.scenarios ?? []).map((s) => [s.name, s.executor]));
  const cols: Column[] = [
    { width: 24, align: 'left' },
    { width: 22, align: 'left' },
    ...[10, 8, 9, 11].map((width): Column => ({ width, align: 'right' })),
    ...[8, 8, 8, 8, 9].map((width): Column => ({ width, align: 'right' })),
  ];
  const sep = separator(cols);
  const lines = [
    'Scenarios (iteration_duration in ms, from each iteration\'s scheduled start; late = how late it started)',
    c.bold(row(['Scenario', 'Executor', 'Iterations', 'Failed', 'Dropped', 'Interrupted', 'p50', 'p95', 'p99', 'max', 'late p99'], cols)),
    sep,
  ];
  for (const s of [...scenarios].sort((a, b) => a.name.localeCompare(b.name))) {
    const d = scenarioPercentiles(s.duration);
    const late = scenarioPercentiles(s.lateness);
    const at = (values: (number | null)[], p: number): string => formatMs(values[PERCENTILES_TO_REPORT.indexOf(p as never)] ?? null, '-');
    const line = row([
      truncate(sanitizeForTerminal(s.name), 24), executors.get(s.name) ?? '', String(s.iterations), String(s.failedIterations), String(s.dropped), String(s.interrupted),
      at(d, 0.5), at(d, 0.95), at(d, 0.99), at(d, 1), at(late, 0.99),
    ], cols);
    lines.push(s.dropped > 0 ? c.yellow(line) : line);
  }
  lines.push(sep);
  for (const s of scenarios) if ((s.notRun ?? 0) > 0) lines.push(c.yellow(`${sanitizeForTerminal(s.name)}: maxDuration ended it with ${s.notRun} iterations not run`));
  return lines.join('\n');
}
