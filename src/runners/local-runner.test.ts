import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../core/clock.ts';
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
/** A task that takes 300 ms, to see stop-timeout at work. */
class Slow extends User {
  static finished = 0;
  @task async slow() {
    await sleep(300);
    Slow.finished++;
  }
}

function setup(classes: Record<string, UserClass>, extra: { stopTimeout?: number; shape?: LoadShape } = {}) {
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
  });
  return { runner, events, stats };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('the local runner', () => {
  it('ramps to the target at the spawn rate and reports spawning complete', async () => {
    const { runner, events } = setup({ Worker });
    let completed = -1;
    events.spawningComplete.addListener((e) => (completed = e.userCount));
    const started = Date.now();
    runner.start({ userCount: 10, spawnRate: 20 });
    assert.equal(runner.state, 'spawning');
    await until(() => runner.state === 'running');
    const took = Date.now() - started;
    assert.equal(completed, 10);
    assert.equal(runner.userCount, 10);
    assert.ok(took >= 400 && took < 1500, `10 users at 20/s take ~0.45 s, took ${took} ms`);
    await runner.stop();
    assert.equal(runner.state, 'stopped');
    assert.equal(runner.userCount, 0);
  });

  it('changes the count mid-run, up and down, keeping fixed-count users', async () => {
    const { runner } = setup({ Admin, Worker });
    runner.start({ userCount: 6, spawnRate: 1000 });
    await until(() => runner.state === 'running');
    assert.deepEqual(runner.userClassCounts(), { Admin: 1, Worker: 5 });
    runner.start({ userCount: 2, spawnRate: 1000 });
    await until(() => runner.state === 'running' && runner.userCount === 2);
    assert.deepEqual(runner.userClassCounts(), { Admin: 1, Worker: 1 });
    runner.start({ userCount: 9, spawnRate: 1000 });
    await until(() => runner.state === 'running' && runner.userCount === 9);
    assert.deepEqual(runner.userClassCounts(), { Admin: 1, Worker: 8 });
    await runner.stop();
  });

  it('stops by itself after the run time', async () => {
    const { runner } = setup({ Worker });
    const started = Date.now();
    runner.start({ userCount: 3, spawnRate: 100, runTime: 0.5 });
    await runner.whenStopped();
    const took = Date.now() - started;
    assert.ok(took >= 480 && took < 2000, `took ${took} ms`);
    assert.equal(runner.state, 'stopped');
  });

  it('lets running tasks finish within the stop timeout', async () => {
    Slow.finished = 0;
    const { runner } = setup({ Slow }, { stopTimeout: 2 });
    runner.start({ userCount: 3, spawnRate: 1000 });
    await sleep(100);
    await runner.stop();
    assert.equal(Slow.finished, 3, 'all three tasks in progress completed');
  });

  it('without a stop timeout ends users at their next wait or request', async () => {
    Slow.finished = 0;
    const { runner } = setup({ Slow });
    runner.start({ userCount: 3, spawnRate: 1000 });
    await sleep(100);
    const started = Date.now();
    await runner.stop();
    // A task that awaits nothing of Cicada's still runs to its end; nothing new starts after it.
    assert.ok(Date.now() - started < 1000);
    const finishedAtStop = Slow.finished;
    await sleep(400);
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
    const { runner } = setup({ Worker }, { shape: new Shape() });
    runner.startShape();
    await runner.whenStopped();
    assert.ok(counts.includes(4) && counts.includes(2), `saw ${counts.join(',')}`);
    assert.equal(runner.state, 'stopped');
  });

  it('can start again after a stop, from clean statistics', async () => {
    const { runner, stats } = setup({ Worker });
    runner.start({ userCount: 2, spawnRate: 1000 });
    await sleep(150);
    await runner.stop();
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
    const { runner } = setup({ Idle });
    runner.start({ userCount: 10_000, spawnRate: 1_000_000 });
    await until(() => runner.state === 'running');
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
