// Hand-built ReportData fixtures for the exporter tests (no dependency on the stats runtime).
import type { EntrySnapshot, EntryView, HistoryPoint, StatsSnapshot } from '../stats/types.ts';
import type { ReportData } from './report-data.ts';

export const START_S = 1_714_564_800; // 2024-05-01 12:00:00 UTC

/** A derived entry view with plausible numbers; `overrides` replace any field. */
export function view(method: string, name: string, overrides: Partial<EntryView> = {}): EntryView {
  return {
    method,
    name,
    numRequests: 1000,
    numFailures: 10,
    medianResponseTime: 42,
    avgResponseTime: 48.456,
    minResponseTime: 3.2,
    maxResponseTime: 812.7,
    avgContentLength: 1532.333,
    totalRps: 16.6667,
    totalFailPerSec: 0.1667,
    currentRps: 17.25,
    currentFailPerSec: 0.2,
    failRatio: 0.01,
    percentiles: [42, 51, 58, 63, 88, 120, 190, 260, 640, 800, 812.7],
    ...overrides,
  };
}

/** A view with no requests at all (percentiles null, as the stats layer reports them). */
export function emptyView(method: string, name: string): EntryView {
  return view(method, name, {
    numRequests: 0,
    numFailures: 0,
    medianResponseTime: null,
    avgResponseTime: 0,
    minResponseTime: null,
    maxResponseTime: 0,
    avgContentLength: 0,
    totalRps: 0,
    totalFailPerSec: 0,
    currentRps: 0,
    currentFailPerSec: 0,
    failRatio: 0,
    percentiles: Array.from({ length: 11 }, () => null),
  });
}

export function entrySnapshot(method: string, name: string, overrides: Partial<EntrySnapshot> = {}): EntrySnapshot {
  return {
    method,
    name,
    numRequests: 3,
    numFailures: 1,
    totalResponseTime: 36.5,
    minResponseTime: 10.5,
    maxResponseTime: 14,
    totalContentLength: 300,
    startTime: START_S,
    lastRequestTimestamp: START_S + 2.5,
    histogram: { indices: [10, 12], counts: [1, 2] },
    numReqsPerSec: { [START_S]: 1, [START_S + 2]: 2 },
    numFailPerSec: { [START_S + 2]: 1 },
    ...overrides,
  };
}

/** `count` history points, one per second, with a ramp of users and a latency bump in the middle. */
export function history(count: number): HistoryPoint[] {
  return Array.from({ length: count }, (_, i): HistoryPoint => ({
    time: START_S + i,
    userCount: Math.min(100, i * 5),
    currentRps: 10 + (i % 7),
    currentFailPerSec: i % 10 === 0 ? 1 : 0,
    currentPercentiles: i === 0 ? Array.from({ length: 11 }, () => null) : [40 + (i % 5), 50, 55, 60, 80, 110 + (i % 13), 180, 250, 600, 790, 800],
    totalRequests: i * 12,
    totalFailures: Math.floor(i / 10),
  }));
}

export interface FixtureOptions {
  entries?: EntryView[];
  total?: EntryView;
  snapshot?: Partial<StatsSnapshot>;
  meta?: Partial<ReportData['meta']>;
}

