// Tests of the SVG line charts: downsampling, gaps, escaping and axis steps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { downsample, downsampleRanges, lineChart, niceStep } from './svg-chart.ts';

describe('downsample', () => {
  it('keeps at most maxPoints points and covers every input point once', () => {
    const ranges = downsampleRanges(5000, 1000);
    assert.ok(ranges.length <= 1000);
    assert.equal(ranges[0]?.[0], 0);
    assert.equal(ranges.at(-1)?.[1], 5000);
    ranges.slice(1).forEach((r, i) => assert.equal(r[0], ranges[i]?.[1]));
  });

  it('averages rates but keeps latency spikes with max', () => {
    const { times, series } = downsample({
      title: 't', unit: 'ms', times: [0, 1, 2, 3], maxPoints: 2,
      series: [
        { label: 'rps', color: '#000', values: [1, 3, 5, 7] },
        { label: 'p95', color: '#000', values: [10, 90, null, 20], reduce: 'max' },
      ],
    });
    assert.deepEqual(times, [0, 2]);
    assert.deepEqual(series[0]?.values, [2, 6]);
    assert.deepEqual(series[1]?.values, [90, 20]);
  });
});

describe('lineChart', () => {
  it('draws no more than 1000 points per series for long histories', () => {
    const n = 7200;
    const svg = lineChart({ title: 'rps', unit: 'req/s', times: Array.from({ length: n }, (_, i) => i), series: [{ label: 'RPS', color: '#0a0', values: Array.from({ length: n }, (_, i) => i % 50) }] });
    const d = /<path d="([^"]*)"/.exec(svg)?.[1] ?? '';
    const points = d.split(/[ML]/).filter((p) => p.trim() !== '').length;
    assert.ok(points > 0 && points <= 1000, `${points} points`);
  });

  it('breaks the line at missing values', () => {
    const svg = lineChart({ title: 'p', unit: 'ms', times: [0, 1, 2, 3, 4], series: [{ label: 'p50', color: '#00f', values: [1, 2, null, 3, 4] }] });
    const d = /<path d="([^"]*)"/.exec(svg)?.[1] ?? '';
    assert.equal(d.split('M').length - 1, 2);
  });

  it('escapes titles and labels, including inside <title>', () => {
    const svg = lineChart({ title: '<b>"x"</b>', unit: '&', times: [0, 1], series: [{ label: "<i>'", color: '#000', values: [1, 2] }] });
    assert.ok(svg.includes('<title>&lt;b&gt;&quot;x&quot;&lt;/b&gt;</title>'));
    assert.ok(svg.includes('<title>&lt;i&gt;&#39;</title>'));
    assert.ok(!svg.includes('<b>') && !svg.includes('<i>'));
  });

  it('says so instead of failing when there is no history', () => {
    assert.match(lineChart({ title: 'u', unit: 'users', times: [], series: [{ label: 'Users', color: '#000', values: [] }] }), /no data yet/);
  });
});

describe('niceStep', () => {
  it('rounds axis steps up to 1, 2, 2.5 or 5 times a power of ten', () => {
    assert.deepEqual([0.3, 7, 12, 24, 260, 0].map(niceStep), [0.5, 10, 20, 25, 500, 1]);
  });
});
