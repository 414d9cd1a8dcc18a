// ScenarioRun and ScenarioSet on the fake clock: arrivals, drops, iteration counts and maxDuration, without real sleeping.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { RunnerControl } from '../core/contracts.ts';
import { defaultClientDefaults, type Environment } from '../core/environment.ts';
import type { IterationEvent } from '../core/events.ts';
import { Events } from '../core/events.ts';
import { wait, WHOLE, type ScenarioCommon } from '../core/executor.ts';
import { FakeClock } from '../core/fake-clock.test-helper.ts';
import { silentLogger } from '../core/logger.ts';
import { TaskPlan } from '../core/task-plan.ts';
import { task } from '../core/tasks.ts';
import { User, type UserClass } from '../core/user.ts';
import { parseScenario } from './executors/index.ts';
import { ScenarioRun } from './scenario-run.ts';
import { ScenarioSet } from './scenario-set.ts';

/** What the users of a test did, on the fake clock. */
const log = {
  /** Fake ms each user class's task takes (0: returns at once). */
  taskMs: 0,
  /** Clock time of every task start, in order. */
  starts: [] as number[],
  /** User id of every task start. */
  startedBy: [] as number[],
  /** User id of every onStart call. */
  onStarts: [] as number[],
  clock: undefined as FakeClock | undefined,
};

function reset(clock: FakeClock, taskMs: number): void {
  log.taskMs = taskMs;
  log.starts = [];
  log.startedBy = [];
  log.onStarts = [];
  log.clock = clock;
}

/** One task that takes `log.taskMs` of fake time (a slow target), on the fake clock's timers. */
class Probe extends User {
  override onStart(): void {
    log.onStarts.push(this.id);
  }
  @task async hit() {
    const clock = log.clock!;
    log.starts.push(clock.now());
    log.startedBy.push(this.id);
    if (log.taskMs > 0) await wait(clock, log.taskMs, this.signal);
  }
}

/** A task whose end the test decides: each start adds a release function. */
class Held extends User {
  static releases: (() => void)[] = [];
  @task async hold() {
    log.starts.push(log.clock!.now());
    await new Promise<void>((resolve) => Held.releases.push(resolve));
  }
}

function environment(): Environment {
  return { events: new Events(), host: undefined, logger: silentLogger, clientDefaults: defaultClientDefaults, parsedOptions: {}, runner: undefined };
}

function scenario(raw: Record<string, unknown>, name = 'test'): ScenarioCommon {
  return parseScenario(name, raw, 'test', { stopTimeoutMs: 0 });
}

/** A ScenarioRun of `config` with the given classes, on `clock`; records every iteration event. */
function build(config: ScenarioCommon, clock: FakeClock, classes: Record<string, UserClass> = { Probe }) {
  const env = environment();
  const iterations: IterationEvent[] = [];
  env.events.iteration.addListener((e) => void (e.notRun === undefined && iterations.push(e)));
  const run = new ScenarioRun({
    config,
    environment: env,
    classes: new Map(Object.entries(classes)),
    plan: new TaskPlan(),
    clock,
    timers: clock,
    equalWeights: false,
    onStopTest: () => {},
    drainMs: 0,
  });
  return { run, iterations, env };
}

/** Advances in `step` ms steps for `total` ms, calling `each` after every step. */
async function advanceBy(clock: FakeClock, total: number, step: number, each: () => void = () => {}): Promise<void> {
  for (let t = 0; t < total; t += step) {
    await clock.advance(Math.min(step, total - t));
    each();
  }
}

const openSlow = { executor: 'constant-arrival-rate', rate: 10, duration: '2s', preAllocatedUsers: 2, maxUsers: 3 };

