// Graphite's plaintext lines: the documented paths and values, sanitising of hostile names, collisions, and counters across a reset.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReportData } from '../build-report.ts';
import { gatedReportData, reportData, START_S, view } from '../fixtures.test-helper.ts';
import { RequestStats } from '../../stats/request-stats.ts';
import type { RunnerControl } from '../../core/contracts.ts';
import type { StatsSnapshot } from '../../stats/types.ts';
import type { ReportData } from '../report-data.ts';
import { GRAPHITE_FAMILIES, GraphiteEncoder, MAX_COMPONENT, sanitizeComponent, sanitizePrefix } from './graphite.ts';
import { metricFamilies } from './model.ts';

const NOW_MS = (START_S + 60) * 1000 + 789;
/** The lines as `path → value`, checking each is one whole line (safe dotted components, a number, whole epoch seconds). */
function byPath(lines: string[], timestamp = Math.floor(NOW_MS / 1000)): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of lines) {
    assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, JSON.stringify(line));
    const [path, value, ts, ...rest] = line.trimEnd().split(' ');
    assert.deepEqual(rest, [], JSON.stringify(line));
    assert.ok(path!.split('.').length >= 2 && path!.split('.').every((c) => /^[A-Za-z0-9_-]+$/.test(c)), JSON.stringify(line));
    assert.ok(Number.isFinite(Number(value)) && value !== '', JSON.stringify(line));
    assert.equal(ts, String(timestamp));
    assert.ok(!out.has(path!), `${path} sent twice in one push`);
    out.set(path!, Number(value));
  }
  return out;
}

/** A report of real recorded requests, as a runner gives it (exact percentiles in the views). */
function recorded(stats: RequestStats, scenarios?: string[]): ReportData {
  const runner = { snapshot: () => stats.snapshot(4), state: 'running', userCount: 4, userClassCounts: () => ({ U: 4 }) } as unknown as RunnerControl<StatsSnapshot>;
  return buildReportData(runner, { host: '', cicadafiles: [], startTime: START_S * 1000, cicadaVersion: 't', ...(scenarios ? { scenarios: scenarios.map((name) => ({ name, executor: 'users', description: '' })) } : {}) });
}

