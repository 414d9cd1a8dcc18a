// Tests of the log-linear histogram: accuracy against exact percentiles, exact merging, no allocation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GCProfiler } from 'node:v8';
import {
  BUCKET_COUNT, Histogram, bucketIndex, bucketLowerBound, bucketUpperBound, bucketValue, percentilesOfData, rankFor,
} from './histogram.ts';
import { PERCENTILES_TO_REPORT } from './types.ts';
import { prng } from './prng.test-helper.ts';

function normal(rand: () => number): number {
  // Box–Muller; 1 - rand() avoids log(0).
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const distributions: Record<string, (rand: () => number) => number> = {
  'uniform 0–2000 ms': (r) => r() * 2000,
  'log-normal with a long tail': (r) => Math.exp(Math.log(40) + 1.6 * normal(r)),
  constant: () => 123.4567,
  'sub-millisecond': (r) => r() * 0.999,
  'wide range 1 µs – 1 h': (r) => 0.001 * Math.pow(3.6e9, r()),
};

/** Bytes allocated on the JS heap while `fn` runs: the heap's growth between collections, summed. */
function allocatedDuring(fn: () => void): number {
  const profiler = new GCProfiler();
  profiler.start();
  const before = process.memoryUsage().heapUsed;
  fn();
  const after = process.memoryUsage().heapUsed;
  let allocated = 0;
  let used = before;
  for (const gc of profiler.stop()?.statistics ?? []) {
    allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - used);
    used = gc.afterGC.heapStatistics.usedHeapSize;
  }
  return allocated + Math.max(0, after - used);
}

const quantiles = [...PERCENTILES_TO_REPORT, 0, 0.001, 0.01, 0.1, 0.25, 0.333, 0.42, 0.6, 0.7, 0.85, 0.97, 0.995, 0.9995];

function assertAccurate(reported: number, exact: number, label: string): void {
  if (exact >= 1) {
    const rel = Math.abs(reported - exact) / exact;
    assert.ok(rel <= 0.001, `${label}: reported ${reported} vs exact ${exact} (relative error ${rel})`);
  } else {
    const abs = Math.abs(reported - exact);
    assert.ok(abs <= 0.001 + 1e-12, `${label}: reported ${reported} vs exact ${exact} (absolute error ${abs} ms)`);
  }
}

