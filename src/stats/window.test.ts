// Tests of HistogramWindow: current-window percentiles follow the last N ticks only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, bucketIndex, bucketValue } from './histogram.ts';
import { HistogramWindow } from './window.ts';

const at = (ms: number): number => bucketValue(bucketIndex(ms));

describe('HistogramWindow', () => {
  it('holds only what the cumulative histogram gained over the last N ticks', () => {
    const h = new Histogram();
    const w = new HistogramWindow(3);
    h.recordCount(1000, 100); // an early slow period
    w.tick(h);
    assert.equal(w.count, 100);
    for (let t = 0; t < 3; t++) {
      h.recordCount(10, 5);
      w.tick(h);
    }
    assert.equal(w.count, 15, 'the slow second has left the window');
    assert.deepEqual(w.valuesAtPercentiles([0.5, 1]), [at(10), at(10)]);
    assert.equal(h.valueAtPercentile(0.5), at(1000), 'the cumulative median is still slow');
  });

  it('empties when nothing new arrives for a whole window', () => {
    const h = new Histogram();
    const w = new HistogramWindow(2);
    h.record(5);
    w.tick(h);
    w.tick(h);
    w.tick(h);
    assert.equal(w.count, 0);
    assert.deepEqual(w.valuesAtPercentiles([0.5]), [null]);
  });

  it('starts over when the followed histogram is reset', () => {
    const h = new Histogram();
    const w = new HistogramWindow(5);
    h.recordCount(50, 10);
    w.tick(h);
    h.reset();
    h.recordCount(7, 2);
    w.tick(h);
    assert.equal(w.count, 2);
    h.reset();
    h.recordCount(3, 20); // refilled past the old count between two ticks
    w.tick(h);
    assert.equal(w.count, 20);
    assert.deepEqual(w.valuesAtPercentiles([1]), [at(3)]);
  });
});