describe('Graphite lines', () => {
  it('sends counters, exact percentiles in ms and run gauges under the documented paths, stamped in epoch seconds', () => {
    let clock = START_S * 1000;
    const stats = new RequestStats({ now: () => clock });
    for (let ms = 1; ms <= 100; ms++) stats.log('GET', '/items/[id]', ms, 10, clock);
    stats.logError('GET', '/items/[id]', 'HTTP 503', clock);
    stats.log('POST', 'log in', 7, 2, clock);
    clock += 5000;
    const data = recorded(stats);
    const sent = byPath(new GraphiteEncoder('cicada').lines(data, { workers: 2 }, NOW_MS));
    const item = 'cicada.requests.default.GET.items_id';
    assert.equal(sent.get(`${item}.count`), 100);
    assert.equal(sent.get(`${item}.failures`), 1);
    assert.equal(sent.get(`${item}.response_bytes`), 1000);
    assert.equal(sent.get(`${item}.response_time_ms.sum`), 5050);
    const view = data.entries.find((e) => e.name === '/items/[id]')!;
    // The report's own percentiles, to the µs (sent with 3 decimals of a ms).
    for (const [leaf, at] of [['p50', 0], ['p90', 4], ['p95', 5], ['p99', 7]] as const) {
      const got = sent.get(`${item}.response_time_ms.${leaf}`)!;
      assert.ok(Math.abs(got - view.percentiles[at]!) < 0.001, `${leaf}: sent ${got}, the report says ${view.percentiles[at]}`);
    }
    assert.equal(sent.get(`${item}.response_time_ms.max`), 100);
    assert.ok(Math.abs(sent.get(`${item}.response_time_ms.p90`)! - 90) <= 2, `p90 ${sent.get(`${item}.response_time_ms.p90`)}`);
    assert.equal(sent.get('cicada.requests.default.POST.log_in.count'), 1);
    assert.equal(sent.get('cicada.total.count'), 101);
    assert.equal(sent.get('cicada.total.failures'), 1);
    assert.equal(sent.get('cicada.total.response_time_ms.max'), 100);
    assert.equal(sent.get('cicada.users'), 4);
    assert.equal(sent.get('cicada.workers'), 2);
  });

  it('sends checks, thresholds (operators kept as words) and scenarios, and nothing for a name without requests', () => {
    const data = gatedReportData();
    data.snapshot.scenarios = [{ name: 'checkout', iterations: 40, dropped: 2 } as NonNullable<StatsSnapshot['scenarios']>[number]];
    const sent = byPath(new GraphiteEncoder('cicada').lines(data, { workers: 0 }, NOW_MS));
    assert.equal(sent.get('cicada.checks.status_is_200.passes'), 970);
    assert.equal(sent.get('cicada.checks.status_is_200.fails'), 10);
    assert.equal(sent.get('cicada.thresholds.response_time_p_95_lt_300.passed'), 1);
    assert.equal(sent.get('cicada.thresholds.response_time_name_items_id_p_99_lt_200.passed'), 0);
    assert.equal(sent.get('cicada.scenarios.checkout.iterations'), 40);
    assert.equal(sent.get('cicada.scenarios.checkout.dropped_iterations'), 2);
    assert.deepEqual([...sent.keys()].filter((p) => p.includes('.DELETE.')), []);
  });

  it('puts each scenario of a multi-scenario run in its own path', () => {
    const stats = new RequestStats();
    stats.log('GET', '/a [browse]', 5, 1);
    stats.log('GET', '/a [buy]', 5, 1);
    stats.log('GET', '/a [buy]', 5, 1);
    const sent = byPath(new GraphiteEncoder('cicada').lines(recorded(stats, ['browse', 'buy']), { workers: 0 }, NOW_MS));
    assert.equal(sent.get('cicada.requests.browse.GET.a.count'), 1);
    assert.equal(sent.get('cicada.requests.buy.GET.a.count'), 2);
  });

  it('gives every family of the shared model a path', () => {
    const data = gatedReportData();
    data.snapshot.scenarios = [{ name: 's', iterations: 1, dropped: 0 } as NonNullable<StatsSnapshot['scenarios']>[number]];
    assert.deepEqual(metricFamilies(data, { workers: 0 }).map((f) => f.name).filter((n) => !GRAPHITE_FAMILIES.includes(n)), []);
  });

  it('does not send a value that is not a finite number', () => {
    const data = reportData({ entries: [view('GET', '/x', { numRequests: 5, maxResponseTime: Number.NaN })] });
    const lines = new GraphiteEncoder('cicada').lines(data, { workers: 0 }, NOW_MS);
    assert.ok(lines.every((l) => !/NaN|Infinity/.test(l)));
    assert.ok(lines.some((l) => l.startsWith('cicada.requests.default.GET.x.response_time_ms.p50 ')));
  });
});

