// Pure tests of the executors' plan() and of parseScenario's messages: no timers, no users.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../core/errors.ts';
import { shareOf, WHOLE, type ScenarioCommon, type Segment } from '../../core/executor.ts';
import { firstItem, rampedArrivalTime, type ArrivalPlan } from './arrivals.ts';
import { constantArrivalRateExecutor, type ConstantArrivalRateConfig } from './constant-arrival-rate.ts';
import { parseScenario } from './index.ts';
import { type IterationsPlan } from './iterations.ts';
import { perUserIterationsExecutor, type PerUserIterationsConfig } from './per-user-iterations.ts';
import { rampingArrivalRateExecutor, type RampingArrivalRateConfig } from './ramping-arrival-rate.ts';
import { sharedIterationsExecutor, type SharedIterationsConfig } from './shared-iterations.ts';

const defaults = { stopTimeoutMs: 0 };

function segments(count: number): Segment[] {
  return Array.from({ length: count }, (_, index) => ({ index, count }));
}

/** The global items a segment of an arrival plan runs, in order (as runArrivals walks them, without fromItem/untilItem). */
function itemsOf(plan: ArrivalPlan, limit = 1_000_000): number[] {
  const out: number[] = [];
  for (let i = firstItem(plan.segment); plan.timeOf(i) !== undefined; i += plan.segment.count) {
    out.push(i);
    if (out.length > limit) throw new Error('the plan never ends');
  }
  return out;
}

/** Parses `raw`, expecting a UsageError; returns it. */
function refused(raw: Record<string, unknown>, name = 'test'): UsageError {
  let caught: unknown;
  try {
    parseScenario(name, raw, 'cicadafile', defaults);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof UsageError, `expected a UsageError for ${JSON.stringify(raw)}, got ${String(caught)}`);
  return caught;
}

describe('shareOf', () => {
  it('splits every total 0..50 over 1..7 segments exactly, the shares differing by at most 1', () => {
    for (let count = 1; count <= 7; count++) {
      for (let total = 0; total <= 50; total++) {
        const shares = segments(count).map((s) => shareOf(total, s));
        const sum = shares.reduce((a, b) => a + b, 0);
        assert.equal(sum, total, `total ${total} over ${count}: shares ${shares.join(',')}`);
        assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, `total ${total} over ${count}: shares ${shares.join(',')}`);
        assert.ok(shares.every((n) => Number.isInteger(n) && n >= 0));
      }
    }
  });

  it('matches the striped items: share index of count is the number of i < total with i % count === index', () => {
    for (let count = 1; count <= 7; count++) {
      for (let total = 0; total <= 50; total++) {
        for (const s of segments(count)) {
          let n = 0;
          for (let i = 0; i < total; i++) if (i % count === s.index) n++;
          assert.equal(shareOf(total, s), n, `total ${total}, segment ${s.index}/${count}`);
        }
      }
    }
  });

  it('gives the whole to WHOLE', () => {
    for (const total of [0, 1, 7, 1000]) assert.equal(shareOf(total, WHOLE), total);
  });
});

describe('firstItem', () => {
  it('is the first item at or after `from` of the segment', () => {
    for (let count = 1; count <= 5; count++) {
      for (const s of segments(count)) {
        for (let from = 0; from < 20; from++) {
          const first = firstItem(s, from);
          assert.ok(first >= from && first % count === s.index && first - from < count, `segment ${s.index}/${count} from ${from}: ${first}`);
        }
      }
    }
  });
});

describe('constant-arrival-rate plan', () => {
  const config = parseScenario('open', { executor: 'constant-arrival-rate', rate: 1000, duration: '3s' }, 'test', defaults) as ConstantArrivalRateConfig;

  it('parses with 1 s time unit and pool defaults that follow the rate', () => {
    assert.equal(config.executor, 'constant-arrival-rate');
    assert.equal(config.rate, 1000);
    assert.equal(config.durationMs, 3000);
    assert.equal(config.timeUnitMs, 1000);
    assert.ok(config.maxUsers >= config.preAllocatedUsers);
    assert.equal(config.preAllocatedUsers, 1000, 'the rate per second');
    assert.equal(config.maxUsers, 10_000, '10 × the rate per second');
  });

  it('a maxUsers below the rate caps the default pre-allocation instead of being refused (regression: --arrival-rate 5000 --max-users 2000 was refused)', () => {
    const capped = parseScenario('open', { executor: 'constant-arrival-rate', rate: 5000, duration: '3s', maxUsers: 2000 }, 'test', defaults) as ConstantArrivalRateConfig;
    assert.equal(capped.maxUsers, 2000);
    assert.equal(capped.preAllocatedUsers, 2000);
    const slow = parseScenario('open', { executor: 'constant-arrival-rate', rate: 30, timeUnit: '1m', duration: '3s' }, 'test', defaults) as ConstantArrivalRateConfig;
    assert.deepEqual([slow.preAllocatedUsers, slow.maxUsers], [1, 5], 'half an iteration a second: one user, at most 5');
  });

  it('over 3 segments runs each of the arrivals 0..2999 exactly once, arrival i due at i ms', () => {
    const seen = new Map<number, number>();
    for (const segment of segments(3)) {
      const plan = constantArrivalRateExecutor.plan(config, segment);
      assert.equal(plan.endMs, 3000);
      for (const i of itemsOf(plan)) {
        assert.equal(i % 3, segment.index);
        seen.set(i, (seen.get(i) ?? 0) + 1);
        assert.equal(plan.timeOf(i), i, `arrival ${i} is due at ${i} ms`);
      }
    }
    assert.equal(seen.size, 3000);
    for (let i = 0; i < 3000; i++) assert.equal(seen.get(i), 1, `arrival ${i} runs once`);
    assert.ok([...seen.keys()].every((i) => i >= 0 && i < 3000));
  });

  it('ends at the duration: no arrival at or after 3 s', () => {
    const plan = constantArrivalRateExecutor.plan(config, WHOLE);
    assert.equal(plan.timeOf(2999), 2999);
    assert.equal(plan.timeOf(3000), undefined);
    assert.equal(itemsOf(plan).length, 3000);
  });

  it("splits the pool over segments: the preallocated shares sum to the whole, every segment has a user", () => {
    const plans = segments(3).map((s) => constantArrivalRateExecutor.plan(config, s));
    assert.equal(plans.reduce((a, p) => a + p.preAllocatedUsers, 0), config.preAllocatedUsers);
    assert.ok(plans.every((p) => p.maxUsers >= 1 && p.maxUsers >= p.preAllocatedUsers));
  });
});

