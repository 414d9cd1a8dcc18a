// Tests for the seeded PRNG and latency draws behind the demo target.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRandom, drawLatency } from './random.ts';

describe('createRandom', () => {
  it('repeats its sequence for the same seed', () => {
    const a = createRandom(123);
    const b = createRandom(123);
    const c = createRandom(124);
    const seqA = Array.from({ length: 10 }, () => a.next());
    assert.deepEqual(Array.from({ length: 10 }, () => b.next()), seqA);
    assert.notDeepEqual(Array.from({ length: 10 }, () => c.next()), seqA);
  });

  it('keeps draws inside their ranges, ends of int() included', () => {
    const random = createRandom(1);
    const ints = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = random.next();
      assert.ok(x >= 0 && x < 1);
      ints.add(random.int(1, 3));
      const u = random.uniform(5, 6);
      assert.ok(u >= 5 && u < 6);
    }
    assert.deepEqual([...ints].sort(), [1, 2, 3]);
  });

  it('never fires chance(0) and always fires chance(1)', () => {
    const random = createRandom(9);
    for (let i = 0; i < 1000; i++) {
      assert.equal(random.chance(0), false);
      assert.equal(random.chance(1), true);
    }
  });

  it('rejects pick() from an empty array', () => {
    assert.throws(() => createRandom(1).pick([]), RangeError);
  });
});

describe('drawLatency', () => {
  it('stays in the body range without a tail and reaches the tail with one', () => {
    const random = createRandom(5);
    for (let i = 0; i < 500; i++) {
      const ms = drawLatency(random, { min: 10, max: 30 });
      assert.ok(ms >= 10 && ms < 30);
    }
    const tailed = Array.from({ length: 500 }, () => drawLatency(random, { min: 10, max: 30, tailChance: 0.5, tailMin: 10, tailMax: 10 }));
    assert.ok(tailed.some((ms) => ms >= 100));
  });
});
