import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../core/clock.ts';
import { FakeClock } from '../core/fake-clock.test-helper.ts';
import { defaultClientDefaults, type Environment } from '../core/environment.ts';
import { Events } from '../core/events.ts';
import { LoadShape } from '../core/load-shape.ts';
import { silentLogger } from '../core/logger.ts';
import { TaskPlan } from '../core/task-plan.ts';
import { task } from '../core/tasks.ts';
import { User, type UserClass } from '../core/user.ts';
import { constant } from '../core/wait-time.ts';
import { RequestStats } from '../stats/request-stats.ts';
import { LocalRunner } from './local-runner.ts';

/** Fires one fake 1 ms request per task, so stats see every task that ran. */
class Worker extends User {
  waitTime = constant(0.02);
  @task async work() {
    this.environment.events.request.fire({ requestType: 'GET', name: '/w', responseTime: 1, responseLength: 2, error: null, startTime: Date.now() });
  }
}
class Admin extends User {
  static fixedCount = 1;
  waitTime = constant(0.02);
  @task async admin() {}
}
/** The fake clock of the current test: runner, waits and tasks all move only when the test advances it. */
let clock = new FakeClock();

/** A task that takes 300 ms of the test's clock, to see stop-timeout at work. */
class Slow extends User {
  static finished = 0;
  @task async slow() {
    await sleep(300, undefined, clock);
    Slow.finished++;
  }
}

function setup(classes: Record<string, UserClass>, extra: { stopTimeout?: number; shape?: LoadShape } = {}) {
  clock = new FakeClock();
  const events = new Events();
  const environment: Environment = { events, host: undefined, logger: silentLogger, clientDefaults: defaultClientDefaults, parsedOptions: {}, runner: undefined };
  const stats = new RequestStats();
  stats.attach(events);
  const runner = new LocalRunner({
    environment,
    userClasses: new Map(Object.entries(classes)),
    plan: new TaskPlan(),
    stats,
    shape: extra.shape,
    stopTimeout: extra.stopTimeout ?? 0,
    drainTimeout: 2,
    tickMs: 100,
    clock,
    timers: clock,
  });
  return { runner, events, stats, clock };
}

describe('the local runner', () => {
  it('ramps to the target at the spawn rate and reports spawning complete', async () => {
    const { runner, events, clock } = setup({ Worker });
    let completed = -1;
    events.spawningComplete.addListener((e) => (completed = e.userCount));
    runner.start({ userCount: 10, spawnRate: 20 });
    assert.equal(runner.state, 'spawning');
    assert.equal(runner.targetUserCount, 10);
    // One user at once, then one every 50 ms: the 10th at 450 ms.
    await clock.advance(440);
    assert.equal(runner.userCount, 9);
    assert.equal(runner.state, 'spawning');
    await clock.advance(10);
    assert.equal(runner.state, 'running');
    assert.equal(completed, 10);
    assert.equal(runner.userCount, 10);
    const stopping = runner.stop();
    await clock.advance(100);
    await stopping;
    assert.equal(runner.state, 'stopped');
    assert.equal(runner.userCount, 0);
  });

  it('changes the count mid-run, up and down, keeping fixed-count users', async () => {
    const { runner, clock } = setup({ Admin, Worker });
    runner.start({ userCount: 6, spawnRate: 1000 });
    await clock.advance(10);
    assert.equal(runner.state, 'running');
    assert.deepEqual(runner.userClassCounts(), { Admin: 1, Worker: 5 });
    runner.start({ userCount: 2, spawnRate: 1000 });
    await clock.advance(10);
    assert.equal(runner.state, 'running');
    assert.deepEqual(runner.userClassCounts(), { Admin: 1, Worker: 1 });
    runner.start({ userCount: 9, spawnRate: 1000 });
    await clock.advance(10);
    assert.deepEqual(runner.userClassCounts(), { Admin: 1, Worker: 8 });
    const stopping = runner.stop();
    await clock.advance(100);
    await stopping;
  });

  it('stops by itself after the run time, and not before', async () => {
    const { runner, clock } = setup({ Worker });
    runner.start({ userCount: 3, spawnRate: 100, runTime: 0.5 });
    let stopped = false;
    void runner.whenStopped().then(() => (stopped = true));
    await clock.advance(499);
    assert.equal(stopped, false);
    assert.equal(runner.state, 'running');
    await clock.advance(100);
    assert.equal(stopped, true);
    assert.equal(runner.state, 'stopped');
  });

  it('lets running tasks finish within the stop timeout', async () => {
    Slow.finished = 0;
    const { runner, clock } = setup({ Slow }, { stopTimeout: 2 });
    runner.start({ userCount: 3, spawnRate: 1000 });
    await clock.advance(100);
    const stopping = runner.stop();
    await clock.advance(250);
    await stopping;
    assert.equal(Slow.finished, 3, 'all three tasks in progress completed');
  });

  it('without a stop timeout ends users at their next wait or request, and starts no new task', async () => {
    Slow.finished = 0;
    const { runner, clock } = setup({ Slow });
    runner.start({ userCount: 3, spawnRate: 1000 });
    await clock.advance(100);
    const stopping = runner.stop();
    // A task that awaits nothing of Cicada's still runs to its end (200 ms more); nothing new starts after it.
    await clock.advance(250);
    await stopping;
    assert.equal(runner.state, 'stopped');
    const finishedAtStop = Slow.finished;
    await clock.advance(1000);
    assert.equal(Slow.finished, finishedAtStop, 'no task started after the stop');
  });

  it('follows a LoadShape and stops when it returns null', async () => {
    const counts: number[] = [];
    class Shape extends LoadShape {
      tick() {
        counts.push(this.getCurrentUserCount());
        const t = this.getRunTime();
        if (t < 0.3) return { users: 4, spawnRate: 1000 };
        if (t < 0.6) return { users: 2, spawnRate: 1000 };
        return null;
      }
    }
    const { runner, clock } = setup({ Worker }, { shape: new Shape() });
    runner.startShape();
    await clock.advance(1000);
    await runner.whenStopped();
    assert.ok(counts.includes(4) && counts.includes(2), `saw ${counts.join(',')}`);
    assert.equal(runner.state, 'stopped');
  });

  it('can start again after a stop, from clean statistics', async () => {
    const { runner, stats, clock } = setup({ Worker });
    runner.start({ userCount: 2, spawnRate: 1000 });
    await clock.advance(150);
    const stopping = runner.stop();
    await clock.advance(100);
    await stopping;
    assert.ok(stats.snapshot(0).total.numRequests > 0);
    runner.start({ userCount: 1, spawnRate: 1000 });
    assert.equal(stats.snapshot(0).total.numRequests <= 1, true);
    await runner.stop();
  });

  it('holds 10,000 idle users', async () => {
    class Idle extends User {
      waitTime = constant(3600);
      @task async idle() {}
    }
    const { runner, clock } = setup({ Idle });
    runner.start({ userCount: 10_000, spawnRate: 1_000_000 });
    await clock.advance(10);
    assert.equal(runner.state, 'running');
    assert.equal(runner.userCount, 10_000);
    await runner.stop();
    assert.equal(runner.userCount, 0);
  });

  it('rejects bad start requests without changing state', () => {
    const { runner } = setup({ Worker });
    assert.throws(() => runner.start({ userCount: -1, spawnRate: 1 }), /user count/);
    assert.throws(() => runner.start({ userCount: 1, spawnRate: 0 }), /spawn rate/);
    assert.equal(runner.state, 'ready');
  });
});