describe('ScenarioRun, open model (constant-arrival-rate)', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock();
  });

  it('accounts for every scheduled arrival when the target is slow: ran + dropped = 20, dropped > 0, at most 3 users', async () => {
    reset(clock, 1000);
    const { run, iterations } = build(scenario(openSlow, 'open'), clock);
    let ended = 0;
    let maxUsers = 0;
    run.start(WHOLE, () => ended++);
    await advanceBy(clock, 5000, 50, () => (maxUsers = Math.max(maxUsers, run.userCount)));
    await run.whenEnded();
    assert.equal(ended, 1, 'the scenario ends by itself');
    assert.equal(run.phase, 'ended');

    const ran = iterations.filter((e) => !e.dropped);
    const dropped = iterations.filter((e) => e.dropped);
    assert.equal(ran.length + dropped.length, 20, `every arrival is accounted for: ran ${ran.length}, dropped ${dropped.length}`);
    assert.ok(dropped.length > 0, 'a 1 s task at 10/s with 3 users must drop arrivals');
    assert.ok(maxUsers <= 3, `at most maxUsers users, saw ${maxUsers}`);
    assert.ok(new Set(log.startedBy).size <= 3, `users that ran: ${[...new Set(log.startedBy)].join(',')}`);
    assert.ok(log.onStarts.length <= 3);
    assert.equal(ran.length, log.starts.length, 'one event per iteration that ran');
    // Each ran when a user was free: on schedule.
    for (const e of ran) {
      assert.equal(e.scenario, 'open');
      assert.ok(e.ok && !e.interrupted);
      assert.ok(e.lateMs <= 1, `lateMs ${e.lateMs}`);
      assert.ok(Math.abs(e.durationMs - 1000) <= 1, `durationMs ${e.durationMs}`);
    }
    // Arrivals due at 0, 100, 200 take the three users; the next free user is at 1000.
    assert.deepEqual(log.starts, [0, 100, 200, 1000, 1100, 1200]);
    assert.equal(dropped.length, 14);
    for (const e of dropped) assert.ok(!e.ok && !e.interrupted && e.durationMs === 0);
  });

  it('drops nothing with a fast task: iteration i starts at i × 100 ms, lateMs 0', async () => {
    reset(clock, 0);
    const { run, iterations } = build(scenario(openSlow, 'open'), clock);
    let ended = 0;
    run.start(WHOLE, () => ended++);
    await advanceBy(clock, 3000, 50);
    await run.whenEnded();
    assert.equal(ended, 1);
    assert.equal(iterations.length, 20);
    assert.equal(iterations.filter((e) => e.dropped).length, 0);
    assert.deepEqual(log.starts, Array.from({ length: 20 }, (_, i) => i * 100));
    for (const e of iterations) assert.equal(e.lateMs, 0);
    assert.ok(log.onStarts.length <= 2, `fast iterations need only the preallocated users, started ${log.onStarts.length}`);
  });

  it('re-partitions without running an arrival twice or skipping one, even when two re-partitions come at once', async () => {
    reset(clock, 0);
    const { run, iterations } = build(scenario(openSlow, 'open'), clock);
    run.start(WHOLE, () => undefined);
    await advanceBy(clock, 450, 50);
    // Two messages in a row: this share becomes the whole from arrival 8, then again from arrival 9.
    void run.replan({ segment: { index: 0, count: 1, fromItem: 8 } });
    void run.replan({ segment: { index: 0, count: 1, fromItem: 9 } });
    await advanceBy(clock, 3000, 50);
    await run.whenEnded();
    assert.equal(iterations.filter((e) => !e.dropped).length, 20);
    assert.deepEqual(log.starts, Array.from({ length: 20 }, (_, i) => i * 100), 'each arrival once, on time');
  });

  it('three shares over a re-partition from 2 to 3 workers at arrival 9 start every arrival exactly once, on time (regression: the first of a new stripe was skipped)', async () => {
    reset(clock, 0);
    const config = scenario({ ...openSlow, rate: 20, maxUsers: 5 }, 'open');
    const workers = [build(config, clock), build(config, clock)];
    workers[0]!.run.start({ index: 0, count: 2 }, () => undefined);
    workers[1]!.run.start({ index: 1, count: 2 }, () => undefined);
    await advanceBy(clock, 250, 50);
    // The master says: from arrival 9 (due at 450 ms), three shares; the third worker joins the schedule 250 ms in.
    void workers[0]!.run.replan({ segment: { index: 0, count: 3, fromItem: 9 } });
    void workers[1]!.run.replan({ segment: { index: 1, count: 3, fromItem: 9 } });
    const third = build(config, clock);
    third.run.start({ index: 2, count: 3, fromItem: 9 }, () => undefined, 250);
    workers.push(third);
    await advanceBy(clock, 3000, 25);
    const ran = workers.reduce((n, w) => n + w.iterations.filter((e) => !e.dropped).length, 0);
    assert.equal(ran, 40, '20/s for 2 s');
    assert.deepEqual([...log.starts].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i * 50), 'each arrival once, on time');
    assert.ok(third.iterations.length >= 10, `the third share took a third of the arrivals from #9: ${third.iterations.length}`);
  });

  it('runs onStart once per user', async () => {
    reset(clock, 1000);
    const { run } = build(scenario(openSlow, 'open'), clock);
    run.start(WHOLE, () => {});
    await advanceBy(clock, 5000, 100);
    await run.whenEnded();
    assert.equal(log.onStarts.length, 3, 'two preallocated users and one added');
    assert.equal(new Set(log.onStarts).size, log.onStarts.length, `onStart per user: ${log.onStarts.join(',')}`);
    // Every user that ran an iteration had started.
    for (const id of log.startedBy) assert.ok(log.onStarts.includes(id));
  });

  it('preallocates its users before the first arrival', async () => {
    reset(clock, 0);
    const { run } = build(scenario({ ...openSlow, preAllocatedUsers: 3 }, 'open'), clock);
    run.start(WHOLE, () => {});
    await clock.advance(0);
    assert.equal(run.userCount, 3);
    assert.equal(log.onStarts.length, 3);
    await advanceBy(clock, 3000, 100);
    await run.whenEnded();
  });

  it('holds arrivals for a task the test releases: late arrivals that found no user are dropped, not queued', async () => {
    reset(clock, 0);
    Held.releases = [];
    const { run, iterations } = build(scenario({ executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedUsers: 1, maxUsers: 1, gracefulStop: '0s' }, 'held'), clock, { Held });
    let ended = 0;
    run.start(WHOLE, () => ended++);
    await advanceBy(clock, 950, 50);
    assert.deepEqual(log.starts, [0], 'one user, held: only the first arrival ran');
    assert.equal(iterations.filter((e) => e.dropped).length, 9);
    Held.releases.shift()!();
    await advanceBy(clock, 100, 50);
    await clock.advance(0);
    assert.equal(iterations.filter((e) => !e.dropped).length, 1);
    assert.equal(iterations.length, 10);
    await advanceBy(clock, 2000, 100);
    assert.equal(ended, 1);
  });
});