/** A realistic finished run: three endpoints, one without requests, failures, an exception, 60 s of history. */
export function reportData(options: FixtureOptions = {}): ReportData {
  const entries = options.entries ?? [
    view('GET', '/', { numRequests: 600, numFailures: 0, failRatio: 0, totalFailPerSec: 0, currentFailPerSec: 0 }),
    view('GET', '/items/[id]', { numRequests: 380, numFailures: 10, failRatio: 10 / 380 }),
    emptyView('DELETE', '/items/[id]'),
    view('POST', '/login', { numRequests: 20, numFailures: 0, failRatio: 0, medianResponseTime: 0.43, minResponseTime: 0.21 }),
  ];
  const total = options.total ?? view('', 'Aggregated', { numRequests: 1000, numFailures: 10, failRatio: 0.01 });
  const snapshot: StatsSnapshot = {
    time: (START_S + 60) * 1000,
    startTime: START_S,
    entries: [entrySnapshot('GET', '/'), entrySnapshot('GET', '/items/[id]'), entrySnapshot('DELETE', '/items/[id]', {
      numRequests: 0, numFailures: 0, totalResponseTime: 0, minResponseTime: 0, maxResponseTime: 0, totalContentLength: 0,
      startTime: 0, lastRequestTimestamp: 0, histogram: { indices: [], counts: [] }, numReqsPerSec: {}, numFailPerSec: {},
    }), entrySnapshot('POST', '/login')],
    total: entrySnapshot('', 'Aggregated'),
    errors: [
      { method: 'GET', name: '/items/[id]', error: 'HTTP 503', occurrences: 7, firstSeen: START_S + 3, lastSeen: START_S + 55 },
      { method: 'GET', name: '/items/[id]', error: 'ECONNRESET', occurrences: 3, firstSeen: START_S + 10, lastSeen: START_S + 40 },
    ],
    exceptions: [
      { count: 2, msg: "TypeError: Cannot read properties of undefined (reading 'id')", traceback: 'TypeError: boom\n    at Shopper.buy (cicadafile.ts:12:5)', nodes: ['local'] },
    ],
    history: history(60),
    userCount: 100,
    overflowedNames: 0,
    ...options.snapshot,
  };
  return {
    snapshot,
    entries,
    total,
    meta: {
      host: 'http://shop.test:8080',
      cicadafiles: ['cicadafile.ts'],
      startTime: START_S * 1000,
      endTime: (START_S + 60) * 1000,
      state: 'stopped',
      userCount: 100,
      userClassCounts: { Shopper: 75, Browser: 25 },
      cicadaVersion: '0.1.0',
      ...options.meta,
    },
  };
}

export const HOSTILE = '</script><img src=x onerror=alert(1)>';

/** A run where every user-controlled string is an HTML/script injection attempt. */
export function hostileReportData(): ReportData {
  const base = reportData({
    entries: [view(HOSTILE, HOSTILE), view('GET', `"'><svg onload=alert(1)>&amp;`)],
    meta: {
      host: `http://evil.test/${HOSTILE}`,
      cicadafiles: [`${HOSTILE}.ts`],
      userClassCounts: { [HOSTILE]: 3 },
      state: HOSTILE,
      cicadaVersion: HOSTILE,
      taskRatios: { perClass: { [HOSTILE]: { ratio: 1, tasks: { [HOSTILE]: { ratio: 1 } } } }, total: { [HOSTILE]: { ratio: 1 } } },
    },
  });
  base.snapshot.errors = [{ method: HOSTILE, name: HOSTILE, error: HOSTILE, occurrences: 1, firstSeen: START_S, lastSeen: START_S }];
  base.snapshot.exceptions = [{ count: 1, msg: HOSTILE, traceback: `${HOSTILE}\n  at <anonymous>`, nodes: [HOSTILE] }];
  return base;
}

/** A finished run with thresholds (one failed, one without data) and checks (one failing, one that threw). */
export function gatedReportData(): ReportData {
  const base = reportData();
  base.thresholds = [
    { metric: 'response_time', expression: 'p(95)<300', ok: true, observed: 120, unit: 'ms', tags: {}, abortOnFail: false },
    { metric: 'response_time{name:/items/[id]}', expression: 'p(99)<200', ok: false, observed: 260, unit: 'ms', tags: { name: '/items/[id]' }, abortOnFail: true },
    { metric: 'fail_ratio', expression: 'value<0.05', ok: true, observed: 0.01, unit: 'ratio', tags: {}, abortOnFail: false },
    { metric: 'requests{name:/never}', expression: 'count>0', ok: true, observed: null, unit: 'count', tags: { name: '/never' }, abortOnFail: false },
  ];
  base.snapshot.checks = [
    { name: 'status is 200', request: '/items/[id]', passes: 370, fails: 10 },
    { name: 'status is 200', request: '/', passes: 600, fails: 0 },
    { name: 'has an id', request: '/items/[id]', passes: 379, fails: 1, lastError: "TypeError: Cannot read properties of null (reading 'id')" },
  ];
  return base;
}

/** gatedReportData with every user-controlled threshold and check string an injection attempt. */
export function hostileGatedReportData(): ReportData {
  const base = gatedReportData();
  base.thresholds = base.thresholds!.map((t) => ({ ...t, metric: `response_time{name:${HOSTILE}}`, tags: { name: HOSTILE } }));
  base.snapshot.checks = base.snapshot.checks!.map((c) => ({ ...c, name: HOSTILE, request: HOSTILE, ...(c.lastError !== undefined ? { lastError: HOSTILE } : {}) }));
  return base;
}
