// Tests of the console tables, the live view and the console writer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checksBlock,
  colorEnabled,
  ConsoleReporter,
  exceptionsTable,
  failuresTable,
  finalSummary,
  liveView,
  percentileTable,
  statsTable,
  thresholdsBlock,
  type ConsoleStream,
} from './console.ts';
import { emptyView, gatedReportData, reportData, view } from './fixtures.test-helper.ts';
import type { LiveProgress, ReportData } from './report-data.ts';
import type { CheckSnapshot, ThresholdResult } from '../stats/types.ts';

const progress: LiveProgress = { elapsedMs: 65_000, runTimeMs: 300_000, userCount: 120, targetUserCount: 200, spawning: true, state: 'spawning' };

/** The plain run with only these thresholds and checks. */
function gated(thresholds: ThresholdResult[] | undefined, checks: CheckSnapshot[] | undefined): ReportData {
  const data = reportData();
  if (thresholds !== undefined) data.thresholds = thresholds;
  if (checks !== undefined) data.snapshot.checks = checks;
  return data;
}

function threshold(overrides: Partial<ThresholdResult>): ThresholdResult {
  return { metric: 'response_time', expression: 'p(95)<300', ok: true, observed: 120, unit: 'ms', tags: {}, abortOnFail: false, ...overrides };
}

function lineOf(text: string, needle: string): string {
  const line = text.split('\n').find((l) => l.includes(needle));
  assert.ok(line !== undefined, `no line contains ${needle}`);
  return line;
}

describe('statsTable', () => {
  it('shows Locust\'s columns, each entry with counts and failure percentages, and Aggregated last', () => {
    const text = statsTable(reportData());
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^Type\s+Name\s+# reqs\s+# fails \|\s+Avg\s+Min\s+Max\s+Med \|\s+req\/s\s+failures\/s$/);
    assert.match(lineOf(text, '/items/[id]'), /^GET\s+\/items\/\[id\]\s+380\s+10\(2\.63%\) \|\s+48\.46\s+3\s+813\s+42 \|\s+17\.25\s+0\.20$/);
    assert.match(lines.at(-1) ?? '', /^\s+Aggregated\s+1000\s+10\(1\.00%\)/);
  });

  it('never truncates a long average: 60000.12 ms shows as 60000 (regression: 60000.…), and a max of 123456', () => {
    const slow = view('GET', '/slow', { avgResponseTime: 60000.12, maxResponseTime: 123456, minResponseTime: 59000, medianResponseTime: 60000 });
    const line = lineOf(statsTable(reportData({ entries: [slow] })), '/slow');
    assert.match(line, /\|\s+60000\s+59000\s+123456\s+60000 \|/);
    assert.doesNotMatch(line, /…/);
    const mid = view('GET', '/mid', { avgResponseTime: 345.678 });
    assert.match(lineOf(statsTable(reportData({ entries: [mid] })), '/mid'), /\|\s+345\.7\s/);
  });

  it('shows zeros, not N/A or NaN, for an entry without requests', () => {
    const line = lineOf(statsTable(reportData()), 'DELETE');
    assert.match(line, /0\(0\.00%\) \|\s+0\s+0\s+0\s+0 \|/);
    assert.doesNotMatch(line, /NaN|N\/A/);
  });

  it('truncates long names to the column width with an ellipsis', () => {
    const long = `/search?q=${'x'.repeat(100)}`;
    const text = statsTable(reportData({ entries: [view('GET', long)] }), { nameWidth: 20 });
    const line = lineOf(text, '/search');
    assert.ok(line.includes(`${long.slice(0, 19)}…`));
    assert.ok(!line.includes(long.slice(0, 21)));
  });

  it('replaces control characters in names so they cannot inject terminal escapes', () => {
    const text = statsTable(reportData({ entries: [view('GET', '/a\u001b[2J\nb')] }));
    assert.ok(!text.includes('\u001b'));
    assert.ok(lineOf(text, '/a').includes('/a [2J b'));
  });

  it('adds ANSI colors only when asked', () => {
    assert.ok(!statsTable(reportData()).includes('\u001b['));
    assert.ok(statsTable(reportData(), { color: true }).includes('\u001b['));
  });
});

