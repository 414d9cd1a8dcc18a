// Tests of the Locust-compatible CSV builders: exact columns, number formats, quoting and the formula guard.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvCell, csvRow, CsvWriter, exceptionsCsv, failuresCsv, historyHeader, historyRows, statsCsv, type CsvFs } from './csv.ts';
import { ReportWriteError } from './errors.ts';
import { emptyView, reportData, START_S, view } from './fixtures.test-helper.ts';
import { entryKey } from './report-data.ts';
import { parseCsv } from '../../test/helpers.ts';

// Written out by hand from reference §1.6 (Locust 2.46 stats.py), not derived from our constants.
const LOCUST_STATS_HEADER =
  'Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,' +
  'Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%';
const LOCUST_HISTORY_HEADER =
  'Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,' +
  'Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,' +
  'Total Max Response Time,Total Average Content Size';
const LOCUST_FAILURES_HEADER = 'Method,Name,Error,Occurrences,First Seen,Last Seen';
const LOCUST_EXCEPTIONS_HEADER = 'Count,Message,Traceback,Nodes';

const lines = (text: string): string[] => text.split('\r\n').filter((l) => l !== '');

describe('CSV headers', () => {
  it('uses exactly Locust\'s column names and order in every file', () => {
    const data = reportData();
    assert.equal(lines(statsCsv(data))[0], LOCUST_STATS_HEADER);
    assert.equal(historyHeader(), `${LOCUST_HISTORY_HEADER}\r\n`);
    assert.equal(lines(failuresCsv(data))[0], LOCUST_FAILURES_HEADER);
    assert.equal(lines(exceptionsCsv(data))[0], LOCUST_EXCEPTIONS_HEADER);
  });
});

describe('statsCsv', () => {
  it('writes one row per entry in the given order, then Aggregated with an empty Type', () => {
    const rows = parseCsv(statsCsv(reportData()));
    assert.deepEqual(rows.slice(1).map((r) => `${r[0]} ${r[1]}`), ['GET /', 'GET /items/[id]', 'DELETE /items/[id]', 'POST /login', ' Aggregated']);
  });

  it('formats counts, whole-ms times, 2-decimal averages and rates, and percentiles', () => {
    const row = parseCsv(statsCsv(reportData()))[1];
    assert.deepEqual(row, ['GET', '/', '600', '0', '42', '48.46', '3', '813', '1532.33', '16.67', '0', '42', '51', '58', '63', '88', '120', '190', '260', '640', '800', '813']);
  });

  it('keeps up to 2 decimals for sub-millisecond times instead of printing 0', () => {
    const login = parseCsv(statsCsv(reportData())).find((r) => r[1] === '/login');
    assert.equal(login?.[4], '0.43');
    assert.equal(login?.[6], '0.21');
  });

  it('writes N/A percentiles and zero times for an entry without requests', () => {
    const row = parseCsv(statsCsv(reportData())).find((r) => r[0] === 'DELETE');
    assert.deepEqual(row?.slice(2, 11), ['0', '0', '0', '0', '0', '0', '0', '0', '0']);
    assert.deepEqual(row?.slice(11), Array.from({ length: 11 }, () => 'N/A'));
  });

  it('reads back names containing commas, quotes and line breaks unchanged', () => {
    const name = 'a,b "quoted"\nnext line';
    const rows = parseCsv(statsCsv(reportData({ entries: [view('GET', name)] })));
    assert.equal(rows[1]?.[1], name);
    assert.equal(rows.length, 3);
  });
});

describe('csvCell', () => {
  it('prefixes strings a spreadsheet would run as a formula with a single quote', () => {
    for (const bad of ['=HYPERLINK("http://x")', '+1+2', '-2+3', '@SUM(A1)', '\tx', '\rx', '\nx']) {
      const parsed = parseCsv(csvRow([bad]))[0]?.[0];
      assert.equal(parsed, `'${bad}`, JSON.stringify(bad));
    }
  });

  it('also guards the full-width ＝＋－＠, and a formula after leading spaces, tabs, line breaks or other white space', () => {
    for (const bad of ['＝HYPERLINK("http://x")', '＋1', '－1+2', '＠SUM(A1)', ' =1+1', '  +1', '\t=1', '\n-1', '\r\n@SUM(A1)', '\u3000=1', '\u00a0＝1', ' \t ＠x']) {
      const parsed = parseCsv(csvRow([bad]))[0]?.[0];
      assert.equal(parsed, `'${bad}`, JSON.stringify(bad));
    }
  });

  it('leaves a leading space before harmless text, and formula characters inside a cell, alone', () => {
    for (const fine of [' /items', 'a=b', 'x-1', 'user@example.com', '/a+b']) assert.equal(csvCell(fine), fine);
  });

  it('leaves numbers and harmless strings alone', () => {
    assert.equal(csvCell(-5), '-5');
    assert.equal(csvCell(12.5), '12.5');
    assert.equal(csvCell('/items/[id]'), '/items/[id]');
    assert.equal(csvCell('N/A'), 'N/A');
  });

  it('quotes fields with commas, quotes or line breaks and doubles quotes', () => {
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
  });
});

describe('failuresCsv and exceptionsCsv', () => {
  it('lists failures most frequent first with epoch-second seen times', () => {
    const rows = parseCsv(failuresCsv(reportData()));
    assert.deepEqual(rows[1], ['GET', '/items/[id]', 'HTTP 503', '7', String(START_S + 3), String(START_S + 55)]);
    assert.equal(rows[2]?.[2], 'ECONNRESET');
  });

  it('keeps multi-line tracebacks in one cell and joins nodes with a comma', () => {
    const data = reportData();
    data.snapshot.exceptions[0] = { count: 2, msg: 'Error: x', traceback: 'Error: x\n    at a (f.ts:1:1)', nodes: ['w1', 'w2'] };
    const rows = parseCsv(exceptionsCsv(data));
    assert.deepEqual(rows[1], ['2', 'Error: x', 'Error: x\n    at a (f.ts:1:1)', 'w1, w2']);
  });
});

