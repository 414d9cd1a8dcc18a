// Tests of the current-rate formula: Locust's 10-second window, and young runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { currentRate } from './rate.ts';

const T0 = 1_700_000_000;

describe('currentRate', () => {
  it('averages the 10 whole seconds ending 2 seconds ago', () => {
    const counts = new Map<number, number>();
    for (let s = 0; s < 60; s++) counts.set(T0 + s, s < 48 ? 10 : 1000); // the last seconds are busier
    const rate = currentRate((s) => counts.get(s) ?? 0, T0, (T0 + 50.5) * 1000);
    // Window [T0+38, T0+48): ten seconds at 10 each; T0+48 and T0+49 are still "filling".
    assert.equal(rate, 10);
  });

  it('does not divide by 10 when the run is only 5 seconds old', () => {
    const rate = currentRate(() => 20, T0, (T0 + 5.5) * 1000);
    // Window [T0, T0+3): three seconds at 20 each.
    assert.equal(rate, 20);
  });

  it('uses everything it has in the first seconds of a run', () => {
    const counts = new Map([[T0, 30], [T0 + 1, 12]]);
    const rate = currentRate((s) => counts.get(s) ?? 0, T0 + 0.5, (T0 + 1.5) * 1000);
    assert.equal(rate, 42 / 1);
    assert.equal(currentRate(() => 5, T0, (T0 + 3) * 1000), 5, 'still five when the window holds one second');
  });

  it('leaves a partial first second out of the window, so a steady load shows no dip after a start', () => {
    const start = T0 + 0.6;
    const counts = new Map<number, number>([[T0, 20]]);
    for (let s = 1; s < 20; s++) counts.set(T0 + s, 50);
    const rates = [3.2, 4.2, 5.2, 6.2, 8.2, 14.2].map((t) => currentRate((s) => counts.get(s) ?? 0, start, (T0 + t) * 1000));
    for (const r of rates.slice(1)) assert.equal(r, 50, `steady 50/s reads 50: ${rates.join(', ')}`);
    assert.ok(rates[0]! > 40, `the young-run estimate is close too (${rates[0]})`);
  });

  it('falls to zero once requests stop and is zero before anything was recorded', () => {
    const counts = new Map([[T0, 100]]);
    assert.equal(currentRate((s) => counts.get(s) ?? 0, T0, (T0 + 30) * 1000), 0);
    assert.equal(currentRate(() => 7, 0, T0 * 1000), 0);
  });
});