describe('ramping-arrival-rate plan', () => {
  const config = parseScenario('ramp', { executor: 'ramping-arrival-rate', startRate: 0, stages: [{ duration: '10s', target: 100 }] }, 'test', defaults) as RampingArrivalRateConfig;
  const plan = rampingArrivalRateExecutor.plan(config, WHOLE);
  const times = itemsOf(plan).map((i) => plan.timeOf(i)!);

  it('parses the stages (1 s time unit)', () => {
    assert.equal(config.startRate, 0);
    assert.deepEqual(config.stages, [{ durationMs: 10_000, target: 100 }]);
    assert.equal(config.timeUnitMs, 1000);
    assert.equal(plan.endMs, 10_000);
  });

  it('has as many arrivals as the integral of the rate: 0 → 100/s over 10 s is 500', () => {
    assert.equal(times.length, 500);
  });

  it('has increasing times, all within the stages', () => {
    assert.equal(times[0], 0);
    for (let k = 1; k < times.length; k++) assert.ok(times[k]! > times[k - 1]!, `arrival ${k} (${times[k]}) after arrival ${k - 1} (${times[k - 1]})`);
    assert.ok(times.every((t) => t >= 0 && t < 10_000));
  });

  it('has 125 arrivals (±1) before 5 s: the integral of the first half', () => {
    const before = times.filter((t) => t < 5000).length;
    assert.ok(Math.abs(before - 125) <= 1, `arrivals before 5 s: ${before}`);
  });

  it('follows the rate: arrival i at sqrt(2 i / slope), the slope 100/s per 10 s', () => {
    // rate(t) = 10 t per s (t in s) → arrivals by t: 5 t² → arrival i at sqrt(i / 5) s.
    for (const i of [1, 10, 100, 125, 250, 499]) {
      const expected = Math.sqrt(i / 5) * 1000;
      assert.ok(Math.abs(plan.timeOf(i)! - expected) < 1e-6, `arrival ${i}: ${plan.timeOf(i)} vs ${expected}`);
    }
  });

  it('over 3 segments, together the same 500 arrivals at the same times', () => {
    const all: number[] = [];
    for (const s of segments(3)) {
      const p = rampingArrivalRateExecutor.plan(config, s);
      for (const i of itemsOf(p)) {
        assert.equal(p.timeOf(i), plan.timeOf(i));
        all.push(i);
      }
    }
    assert.deepEqual(all.sort((a, b) => a - b), Array.from({ length: 500 }, (_, i) => i));
  });

  it('rampedArrivalTime keeps a constant stage exact and a stage of rate 0 empty', () => {
    // A constant 1 per ms for 10 ms: arrival i at i ms, none at 10.
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(rampedArrivalTime(1, [{ durationMs: 10, target: 1 }], i)! - i) < 1e-9);
    assert.equal(rampedArrivalTime(1, [{ durationMs: 10, target: 1 }], 10), undefined);
    // 0 → 0: nothing arrives in it; after two such stages (15 ms), a ramp to 1/ms has its first arrival at its start.
    assert.equal(rampedArrivalTime(0, [{ durationMs: 5, target: 0 }], 0), undefined);
    assert.ok(Math.abs(rampedArrivalTime(0, [{ durationMs: 5, target: 0 }, { durationMs: 10, target: 0 }, { durationMs: 10, target: 1 }], 0)! - 15) < 1e-9);
  });
});

