// Per-scenario iteration statistics: what one process records, and the master's exact merge of several.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IterationEvent } from '../core/events.ts';
import { mergeScenarios, scenarioPercentiles, ScenarioStats } from './scenario-stats.ts';

const ran = (scenario: string, durationMs: number, extra: Partial<IterationEvent> = {}): IterationEvent => ({ scenario, dropped: false, ok: true, interrupted: false, lateMs: 1, durationMs, ...extra });

describe('scenario statistics', () => {
  it('counts iterations, failed, dropped, interrupted and not run per scenario, with duration and lateness histograms', () => {
    const stats = new ScenarioStats();
    for (let i = 1; i <= 100; i++) stats.record(ran('a', i));
    stats.record(ran('a', 500, { ok: false }));
    stats.record(ran('a', 0, { dropped: true }));
    stats.record(ran('a', 900, { interrupted: true }));
    stats.record(ran('b', 10));
    stats.record(ran('b', 0, { notRun: 40 }));
    const [a, b] = stats.snapshot();
    assert.deepEqual({ ...a, duration: undefined, lateness: undefined }, { name: 'a', iterations: 102, failedIterations: 1, dropped: 1, interrupted: 1, duration: undefined, lateness: undefined });
    assert.equal(b?.iterations, 1);
    assert.equal(b?.notRun, 40);
    const p50 = scenarioPercentiles(a!.duration)[0]!;
    assert.ok(Math.abs(p50 - 51) <= 1, `median of 1…100, 500, 900: ${p50}`);
  });

  it("merges workers' scenarios exactly, by name", () => {
    const one = new ScenarioStats();
    const two = new ScenarioStats();
    for (let i = 0; i < 30; i++) one.record(ran('a', 10));
    for (let i = 0; i < 12; i++) two.record(ran('a', 1000));
    two.record(ran('a', 0, { dropped: true }));
    two.record(ran('c', 5));
    const merged = mergeScenarios([one.snapshot(), two.snapshot()]);
    const a = merged.find((s) => s.name === 'a')!;
    assert.equal(a.iterations, 42);
    assert.equal(a.dropped, 1);
    assert.equal(a.duration.counts.reduce((x, y) => x + y, 0), 42);
    assert.ok(scenarioPercentiles(a.duration)[7]! >= 999, 'p99 comes from the second worker');
    assert.equal(merged.find((s) => s.name === 'c')?.iterations, 1);
  });

  it('forgets everything on reset', () => {
    const stats = new ScenarioStats();
    stats.record(ran('a', 1));
    stats.reset();
    assert.deepEqual(stats.snapshot(), []);
  });
});
