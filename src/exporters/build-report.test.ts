import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunnerControl } from '../core/contracts.ts';
import type { RunnerState } from '../core/runner-state.ts';
import { RequestStats } from '../stats/request-stats.ts';
import type { StatsSnapshot } from '../stats/types.ts';
import { buildReportData } from './build-report.ts';

/** Statistics with 10 requests a second for the last 10 seconds, seen by a runner in `state`. */
function runnerIn(state: RunnerState): RunnerControl<StatsSnapshot> {
  let now = 1_700_000_000_000;
  const stats = new RequestStats({ now: () => now });
  stats.reset();
  for (let s = 0; s < 10; s++) {
    for (let i = 0; i < 10; i++) stats.log('GET', '/', 5, 10, now + s * 1000 + i);
  }
  now += 12_000;
  return { state, snapshot: () => stats.snapshot(0), userCount: 0, targetUserCount: 0, userClassCounts: () => ({}) } as unknown as RunnerControl<StatsSnapshot>;
}

const context = { host: '', cicadafiles: [], startTime: 1_700_000_000_000, cicadaVersion: 'test' };

describe('buildReportData', () => {
  it('reports the current rate while the run goes, and 0 once it stopped (regression: a decaying rate after a stop)', () => {
    const running = buildReportData(runnerIn('running'), context);
    assert.ok(running.total.currentRps > 0, `running: ${running.total.currentRps}`);
    for (const state of ['stopped', 'ready'] as const) {
      const data = buildReportData(runnerIn(state), context);
      assert.equal(data.total.currentRps, 0, state);
      assert.equal(data.total.currentFailPerSec, 0, state);
      assert.deepEqual(data.entries.map((e) => e.currentRps), [0], state);
      assert.equal(data.total.numRequests, 100, 'the totals stay');
      assert.ok(data.total.totalRps > 0, 'the run\'s average rate stays');
    }
  });
});