describe('historyRows', () => {
  it('writes only the Aggregated row with cumulative percentiles without full history', () => {
    const rows = parseCsv(historyRows(reportData(), false, START_S + 60.7));
    assert.equal(rows.length, 1);
    const row = rows[0] ?? [];
    assert.equal(row.length, LOCUST_HISTORY_HEADER.split(',').length);
    assert.deepEqual(row.slice(0, 7), [String(START_S + 60), '100', '', 'Aggregated', '17.25', '0.2', '42']);
    assert.deepEqual(row.slice(17), ['1000', '10', '42', '48.46', '3', '813', '1532.33']);
  });

  it('adds one row per entry with current percentiles under full history', () => {
    const data = reportData();
    data.currentPercentiles = { [entryKey('GET', '/')]: [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17] };
    const rows = parseCsv(historyRows(data, true, START_S + 60));
    assert.deepEqual(rows.map((r) => r[3]), ['/', '/items/[id]', '/items/[id]', '/login', 'Aggregated']);
    assert.equal(rows[0]?.[6], '7', 'GET / uses its current percentiles');
    assert.equal(rows[1]?.[6], '42', 'an entry without current percentiles falls back to cumulative ones');
    assert.equal(rows[2]?.[6], 'N/A', 'an entry without requests has N/A percentiles');
    const lastPoint = data.snapshot.history.at(-1);
    assert.equal(rows[4]?.[11], String(lastPoint?.currentPercentiles[5]), 'Aggregated p95 comes from the latest history point');
  });

  it('writes N/A percentiles for an Aggregated row without requests', () => {
    const data = reportData({ entries: [], total: emptyView('', 'Aggregated') });
    const row = parseCsv(historyRows(data, false, START_S))[0] ?? [];
    assert.deepEqual(row.slice(6, 17), Array.from({ length: 11 }, () => 'N/A'));
  });
});

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cicada-csv-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('CsvWriter', () => {
  it('creates missing folders and writes all four Locust-named files', async () => {
    await withTempDir(async (dir) => {
      const writer = new CsvWriter({ prefix: join(dir, 'results', 'run'), fullHistory: false });
      await writer.open();
      const data = reportData();
      await writer.appendHistory(data, START_S + 1);
      await writer.appendHistory(data, START_S + 2);
      await writer.writeFinal(data);
      const files = (await readdir(join(dir, 'results'))).sort();
      assert.deepEqual(files, ['run_exceptions.csv', 'run_failures.csv', 'run_stats.csv', 'run_stats_history.csv']);
      const historyLines = lines(await readFile(join(dir, 'results', 'run_stats_history.csv'), 'utf8'));
      assert.equal(historyLines.length, 3);
      assert.equal(historyLines[0], LOCUST_HISTORY_HEADER);
      assert.ok(historyLines[2]?.startsWith(`${START_S + 2},100,,Aggregated,`));
      assert.equal(await readFile(join(dir, 'results', 'run_stats.csv'), 'utf8'), statsCsv(data));
    });
  });

  it('writes a history row per entry with full history', async () => {
    await withTempDir(async (dir) => {
      const writer = new CsvWriter({ prefix: join(dir, 'run'), fullHistory: true });
      await writer.open();
      await writer.appendHistory(reportData(), START_S);
      const historyLines = lines(await readFile(join(dir, 'run_stats_history.csv'), 'utf8'));
      assert.equal(historyLines.length, 1 + 4 + 1);
    });
  });

  it('fails at open with an error naming the path and the fix when the folder cannot be created', async () => {
    await withTempDir(async (dir) => {
      const blocker = join(dir, 'not-a-dir');
      await writeFile(blocker, 'x');
      const writer = new CsvWriter({ prefix: join(blocker, 'sub', 'run'), fullHistory: false });
      await assert.rejects(writer.open(), (err: unknown) => {
        assert.ok(err instanceof ReportWriteError);
        assert.equal(err.code, 'CICADA_ERR_REPORT_WRITE');
        assert.equal(err.exitCode, 2);
        assert.match(err.message, /not-a-dir/);
        assert.match(err.hint ?? "", /writable/);
        return true;
      });
    });
  });

  it('refuses to append history before open', async () => {
    const writer = new CsvWriter({ prefix: join(tmpdir(), 'never-opened'), fullHistory: false });
    await assert.rejects(writer.appendHistory(reportData(), START_S), /before open/);
  });

  it('keeps appends in call order even when the caller does not wait for each one', async () => {
    const appended: string[] = [];
    let delay = 20;
    const fakeFs: CsvFs = {
      mkdir: () => Promise.resolve(undefined),
      writeFile: () => Promise.resolve(),
      rename: () => Promise.resolve(),
      // Earlier appends take longer, so without serialisation they would land out of order.
      appendFile: async (_file, data) => {
        const wait = (delay -= 5);
        await new Promise((resolve) => setTimeout(resolve, wait));
        appended.push(data.slice(0, 10));
      },
    };
    const writer = new CsvWriter({ prefix: '/virtual/run', fullHistory: false, fs: fakeFs });
    await writer.open();
    const data = reportData();
    await Promise.all([1, 2, 3].map((i) => writer.appendHistory(data, START_S + i)));
    assert.deepEqual(appended, [1, 2, 3].map((i) => String(START_S + i)));
  });
});
