// The per-name login throttle on a fake clock: free failures, doubling waits, the cap, bursts, forgetting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle } from './login-throttle.ts';

describe('LoginThrottle', () => {
  const backoff = { freeFailures: 3, baseMs: 1000, maxMs: 4000 };

  it('lets three failures through, then waits 1 s, 2 s, 4 s and no more than the cap', () => {
    let now = 0;
    const throttle = new LoginThrottle(backoff, () => now);
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      assert.equal(throttle.attempt('ann'), 0, `attempt ${i + 1} is let through once its wait is over`);
      waits.push(throttle.wait('ann'));
      if (waits.at(-1)! > 0) assert.equal(throttle.attempt('ann'), waits.at(-1), 'an attempt during the wait is refused (and not counted)');
      now += waits.at(-1)!;
    }
    assert.deepEqual(waits, [0, 0, 0, 1000, 2000, 4000, 4000]);
  });

  it('counts an attempt before its password is checked, so a parallel burst gets no more than the free tries and one', () => {
    const throttle = new LoginThrottle(backoff, () => 0);
    const letThrough = Array.from({ length: 50 }, () => throttle.attempt('ann')).filter((w) => w === 0).length;
    assert.equal(letThrough, 4);
  });

  it('starts a name afresh after a success, and after 15 minutes without a failure', () => {
    let now = 0;
    const throttle = new LoginThrottle(backoff, () => now);
    for (let i = 0; i < 4; i++) throttle.attempt('ann');
    assert.ok(throttle.attempt('ann') > 0);
    throttle.succeeded('ann');
    assert.equal(throttle.attempt('ann'), 0);
    for (let i = 0; i < 4; i++) throttle.attempt('bob');
    now += 15 * 60_000 + 1;
    assert.equal(throttle.attempt('bob'), 0);
    assert.equal(throttle.failures('bob'), 1);
  });

  it('keeps names apart', () => {
    const throttle = new LoginThrottle(backoff, () => 0);
    for (let i = 0; i < 4; i++) throttle.attempt('ann');
    assert.ok(throttle.wait('ann') > 0);
    assert.equal(throttle.attempt('bob'), 0);
  });
});