describe('ScenarioRun and ScenarioSet, iteration counts', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock();
  });

  function set(classes: Record<string, UserClass> = { Probe }) {
    const env = environment();
    const iterations: IterationEvent[] = [];
    env.events.iteration.addListener((e) => void (e.notRun === undefined && iterations.push(e)));
    const endedNames: string[] = [];
    const scenarios = new ScenarioSet({
      environment: env,
      classes: new Map(Object.entries(classes)),
      plan: new TaskPlan(),
      clock,
      timers: clock,
      equalWeights: false,
      onStopTest: () => {},
      runner: {} as RunnerControl,
      onRampComplete: () => {},
      onScenarioEnded: (name) => void endedNames.push(name),
    });
    scenarios.drainMs = 0;
    return { scenarios, iterations, endedNames };
  }

  it('shared-iterations: 7 iterations over 3 users run exactly 7 times, then the scenario ends by itself', async () => {
    reset(clock, 100);
    const { scenarios, iterations, endedNames } = set();
    const run = scenarios.add(scenario({ executor: 'shared-iterations', iterations: 7, users: 3 }, 'shared'), WHOLE);
    await advanceBy(clock, 2000, 50);
    await run.whenEnded();
    assert.equal(iterations.length, 7);
    assert.ok(iterations.every((e) => !e.dropped && e.ok && e.scenario === 'shared'));
    assert.deepEqual(endedNames, ['shared']);
    assert.equal(run.phase, 'ended');
    assert.ok(scenarios.allEnded);
    assert.equal(run.notRun, 0);
    assert.equal(new Set(log.startedBy).size, 3, 'the three users share the work');
    assert.equal(log.onStarts.length, 3);
  });

  it('shared-iterations with a fast task: exactly 7, and it ends', async () => {
    reset(clock, 0);
    const { scenarios, iterations, endedNames } = set();
    const run = scenarios.add(scenario({ executor: 'shared-iterations', iterations: 7, users: 3 }, 'shared'), WHOLE);
    await advanceBy(clock, 1000, 100);
    await run.whenEnded();
    assert.equal(iterations.length, 7);
    assert.deepEqual(endedNames, ['shared']);
  });

  it('per-user-iterations: 3 users × 4 iterations = 12 events, 4 per user', async () => {
    reset(clock, 100);
    let ended = 0;
    const { run, iterations } = build(scenario({ executor: 'per-user-iterations', users: 3, iterations: 4 }, 'each'), clock);
    run.start(WHOLE, () => ended++);
    await advanceBy(clock, 2000, 50);
    await run.whenEnded();
    assert.equal(iterations.length, 12);
    assert.equal(ended, 1);
    const perUser = new Map<number, number>();
    for (const id of log.startedBy) perUser.set(id, (perUser.get(id) ?? 0) + 1);
    assert.deepEqual([...perUser.values()], [4, 4, 4]);
  });

  it('maxDuration cuts shared-iterations: it ends with iterations not run', async () => {
    reset(clock, 1000);
    let ended = 0;
    const { run, iterations, env } = build(scenario({ executor: 'shared-iterations', iterations: 100, users: 2, maxDuration: '2s' }, 'cut'), clock);
    const notRunEvents: number[] = [];
    env.events.iteration.addListener((e) => void (e.notRun !== undefined && notRunEvents.push(e.notRun)));
    run.start(WHOLE, () => ended++);
    await advanceBy(clock, 5000, 100);
    await run.whenEnded();
    assert.equal(ended, 1, 'the scenario ends at maxDuration');
    assert.equal(run.phase, 'ended');
    assert.ok(run.notRun > 0, `notRun ${run.notRun}`);
    assert.equal(iterations.length + run.notRun, 100, `ran ${iterations.length} + not run ${run.notRun}`);
    // Two users × 1 s tasks in 2 s: 4 iterations.
    assert.equal(iterations.length, 4);
    assert.ok(log.starts.every((t) => t < 2000), `no iteration starts after maxDuration: ${log.starts.join(',')}`);
    assert.deepEqual(notRunEvents, [96], 'one event says how many were not run');
  });

  it('a scenario is not ended before its start time', async () => {
    reset(clock, 0);
    const { scenarios, iterations, endedNames } = set();
    scenarios.add(scenario({ executor: 'shared-iterations', iterations: 2, startTime: '1s' }, 'later'), WHOLE);
    await advanceBy(clock, 900, 100);
    assert.equal(iterations.length, 0);
    assert.deepEqual(endedNames, []);
    await advanceBy(clock, 500, 100);
    assert.equal(iterations.length, 2);
    assert.deepEqual(endedNames, ['later']);
    assert.ok(log.starts.every((t) => t >= 1000));
  });
});