describe('iteration-count plans', () => {
  it('shared-iterations: 1000 iterations and 10 users over 3 segments share exactly', () => {
    const config = parseScenario('shared', { executor: 'shared-iterations', iterations: 1000, users: 10 }, 'test', defaults) as SharedIterationsConfig;
    const plans: IterationsPlan[] = segments(3).map((s) => sharedIterationsExecutor.plan(config, s));
    assert.equal(plans.reduce((a, p) => a + p.iterations, 0), 1000);
    assert.equal(plans.reduce((a, p) => a + p.users, 0), 10);
    assert.deepEqual(plans.map((p) => p.iterations), [334, 333, 333]);
    assert.ok(plans.every((p) => p.users >= 1 && p.users <= p.iterations));
    assert.deepEqual(sharedIterationsExecutor.plan(config, WHOLE), { users: 10, iterations: 1000, maxDurationMs: 600_000 });
  });

  it('shared-iterations: a segment with iterations but no user share still gets a user; one with no iterations gets none', () => {
    const config = parseScenario('shared', { executor: 'shared-iterations', iterations: 5, users: 1 }, 'test', defaults) as SharedIterationsConfig;
    const plans = segments(7).map((s) => sharedIterationsExecutor.plan(config, s));
    assert.equal(plans.reduce((a, p) => a + p.iterations, 0), 5);
    assert.deepEqual(plans.map((p) => p.users), [1, 1, 1, 1, 1, 0, 0]);
  });

  it('per-user-iterations: 10 users over 3 segments share exactly, each with the full iteration count', () => {
    const config = parseScenario('each', { executor: 'per-user-iterations', users: 10, iterations: 4 }, 'test', defaults) as PerUserIterationsConfig;
    const plans = segments(3).map((s) => perUserIterationsExecutor.plan(config, s));
    assert.equal(plans.reduce((a, p) => a + p.users, 0), 10);
    assert.deepEqual(plans.map((p) => p.users), [4, 3, 3]);
    assert.ok(plans.every((p) => p.iterations === 4));
  });
});

describe('parseScenario refuses', () => {
  it("an unknown executor, suggesting the near one: 'constant-arival-rate' → 'constant-arrival-rate'", () => {
    const e = refused({ executor: 'constant-arival-rate', rate: 10, duration: '1m' });
    assert.match(e.message, /scenario 'test' \(cicadafile\): unknown executor 'constant-arival-rate'/);
    assert.match(`${e.message} ${e.hint ?? ''}`, /did you mean 'constant-arrival-rate'\?/);
    assert.equal(e.code, 'CICADA_ERR_USAGE');
    assert.equal(e.exitCode, 2);
  });

  it('a field of another executor, naming the executor it belongs to', () => {
    const e = refused({ executor: 'shared-iterations', iterations: 10, rate: 5 });
    assert.match(e.message, /'rate' is not a field of the shared-iterations executor/);
    assert.match(e.message, /it belongs to constant-arrival-rate/);
  });

  it('a field no executor has, without naming an owner', () => {
    const e = refused({ executor: 'shared-iterations', iterations: 10, itrations: 5 });
    assert.match(e.message, /'itrations' is not a field of the shared-iterations executor/);
    assert.doesNotMatch(e.message, /belongs to/);
    assert.match(e.hint ?? '', /did you mean 'iterations'\?/);
  });

  for (const rate of [0, -1]) {
    it(`rate ${rate}`, () => {
      const e = refused({ executor: 'constant-arrival-rate', rate, duration: '1m' });
      assert.match(e.message, new RegExp(`rate must be a number > 0, got ${rate}`));
    });
  }

  it('maxUsers below preAllocatedUsers', () => {
    const e = refused({ executor: 'constant-arrival-rate', rate: 10, duration: '1m', preAllocatedUsers: 5, maxUsers: 2 });
    assert.match(e.message, /maxUsers \(2\) is less than preAllocatedUsers \(5\)/);
  });

  it("a bad duration ('5x')", () => {
    const e = refused({ executor: 'constant-arrival-rate', rate: 10, duration: '5x' });
    assert.match(e.message, /duration/);
    assert.match(e.message, /'5x' is not a time span/);
  });

  it('empty stages', () => {
    for (const executor of ['ramping-arrival-rate', 'ramping-users']) {
      const e = refused({ executor, stages: [] });
      assert.match(e.message, /stages must be a list of \{ duration, target \}/, executor);
    }
  });

  it('accepts what it should: a valid scenario of each executor parses', () => {
    const ok: Record<string, unknown>[] = [
      { executor: 'users', users: 5, spawnRate: 1 },
      { executor: 'ramping-users', stages: [{ duration: '10s', target: 5 }] },
      { executor: 'constant-arrival-rate', rate: 10, duration: '1m' },
      { executor: 'ramping-arrival-rate', stages: [{ duration: '10s', target: 5 }] },
      { executor: 'shared-iterations', iterations: 10 },
      { executor: 'per-user-iterations', users: 2, iterations: 3 },
      { executor: 'shape' },
    ];
    for (const raw of ok) {
      const config: ScenarioCommon = parseScenario('s', raw, 'test', defaults);
      assert.equal(config.executor, raw.executor);
    }
  });
});
