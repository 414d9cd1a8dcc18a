import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { between, constant, constantPacing, constantThroughput } from './wait-time.ts';

describe('wait times', () => {
  it('between stays within its bounds and spreads over them', () => {
    const w = between(0.5, 2);
    const samples = Array.from({ length: 5000 }, () => w({}, 0, 0));
    assert.ok(samples.every((s) => s >= 0.5 && s <= 2));
    assert.ok(Math.min(...samples) < 0.6 && Math.max(...samples) > 1.9);
  });

  it('constant always returns its value', () => {
    assert.equal(constant(1.5)({}, 0, 10_000), 1.5);
  });

  it('constantPacing subtracts the task run time and never goes negative', () => {
    const w = constantPacing(2);
    assert.equal(w({}, 1000, 1500), 1.5);
    assert.equal(w({}, 1000, 4000), 0);
  });

  it('constantThroughput paces at one over the rate', () => {
    assert.equal(constantThroughput(4)({}, 0, 100), 0.15);
  });

  it('rejects negative, reversed and non-finite arguments', () => {
    assert.throws(() => between(2, 1), /max must be ≥ min/);
    assert.throws(() => constant(-1), /≥ 0/);
    assert.throws(() => constantThroughput(0), /rate > 0/);
    assert.throws(() => constantPacing(Number.NaN), /finite/);
  });
});
