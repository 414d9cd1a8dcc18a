// The response-time view corrected for coordinated omission (HdrHistogram's expected-interval method), per entry and merged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatsEntry } from './entry.ts';
import { ClusterStats } from './cluster-stats.ts';
import { percentilesOfData } from './histogram.ts';
import { RequestStats } from './request-stats.ts';
import { Events } from '../core/events.ts';
import { entryView } from './view.ts';

const T0 = 1_700_000_000;

/** Sum of a histogram's counts. */
function samples(data: { counts: number[] } | undefined): number {
  return (data?.counts ?? []).reduce((a, b) => a + b, 0);
}

describe('the corrected response-time view', () => {
  it('adds the samples a stall hid: a 1000 ms response of a user paced at 100 ms counts as 1000, 900, … 100', () => {
    const e = new StatsEntry('GET', '/a');
    e.log(1000, 0, T0, 100);
    const s = e.toSnapshot();
    assert.equal(samples(s.histogram), 1, 'the raw view is untouched');
    assert.equal(samples(s.correctedHistogram), 10);
    const [p50] = percentilesOfData(s.correctedHistogram!, [0.5]);
    assert.ok(p50! > 400 && p50! < 600, `median of 100…1000 is about 500, got ${p50}`);
  });

  it('changes nothing for responses within the interval, and keeps earlier unpaced samples', () => {
    const e = new StatsEntry('GET', '/a');
    e.log(5, 0, T0); // an unpaced user first: no corrected view yet
    assert.equal(e.toSnapshot().correctedHistogram, undefined);
    e.log(50, 0, T0, 100);
    e.log(7, 0, T0); // unpaced again: counted as it is
    const s = e.toSnapshot();
    assert.equal(samples(s.correctedHistogram), 3);
    assert.deepEqual(s.correctedHistogram, s.histogram);
  });

  it('reaches the JSON views as correctedPercentiles, with p100 at the max', () => {
    const e = new StatsEntry('GET', '/a');
    for (let i = 0; i < 99; i++) e.log(10, 0, T0, 100);
    e.log(2000, 0, T0, 100);
    const view = entryView(e.toSnapshot(), T0 * 1000);
    const raw99 = view.percentiles[7]!;
    const corrected99 = view.correctedPercentiles![7]!;
    assert.ok(raw99 <= 10.1, `raw p99 hides the stall: ${raw99}`);
    assert.ok(corrected99 > 1000, `corrected p99 shows it: ${corrected99}`);
    assert.ok(Math.abs(view.correctedPercentiles![10]! - 2000) <= 2, `p100 is the max within 0.1 %: ${view.correctedPercentiles![10]}`);
  });

  it('merges exactly on the master, and a newer report replaces the older one', () => {
    const worker = (ms: number): RequestStats => {
      const events = new Events();
      const stats = new RequestStats();
      stats.attach(events);
      events.request.fire({ requestType: 'GET', name: '/a', responseTime: ms, responseLength: 0, error: null, startTime: Date.now(), expectedIntervalMs: 100 });
      return stats;
    };
    const cluster = new ClusterStats();
    cluster.update('w1', 0, 1, worker(300).snapshot(0));
    cluster.update('w2', 0, 1, worker(500).snapshot(0));
    assert.equal(samples(cluster.snapshot(0).total.correctedHistogram), 3 + 5);
    cluster.update('w1', 0, 2, worker(200).snapshot(0));
    assert.equal(samples(cluster.snapshot(0).total.correctedHistogram), 2 + 5);
    assert.equal(cluster.snapshot(0).total.numRequests, 2);
  });
});