describe('Histogram', () => {
  for (const [name, draw] of Object.entries(distributions)) {
    it(`reports every percentile of a ${name} sample within 0.1 % (1 µs below 1 ms)`, () => {
      const rand = prng(0xc1cada ^ name.length);
      const samples = Array.from({ length: 50_000 }, () => draw(rand));
      const h = new Histogram();
      for (const s of samples) h.record(s);
      assert.equal(h.count, samples.length);
      const sorted = [...samples].sort((a, b) => a - b);
      const reported = h.valuesAtPercentiles(quantiles);
      quantiles.forEach((p, i) => {
        const exact = sorted[rankFor(p, sorted.length) - 1]!;
        assertAccurate(reported[i]!, exact, `${name} p${p}`);
        assert.equal(h.valueAtPercentile(p), reported[i]);
      });
    });
  }

  it('keeps every single value within 0.1 % across the whole range', () => {
    const rand = prng(7);
    for (let i = 0; i < 200_000; i++) {
      const ms = 0.001 * Math.pow(3.6e9, rand());
      assertAccurate(bucketValue(bucketIndex(ms)), ms, `value ${ms}`);
    }
  });

  it('numbers buckets contiguously with representative values inside their bounds', () => {
    for (let i = 1; i < BUCKET_COUNT; i++) {
      assert.equal(bucketLowerBound(i), bucketUpperBound(i - 1), `bucket ${i} starts where ${i - 1} ends`);
      assert.ok(bucketValue(i) >= bucketLowerBound(i) && bucketValue(i) < bucketUpperBound(i));
    }
    assert.equal(bucketIndex(0), 0);
    assert.equal(bucketIndex(-5), 0);
    assert.equal(bucketIndex(Number.NaN), 0);
    assert.equal(bucketIndex(1e12), BUCKET_COUNT - 1);
    assert.equal(bucketIndex(3_600_000), bucketIndex(3_600_000.0004), 'one hour is inside the range');
    assert.ok(bucketIndex(3_600_000) < BUCKET_COUNT - 1);
  });

  it('reports the highest bucket for p = 1 and the lowest for p = 0', () => {
    const h = new Histogram();
    h.record(5);
    h.recordCount(900, 10);
    h.record(70_000);
    assertAccurate(h.valueAtPercentile(1), 70_000, 'max');
    assertAccurate(h.valueAtPercentile(0), 5, 'min');
    assert.equal(new Histogram().valueAtPercentile(0.5), 0);
    assert.deepEqual(new Histogram().valuesAtPercentiles([0.5, 1]), [null, null]);
  });

  it('merges two histograms exactly, bucket for bucket', () => {
    const rand = prng(42);
    const a = new Histogram();
    const b = new Histogram();
    const both = new Histogram();
    for (let i = 0; i < 30_000; i++) {
      const x = distributions['log-normal with a long tail']!(rand);
      const y = distributions['sub-millisecond']!(rand) + (i % 3 === 0 ? 5000 : 0);
      a.record(x);
      b.record(y);
      both.record(x);
      both.record(y);
    }
    a.merge(b);
    assert.deepEqual(a.toData(), both.toData());
    assert.equal(a.count, both.count);
  });

  it('round-trips through sparse data and merges from it', () => {
    const h = new Histogram();
    h.recordCount(1.5, 3);
    h.record(250);
    const data = h.toData();
    assert.deepEqual(data.counts, [3, 1]);
    assert.deepEqual(Histogram.fromData(data).toData(), data);
    const g = new Histogram();
    g.record(250);
    g.addData(data);
    assert.equal(g.countAt(bucketIndex(250)), 2);
    assert.equal(g.count, 5);
    assert.deepEqual(percentilesOfData(data, [0.5, 1]), [bucketValue(bucketIndex(1.5)), bucketValue(bucketIndex(250))]);
  });

  it('rejects malformed sparse data', () => {
    const h = new Histogram();
    assert.throws(() => h.addData({ indices: [1, 2], counts: [1] }), { code: 'CICADA_ERR_STATS_BAD_HISTOGRAM' });
    assert.throws(() => h.addData({ indices: [BUCKET_COUNT], counts: [1] }), { code: 'CICADA_ERR_STATS_BAD_HISTOGRAM' });
    assert.throws(() => h.addData({ indices: [3], counts: [-1] }), { code: 'CICADA_ERR_STATS_BAD_HISTOGRAM' });
    assert.equal(h.count, 0);
  });

  it('subtracts to give the samples recorded since an earlier copy', () => {
    const earlier = new Histogram();
    const h = new Histogram();
    for (const v of [1, 2, 3]) h.record(v);
    earlier.copyFrom(h);
    for (const v of [3, 40, 40]) h.record(v);
    const delta = h.deltaSince(earlier);
    assert.deepEqual(delta.indices, [bucketIndex(3), bucketIndex(40)]);
    assert.deepEqual(delta.counts, [1, 2]);
    const copy = new Histogram();
    copy.copyFrom(h);
    copy.subtract(earlier);
    assert.deepEqual(copy.toData(), delta);
    copy.subtractData(delta);
    assert.equal(copy.count, 0);
    assert.throws(() => copy.subtractData(delta), { code: 'CICADA_ERR_STATS_NEGATIVE_COUNT' });
    assert.throws(() => earlier.subtract(h), { code: 'CICADA_ERR_STATS_NEGATIVE_COUNT' });
    assert.equal(earlier.count, 3, 'a refused subtraction changes nothing');
  });

  it('clears on reset and records again', () => {
    const h = new Histogram();
    h.record(10);
    h.reset();
    assert.equal(h.count, 0);
    assert.deepEqual(h.toData(), { indices: [], counts: [] });
    h.record(20);
    assertAccurate(h.valueAtPercentile(0.5), 20, 'after reset');
  });

  it('stays within a few tens of KiB for a typical 1 ms – 2 s workload', () => {
    const h = new Histogram();
    const rand = prng(3);
    for (let i = 0; i < 10_000; i++) h.record(1 + rand() * 1999);
    assert.ok(h.byteSize <= 64 * 1024, `${h.byteSize} bytes`);
  });

  it('records a million values without allocating', () => {
    const rand = prng(9);
    const values = new Float64Array(1024);
    for (let i = 0; i < values.length; i++) values[i] = 0.001 * Math.pow(3.6e9, rand());
    const h = new Histogram();
    // One function for warm-up and measurement, so the measured loop is already optimised (an
    // interpreted loop boxes each double it passes) and every page this workload touches exists.
    const recordAll = (n: number): void => {
      for (let i = 0; i < n; i++) h.record(values[i & 1023]!);
    };
    for (let round = 0; round < 20; round++) recordAll(100_000);
    const allocated = allocatedDuring(() => recordAll(1_000_000));
    // One small object per record would be over 16 MB.
    assert.ok(allocated < 1024 * 1024, `about ${allocated} bytes allocated`);
    assert.equal(h.count, 3_000_000);
  });

  it('has an allocation probe that does notice per-call allocation', () => {
    const kept: { ms: number }[] = [{ ms: 0 }];
    const allocated = allocatedDuring(() => {
      for (let i = 0; i < 1_000_000; i++) kept[0] = { ms: i * 0.5 };
    });
    assert.ok(allocated > 8 * 1024 * 1024, `about ${allocated} bytes allocated`);
  });
});
