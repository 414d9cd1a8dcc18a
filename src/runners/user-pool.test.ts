import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StopUser } from '../core/control-flow.ts';
import { FakeClock } from '../core/fake-clock.test-helper.ts';
import { CancelledAtStop, type InFlight } from '../core/in-flight.ts';
import { TaskPlan } from '../core/task-plan.ts';
import { task } from '../core/tasks.ts';
import { testEnvironment } from '../core/test-environment.test-helper.ts';
import { User, type UserClass, type UserContext } from '../core/user.ts';
import { describeStopWait, UserPool, type StopWait } from './user-pool.ts';

/** A user whose one request never answers by itself: it ends only when the stop cuts it (as the HTTP client does). */
class Hanging extends User {
  static sent = 0;
  static recorded: string[] = [];
  private readonly inFlight: InFlight;
  private release: (() => void) | undefined;
  constructor(context: UserContext) {
    super(context);
    this.inFlight = context.inFlight!;
  }
  override cancelInFlight(): void {
    this.release?.();
  }
  @task async call() {
    Hanging.sent++;
    this.inFlight.enter();
    await new Promise<void>((resolve) => { this.release = resolve; });
    Hanging.recorded.push(new CancelledAtStop().message);
    this.inFlight.leave();
  }
}

function pool(classes: Record<string, UserClass>, clock = new FakeClock()) {
  const environment = testEnvironment();
  const p = new UserPool({ environment, classes: new Map(Object.entries(classes)), plan: new TaskPlan(), now: () => clock.now(), onStopTest: () => {}, timers: clock });
  return { pool: p, clock, logger: environment.logger };
}

const quick = { stopTimeoutMs: 0, drainMs: 0 };

describe('UserPool stops', () => {
  it('a request that never answers is cut after the drain time and recorded as cancelled at stop (regression: a 3 s test ran 61 s)', async () => {
    Hanging.sent = 0;
    Hanging.recorded = [];
    const { pool: p, clock } = pool({ Hanging });
    p.reconcile({ Hanging: 3 }, quick);
    await clock.advance(0);
    assert.equal(p.inFlight.count, 3);
    const waits: StopWait[] = [];
    let result: { cut: number; abandoned: number } | undefined;
    void p.stopAll({ stopTimeoutMs: 0, drainMs: 5000, onWait: (w) => waits.push(w) }).then((r) => (result = r));
    await clock.advance(4999);
    assert.equal(result, undefined, 'still draining before the drain time is up');
    assert.deepEqual(waits.map((w) => [w.phase, w.ms, w.inFlight]), [['requests', 5000, 3]]);
    assert.equal(describeStopWait(waits[0]!), 'stopping: waiting up to 5 s for 3 requests in flight (Ctrl+C to cut them now)');
    await clock.advance(1);
    await clock.advance(0);
    assert.deepEqual(result, { cut: 3, abandoned: 0 });
    assert.deepEqual(Hanging.recorded, ['cancelled at stop', 'cancelled at stop', 'cancelled at stop']);
    assert.equal(p.inFlight.count, 0);
    assert.equal(p.count, 0);
  });

  it('cutNow (a second Ctrl+C) cuts the requests in flight at once', async () => {
    Hanging.recorded = [];
    const { pool: p, clock } = pool({ Hanging });
    p.reconcile({ Hanging: 2 }, quick);
    await clock.advance(0);
    const results: { cut: number }[] = [];
    void p.stopAll({ stopTimeoutMs: 10_000, drainMs: 60_000 }).then((r) => results.push(r));
    await clock.advance(100);
    assert.equal(results.length, 0);
    p.cutNow();
    await clock.advance(0);
    assert.equal(results[0]?.cut, 2);
    assert.equal(Hanging.recorded.length, 2);
  });

  it('lets running tasks go on for the stop timeout, then sends no new request', async () => {
    let requests = 0;
    let finishedTasks = 0;
    const clock = new FakeClock();
    const sleepOnClock = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
    class Slow extends User {
      @task async work() {
        requests++;
        await sleepOnClock(1500);
        finishedTasks++;
      }
    }
    const { pool: p } = pool({ Slow }, clock);
    p.reconcile({ Slow: 1 }, quick);
    await clock.advance(10);
    const phases: string[] = [];
    let done = false;
    void p.stopAll({ stopTimeoutMs: 2000, drainMs: 0, onWait: (w) => phases.push(w.phase) }).then(() => (done = true));
    await clock.advance(1000);
    assert.equal(done, false, 'the running task may go on');
    await clock.advance(600);
    assert.equal(done, true, 'the task ended within the stop timeout: the stop ends with it');
    assert.equal(finishedTasks, 1);
    assert.equal(requests, 1, 'no new task after the stop');
    assert.deepEqual(phases, ['tasks']);
  });

  it('a stop with only waiting users says nothing and ends at once', async () => {
    class Waiter extends User {
      waitTime = () => 60;
      @task async work() {}
    }
    const { pool: p, clock } = pool({ Waiter });
    p.reconcile({ Waiter: 4 }, quick);
    await clock.advance(10);
    const waits: StopWait[] = [];
    const result = await p.stopAll({ stopTimeoutMs: 5000, drainMs: 5000, onWait: (w) => waits.push(w) });
    assert.deepEqual(result, { cut: 0, abandoned: 0 });
    assert.deepEqual(waits, []);
  });

  it('cuts the requests of a retired user (ramp down) after stop timeout + drain', async () => {
    Hanging.recorded = [];
    const { pool: p, clock } = pool({ Hanging });
    p.reconcile({ Hanging: 2 }, quick);
    await clock.advance(0);
    p.reconcile({ Hanging: 1 }, { stopTimeoutMs: 1000, drainMs: 2000 });
    await clock.advance(2999);
    assert.equal(Hanging.recorded.length, 0);
    await clock.advance(1);
    assert.equal(Hanging.recorded.length, 1);
    assert.equal(p.inFlight.count, 1);
    assert.equal(p.count, 1);
  });
});