describe('Graphite path components', () => {
  it('keep letters, digits, _ and -; turn everything else into one _; trim; never empty', () => {
    const cases: [string, string][] = [
      ['/items/[id]', 'items_id'], ['GET', 'GET'], ['a.b', 'a_b'], ['a b\tc', 'a_b_c'], ['line\nbreak\r', 'line_break'],
      ['x;tag=1', 'x_tag_1'], ['*?{a,b}[c]', 'a_b_c'], ['../../etc/passwd', 'etc_passwd'], ['Grüße 🚀', 'Gr_e'],
      ['a___b', 'a_b'], ['', '_'], ['/', '_'], ['...', '_'], ['\u0000\u001f\u007f', '_'], ['keep-dash_ok', 'keep-dash_ok'],
    ];
    for (const [raw, want] of cases) assert.equal(sanitizeComponent(raw), want, JSON.stringify(raw));
  });

  it('bound a long name, keeping two long names with the same start apart', () => {
    const a = sanitizeComponent(`${'x'.repeat(300)}a`);
    const b = sanitizeComponent(`${'x'.repeat(300)}b`);
    assert.equal(a.length, MAX_COMPONENT);
    assert.equal(b.length, MAX_COMPONENT);
    assert.notEqual(a, b);
  });

  it('take the prefix\'s dots as levels and sanitise each part', () => {
    assert.equal(sanitizePrefix('team.load test..run/7.'), 'team.load_test.run_7');
    assert.equal(sanitizePrefix('cicada'), 'cicada');
    assert.equal(sanitizePrefix('...'), 'cicada');
  });

  it('never let a hostile name add a line, a level or a glob', () => {
    const hostile = ['a\nevil.path 1 0\n', 'x 1 1', '*', '{a,b}', 'a;tag=b', '..', ' ', '🚀', '\u202e', 'x'.repeat(1000), '<img src=x>'];
    const data = reportData({ entries: hostile.map((name, i) => view(i % 2 === 0 ? 'GET' : 'P\nOST', name, { numRequests: 1 })) });
    data.snapshot.entries = [];
    const lines = new GraphiteEncoder('my.prefix').lines(data, { workers: 0 }, NOW_MS);
    const sent = byPath(lines);
    const series = new Set([...sent.keys()].filter((p) => p.startsWith('my.prefix.requests.')).map((p) => p.split('.').slice(0, 6).join('.')));
    assert.equal(series.size, hostile.length, [...series].join('\n'));
    for (const p of sent.keys()) {
      assert.equal(p.split('.').length <= 8, true, p);
      assert.ok(p.split('.').every((c) => c.length > 0 && c.length <= MAX_COMPONENT), p);
    }
  });
});

describe('GraphiteEncoder', () => {
  it('keeps two names that sanitise alike in different paths, each stable from push to push', () => {
    const data = reportData({ entries: [view('GET', '/a.b', { numRequests: 1 }), view('GET', '/a/b', { numRequests: 1 })] });
    data.snapshot.entries = [];
    const encoder = new GraphiteEncoder('cicada');
    const first = [...byPath(encoder.lines(data, { workers: 0 }, NOW_MS)).keys()].filter((p) => p.includes('.requests.') && p.endsWith('.p50'));
    assert.equal(first.length, 2);
    assert.equal(first[0], 'cicada.requests.default.GET.a_b.response_time_ms.p50');
    assert.match(first[1]!, /^cicada\.requests\.default\.GET\.a_b_[0-9a-f]{8}\.response_time_ms\.p50$/);
    data.entries.reverse();
    const second = [...byPath(encoder.lines(data, { workers: 0 }, NOW_MS)).keys()].filter((p) => p.includes('.requests.') && p.endsWith('.p50'));
    assert.deepEqual(second.sort(), first.sort());
  });

  it('carries counters over a reset of the statistics, so a path never goes down; gauges start afresh', () => {
    let clock = START_S * 1000;
    const stats = new RequestStats({ now: () => clock });
    for (let i = 0; i < 10; i++) stats.log('GET', '/a', 50, 1, clock);
    const encoder = new GraphiteEncoder('cicada');
    const before = byPath(encoder.lines(recorded(stats), { workers: 0 }, NOW_MS));
    assert.equal(before.get('cicada.requests.default.GET.a.count'), 10);
    clock += 3000;
    stats.reset();
    stats.log('GET', '/a', 5, 1, clock);
    stats.log('GET', '/a', 5, 1, clock);
    const data = recorded(stats);
    assert.notEqual(data.snapshot.startTime, START_S, 'the reset should start a new run_id');
    const after = byPath(encoder.lines(data, { workers: 0 }, NOW_MS + 3000), Math.floor((NOW_MS + 3000) / 1000));
    assert.equal(after.get('cicada.requests.default.GET.a.count'), 12);
    assert.equal(after.get('cicada.requests.default.GET.a.response_time_ms.sum'), 510);
    assert.equal(after.get('cicada.total.count'), 12);
    assert.equal(after.get('cicada.requests.default.GET.a.response_time_ms.max'), 5);
  });
});
