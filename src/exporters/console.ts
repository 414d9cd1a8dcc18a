// Console output: the live view printed during a run, the end-of-run summary, and a small writer for them.
import pc from 'picocolors';
import { checksBlock, liveGates, thresholdsBlock } from './console-gates.ts';
import { exceptionsTable, failuresTable, percentileTable, scenariosTable, statsTable, type TableOptions } from './console-tables.ts';
import { formatDuration, formatPercent, round2, sanitizeForTerminal } from './format.ts';
import type { LiveProgress, ReportData } from './report-data.ts';

export { checksBlock, liveGates, thresholdsBlock } from './console-gates.ts';
export { exceptionsTable, failuresTable, percentileTable, statsTable, type TableOptions } from './console-tables.ts';

/** The header line of the live view: elapsed and remaining time, users, RPS, failure ratio and state. */
export function liveHeader(data: ReportData, progress: LiveProgress, options: TableOptions = {}): string {
  const c = pc.createColors(options.color === true);
  const parts = [`elapsed ${formatDuration(progress.elapsedMs)}`];
  if (progress.runTimeMs !== undefined) {
    // Rounded up so "remaining 0s" only shows when the run is really at its end.
    const remainingMs = Math.max(0, progress.runTimeMs - progress.elapsedMs);
    parts[0] += `, remaining ${formatDuration(Math.ceil(remainingMs / 1000) * 1000)}`;
  }
  const users = `users ${progress.userCount}/${progress.targetUserCount}${progress.spawning ? ' spawning' : ''}`;
  parts.push(progress.spawning ? c.yellow(users) : users);
  parts.push(`${round2(data.total.currentRps)} req/s`);
  const failures = `failures ${formatPercent(data.total.failRatio)}`;
  parts.push(data.total.numFailures > 0 ? c.red(failures) : failures);
  // Arrival-rate and iteration-count scenarios: iterations so far, and the ones dropped for want of a free user.
  const scenarios = data.snapshot.scenarios ?? [];
  if (scenarios.length > 0) {
    const iterations = scenarios.reduce((n, s) => n + s.iterations, 0);
    const dropped = scenarios.reduce((n, s) => n + s.dropped, 0);
    const text = `iterations ${iterations}, dropped ${dropped}`;
    parts.push(dropped > 0 ? c.yellow(text) : text);
  }
  parts.push(sanitizeForTerminal(progress.state));
  return c.bold(parts.join(' | '));
}

/** What `--print-stats` shows every couple of seconds: the header line, the stats table, then a line each for thresholds and checks. */
export function liveView(data: ReportData, progress: LiveProgress, options: TableOptions = {}): string {
  return `${liveHeader(data, progress, options)}\n${statsTable(data, options)}\n${liveGates(data, options)}`;
}

/**
 * The end-of-run summary, as Locust prints it: stats, percentiles, then failures and exceptions if any;
 * thresholds and checks last, so the verdict is what stays on screen above the prompt.
 */
export function finalSummary(data: ReportData, options: TableOptions = {}): string {
  const sections = [
    statsTable(data, { ...options, totalRates: true }),
    percentileTable(data, options),
    percentileTable(data, options, true),
    scenariosTable(data, options),
    failuresTable(data, options),
    exceptionsTable(data, options),
    thresholdsBlock(data, options),
    checksBlock(data, options),
  ];
  return `${sections.filter((s) => s !== '').join('\n\n')}\n`;
}

/** The bits of a stream the writer uses (process.stdout fits; tests pass a fake). */
export interface ConsoleStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

/** Colors only on a terminal and only when NO_COLOR is unset (https://no-color.org: any non-empty value). */
export function colorEnabled(stream: ConsoleStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const noColor = env['NO_COLOR'];
  return stream.isTTY === true && (noColor === undefined || noColor === '');
}

export interface ConsoleReporterOptions {
  stream?: ConsoleStream;
  /** Overrides the TTY/NO_COLOR decision. */
  color?: boolean;
  nameWidth?: number;
}

/** Writes the live view and the summary to a stream, with the Name column sized to the terminal. */
export class ConsoleReporter {
  private readonly stream: ConsoleStream;
  private readonly options: TableOptions;

  constructor(options: ConsoleReporterOptions = {}) {
    this.stream = options.stream ?? process.stdout;
    // The fixed columns of the stats table take about 90 characters; the name gets the rest, within 20..80.
    const fromTerminal = this.stream.columns === undefined ? undefined : Math.min(80, Math.max(20, this.stream.columns - 92));
    const nameWidth = options.nameWidth ?? fromTerminal;
    this.options = { color: options.color ?? colorEnabled(this.stream), ...(nameWidth === undefined ? {} : { nameWidth }) };
  }

  printLive(data: ReportData, progress: LiveProgress): void {
    this.stream.write(`${liveView(data, progress, this.options)}\n`);
  }

  printSummary(data: ReportData): void {
    this.stream.write(finalSummary(data, this.options));
  }
}
