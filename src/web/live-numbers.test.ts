import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HistogramData, ScenarioSnapshot } from '../stats/types.ts';
import { ArrivalRateMeter } from './live-numbers.ts';

const EMPTY = {} as HistogramData;
function snap(time: number, iterations: number, dropped = 0, startTime = 1): { time: number; startTime: number; scenarios: ScenarioSnapshot[] } {
  return { time, startTime, scenarios: [{ name: 'default', iterations, failedIterations: 0, dropped, interrupted: 0, duration: EMPTY, lateness: EMPTY }] };
}

describe('ArrivalRateMeter', () => {
  it('is unknown without iteration scenarios, and from one sample', () => {
    const meter = new ArrivalRateMeter(5000);
    assert.equal(meter.observe({ time: 0, startTime: 1, scenarios: [] }, true), null);
    assert.equal(meter.observe(snap(1000, 10), true), null);
    assert.equal(meter.observe(snap(1500, 15), true), null, 'half a second is too short to say');
  });

  it('counts iterations run plus dropped per second over the window', () => {
    const meter = new ArrivalRateMeter(5000);
    meter.observe(snap(0, 0), true);
    assert.equal(meter.observe(snap(2000, 20, 10), true), 15);
    // Then 10 iterations a second, and a burst of 50 in the last second.
    for (let t = 3000; t <= 10_000; t += 1000) meter.observe(snap(t, 20 + (t - 2000) / 100, 10), true);
    // Samples older than the window are let go: the rate is that of the last 5 s (from 6 s: 70 started), not since the start.
    assert.equal(meter.observe(snap(11_000, 20 + 90 + 50, 10), true), (170 - 70) / 5);
  });

  it('starts over on a new run or a reset, and says 0 once the run has stopped', () => {
    const meter = new ArrivalRateMeter(5000);
    meter.observe(snap(0, 0), true);
    meter.observe(snap(2000, 40), true);
    assert.equal(meter.observe(snap(3000, 5, 0, 2), true), null, 'a new start time forgets the old counts');
    assert.equal(meter.observe(snap(4000, 15, 0, 2), true), 10);
    assert.equal(meter.observe(snap(5000, 15, 0, 2), false), 0);
  });

  it('ignores a snapshot that is not newer than the last one', () => {
    const meter = new ArrivalRateMeter(5000);
    meter.observe(snap(0, 0), true);
    assert.equal(meter.observe(snap(2000, 20), true), 10);
    assert.equal(meter.observe(snap(2000, 20), true), 10);
  });
});