describe('percentileTable', () => {
  it('lists every reported percentile and the request count, with N/A for an entry without requests', () => {
    const text = percentileTable(reportData());
    assert.match(lineOf(text, 'Name'), /50%\s+66%\s+75%\s+80%\s+90%\s+95%\s+98%\s+99%\s+99\.9%\s+99\.99%\s+100%\s+# reqs$/);
    assert.match(lineOf(text, 'GET      /  '), /42\s+51\s+58\s+63\s+88\s+120\s+190\s+260\s+640\s+800\s+813\s+600$/);
    assert.match(lineOf(text, 'DELETE'), new RegExp(`${'N/A +'.repeat(11)}0$`));
  });
});

describe('failuresTable and exceptionsTable', () => {
  it('lists failures by occurrences with method and name', () => {
    const lines = failuresTable(reportData()).split('\n');
    assert.equal(lines[0], 'Error report');
    assert.match(lines[3] ?? '', /^7\s+GET \/items\/\[id\]: HTTP 503$/);
    assert.match(lines[4] ?? '', /^3\s+GET \/items\/\[id\]: ECONNRESET$/);
  });

  it('is empty when there are no failures or exceptions', () => {
    const data = reportData({ snapshot: { errors: [], exceptions: [] } });
    assert.equal(failuresTable(data), '');
    assert.equal(exceptionsTable(data), '');
  });

  it('shows each exception with its count, message and traceback', () => {
    const text = exceptionsTable(reportData());
    assert.match(text, /^2\s+TypeError: Cannot read properties/m);
    assert.match(text, /^\s+at Shopper\.buy \(cicadafile\.ts:12:5\)$/m);
  });
});

describe('liveView', () => {
  it('shows elapsed and remaining time, users with spawning, RPS and failure ratio, then the table', () => {
    const text = liveView(reportData(), progress);
    const header = text.split('\n')[0] ?? '';
    assert.match(header, /elapsed 1m05s, remaining 3m55s/);
    assert.match(header, /users 120\/200 spawning/);
    assert.match(header, /17\.25 req\/s/);
    assert.match(header, /failures 1\.00%/);
    assert.match(text, /Aggregated/);
  });

  it('leaves out the remaining time without a run time and the spawning mark once spawned', () => {
    const header = liveView(reportData(), { elapsedMs: 3_725_000, userCount: 200, targetUserCount: 200, spawning: false, state: 'running' }).split('\n')[0] ?? '';
    assert.match(header, /^elapsed 1h02m05s \| users 200\/200 \|/);
    assert.doesNotMatch(header, /remaining|spawning/);
  });

  it('shows the iterations and dropped iterations of arrival-rate scenarios in the header, and nothing of them otherwise', () => {
    assert.doesNotMatch(liveView(reportData(), progress), /iterations/);
    const base = reportData();
    const scenario = { iterations: 590, failedIterations: 0, interrupted: 0, duration: { indices: [], counts: [] }, lateness: { indices: [], counts: [] } };
    const data = { ...base, snapshot: { ...base.snapshot, scenarios: [{ ...scenario, name: 'a', dropped: 3 }, { ...scenario, name: 'b', dropped: 9 }] } };
    assert.match(liveView(data, progress).split('\n')[0] ?? '', /iterations 1180, dropped 12/);
  });

  it('never shows a negative remaining time', () => {
    assert.match(liveView(reportData(), { ...progress, elapsedMs: 301_000 }), /remaining 0s/);
  });
});

describe('finalSummary', () => {
  it('holds the stats, percentiles, failures and exceptions sections in Locust\'s order', () => {
    const text = finalSummary(reportData());
    const order = ['# fails', 'Response time percentiles', 'Error report', 'Exceptions'].map((s) => text.indexOf(s));
    assert.ok(order.every((i) => i >= 0));
    assert.deepEqual([...order].sort((a, b) => a - b), order);
  });

  it('shows the rates over the whole run (after a stop the current window reads 0), as Locust\'s final table', () => {
    const total = view('', 'Aggregated', { numRequests: 1000, numFailures: 10, failRatio: 0.01, totalRps: 16.67, totalFailPerSec: 0.17, currentRps: 0, currentFailPerSec: 0 });
    const text = finalSummary(reportData({ total }));
    const line = text.split('\n').find((l) => l.includes('Aggregated'))!;
    assert.match(line, /16\.67\s+0\.17\s*$/);
  });

  it('ends with the thresholds, then the checks, when the run has them, and prints neither otherwise', () => {
    const text = finalSummary(gatedReportData());
    const order = ['Exceptions', '\nThresholds\n', '1 of 4 thresholds failed', '\nChecks (passed/total)\n'].map((s) => text.indexOf(s));
    assert.ok(order.every((i) => i >= 0), String(order));
    assert.deepEqual([...order].sort((a, b) => a - b), order);
    assert.ok(text.endsWith("(reading 'id')\n"));
    assert.doesNotMatch(finalSummary(reportData()), /Thresholds|Checks/);
  });

  it('omits empty failure and exception sections', () => {
    const data = reportData({ entries: [], total: emptyView('', 'Aggregated'), snapshot: { errors: [], exceptions: [] } });
    const text = finalSummary(data);
    assert.doesNotMatch(text, /Error report|Exceptions/);
  });
});

describe('thresholdsBlock', () => {
  it('gives each threshold a mark, its metric, expression and observed value with its unit, and counts the failed ones', () => {
    assert.deepEqual(thresholdsBlock(gatedReportData()).split('\n'), [
      'Thresholds',
      '✓ response_time                    p(95)<300    120 ms',
      '✗ response_time{name:/items/[id]}  p(99)<200    260 ms  (abort on fail)',
      '✓ fail_ratio                       value<0.05    1.00%',
      '✓ requests{name:/never}            count>0     no data',
      '1 of 4 thresholds failed',
    ]);
  });

  it('prints rates per second, counts, and milliseconds to 2 decimals, so 299.6 ms does not read as the limit 300', () => {
    const text = thresholdsBlock(gated([
      threshold({ observed: 299.6 }),
      threshold({ metric: 'requests', expression: 'rate>10', observed: 16.6667, unit: '/s' }),
      threshold({ metric: 'dropped_iterations', expression: 'count<100', observed: 42, unit: 'count' }),
    ], undefined));
    assert.match(lineOf(text, 'p(95)'), /p\(95\)<300\s+299\.6 ms$/);
    assert.match(lineOf(text, 'rate>10'), /16\.67\/s$/);
    assert.match(lineOf(text, 'count<100'), /\s42$/);
    assert.doesNotMatch(text, /failed/);
  });

  it('never rounds a failing ratio to 0.00%: it adds decimals', () => {
    const text = thresholdsBlock(gated([threshold({ metric: 'fail_ratio', expression: 'value<0.00001', ok: false, observed: 0.00004, unit: 'ratio' })], undefined));
    assert.match(lineOf(text, 'fail_ratio'), /0\.004%$/);
    assert.match(text, /1 of 1 threshold failed$/);
  });

  it('replaces control characters in a metric so it cannot inject terminal escapes', () => {
    const text = thresholdsBlock(gated([threshold({ metric: 'response_time{name:/a\u001b[2J\nb}' })], undefined));
    assert.ok(!text.includes('\u001b'));
    assert.ok(text.includes('response_time{name:/a [2J b}'));
  });

  it('is empty without thresholds', () => {
    assert.equal(thresholdsBlock(reportData()), '');
    assert.equal(thresholdsBlock(gated([], undefined)), '');
  });
});

describe('checksBlock', () => {
  it('sums each check over its request names, splits it per request name when there are several, and shows the last error', () => {
    assert.deepEqual(checksBlock(gatedReportData()).split('\n'), [
      'Checks (passed/total)',
      '✗ status is 200  970/980   98.98%',
      '    /items/[id]  370/380   97.37%',
      '    /            600/600  100.00%',
      '✗ has an id      379/380   99.74%',
      "    last error: TypeError: Cannot read properties of null (reading 'id')",
    ]);
  });

  it('marks a check that always passed with ✓, and names a request without a name', () => {
    const text = checksBlock(gated(undefined, [{ name: 'ok', request: '', passes: 5, fails: 0 }, { name: 'ok', request: '/a', passes: 5, fails: 0 }]));
    assert.match(lineOf(text, 'ok'), /^✓ ok\s+10\/10  100\.00%$/);
    assert.match(lineOf(text, '(no request name)'), /^ {4}\(no request name\)\s+5\/5  100\.00%$/);
  });

  it('never shows one fail in 100 000 as 100.00%', () => {
    assert.match(checksBlock(gated(undefined, [{ name: 'rare', request: '/', passes: 99_999, fails: 1 }])), /99999\/100000  99\.999%/);
  });

  it('keeps a thrown message with newlines and escapes on one inert line', () => {
    const text = checksBlock(gated(undefined, [{ name: 'x', request: '/', passes: 0, fails: 1, lastError: 'Error: a\n    at \u001b[31mf' }]));
    assert.ok(!text.includes('\u001b'));
    assert.match(text, /^ {4}last error: Error: a     at  \[31mf$/m);
  });

  it('is empty without checks', () => {
    assert.equal(checksBlock(reportData()), '');
    assert.equal(checksBlock(gated(undefined, [])), '');
  });
});

describe('liveView with thresholds and checks', () => {
  it('adds a thresholds line naming the first failing one and a checks line under the table', () => {
    const lines = liveView(gatedReportData(), progress).trimEnd().split('\n');
    assert.deepEqual(lines.slice(-2), [
      'thresholds: 3 passing, 1 failing (response_time{name:/items/[id]} p(99)<200: 260 ms)',
      // 370 + 600 + 379 of 380 + 600 + 380 evaluations.
      'checks: 99.19% of 1360 passed',
    ]);
  });

  it('counts the other failing thresholds, and says only "passing" when none fails', () => {
    const failing = threshold({ ok: false, observed: 400 });
    assert.match(liveView(gated([failing, { ...failing, metric: 'iteration_duration' }], undefined), progress), /^thresholds: 0 passing, 2 failing \(response_time p\(95\)<300: 400 ms, \+1 more\)$/m);
    assert.match(liveView(gated([threshold({})], undefined), progress), /^thresholds: 1 passing$/m);
  });

  it('adds nothing for a run without thresholds or checks', () => {
    const text = liveView(reportData(), progress);
    assert.doesNotMatch(text, /thresholds|checks/);
    assert.ok(text.endsWith(`${lineOf(text, 'Aggregated')}\n`));
  });
});

describe('ConsoleReporter', () => {
  function fakeStream(isTTY: boolean): ConsoleStream & { written: string } {
    const stream = { written: '', isTTY, columns: 140, write: (chunk: string): boolean => ((stream.written += chunk), true) };
    return stream;
  }

  it('colors only a TTY and only when NO_COLOR is unset', () => {
    assert.equal(colorEnabled(fakeStream(true), {}), true);
    assert.equal(colorEnabled(fakeStream(true), { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled(fakeStream(false), {}), false);
  });

  it('writes the live view and the summary to its stream', () => {
    const stream = fakeStream(false);
    const reporter = new ConsoleReporter({ stream });
    reporter.printLive(reportData(), progress);
    reporter.printSummary(reportData());
    assert.match(stream.written, /remaining 3m55s/);
    assert.match(stream.written, /Response time percentiles/);
    assert.ok(!stream.written.includes('\u001b['));
  });

  it('colors the threshold and check marks on a terminal only', () => {
    const plain = fakeStream(false);
    new ConsoleReporter({ stream: plain }).printSummary(gatedReportData());
    assert.ok(plain.written.includes('✗ response_time{name:/items/[id]}'));
    assert.ok(!plain.written.includes('\u001b['));
    const tty = fakeStream(true);
    new ConsoleReporter({ stream: tty, color: true }).printSummary(gatedReportData());
    assert.ok(tty.written.includes('\u001b[32m✓\u001b[39m response_time '));
    assert.ok(tty.written.includes('\u001b[31m✗ response_time{name:/items/[id]}'));
  });
});
