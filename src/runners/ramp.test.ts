import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rampPosition, rampStepMs } from './ramp.ts';

describe('the ramp', () => {
  it('starts one user at once and then adds rate users per second', () => {
    const ramp = { from: 0, to: 1000, rate: 100, startedAt: 0 };
    assert.equal(rampPosition(ramp, 0), 1);
    assert.equal(rampPosition(ramp, 1000), 101);
    assert.equal(rampPosition(ramp, 9990), 1000, '1000 users at 100/s are all there after ~10 s');
    assert.equal(rampPosition(ramp, 60_000), 1000, 'never past the target');
  });
  it('ramps down at the same rate and never below the target', () => {
    const ramp = { from: 50, to: 10, rate: 10, startedAt: 1000 };
    assert.equal(rampPosition(ramp, 1000), 49);
    assert.equal(rampPosition(ramp, 3000), 29);
    assert.equal(rampPosition(ramp, 100_000), 10);
  });
  it('steps once per user at slow rates, every 10 ms at most, once a second at least', () => {
    assert.equal(rampStepMs(0.5), 1000);
    assert.equal(rampStepMs(4), 250);
    assert.equal(rampStepMs(10_000), 10);
  });
});