describe('UserPool and users that end by themselves', () => {
  it('does not re-spawn users that threw StopUser (regression: 2 users ran 3 times)', async () => {
    let starts = 0;
    class Once extends User {
      onStart() { starts++; }
      @task async work() { throw new StopUser(); }
    }
    const { pool: p, clock, logger } = pool({ Once });
    p.reconcile({ Once: 1 }, quick);
    await clock.advance(10);
    p.reconcile({ Once: 2 }, quick);
    await clock.advance(10);
    p.reconcile({ Once: 2 }, quick);
    await clock.advance(10);
    p.rampComplete();
    assert.equal(starts, 2);
    assert.equal(p.count, 0);
    assert.ok(logger.lines.some((l) => l === 'warning all 2 users of Once have stopped: 2 threw StopUser. They are not re-spawned; no user is running any more: fix the cicadafile, or stop the run (Ctrl+C)'), logger.lines.join('\n'));
  });

  it('warns once, with the reason, when every user of a class failed in onStart', async () => {
    class Broken extends User {
      onStart() { throw new TypeError('login is not a function'); }
      @task async work() {}
    }
    class Fine extends User {
      waitTime = () => 1;
      @task async work() {}
    }
    const { pool: p, clock, logger } = pool({ Broken, Fine });
    p.reconcile({ Broken: 2, Fine: 1 }, quick);
    await clock.advance(10);
    p.reconcile({ Broken: 2, Fine: 1 }, quick);
    await clock.advance(10);
    p.rampComplete();
    const warnings = logger.lines.filter((l) => l.startsWith('warning'));
    assert.deepEqual(warnings, ['warning all 2 users of Broken have stopped: 2 failed in onStart (TypeError: login is not a function). They are not re-spawned; 1 users of other classes go on']);
    assert.equal(p.countOf('Broken'), 0);
    await p.stopAll(quick);
  });

  it('gives the places of stopped users back first when the target shrinks', async () => {
    let starts = 0;
    class Once extends User {
      onStart() { starts++; }
      @task async work() { throw new StopUser(); }
    }
    const { pool: p, clock } = pool({ Once });
    p.reconcile({ Once: 3 }, quick);
    await clock.advance(10);
    p.reconcile({ Once: 1 }, quick);
    p.reconcile({ Once: 2 }, quick);
    await clock.advance(10);
    assert.equal(starts, 4, 'shrinking to 1 keeps one stopped place; growing to 2 spawns one new user');
  });
});
