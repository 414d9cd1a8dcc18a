import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RescheduleTask, StopTest, StopUser } from './control-flow.ts';
import { defaultClientDefaults, type Environment } from './environment.ts';
import { Events } from './events.ts';
import { silentLogger } from './logger.ts';
import { TaskPlan } from './task-plan.ts';
import { task } from './tasks.ts';
import { runUser, type UserLoopControl } from './user-loop.ts';
import { TaskSet, User } from './user.ts';

function setup() {
  const events = new Events();
  const environment: Environment = { events, host: undefined, logger: silentLogger, clientDefaults: defaultClientDefaults, parsedOptions: {}, runner: undefined };
  const soft = new AbortController();
  const hard = new AbortController();
  const stopTests: StopTest[] = [];
  const control: UserLoopControl = { softSignal: soft.signal, events, plan: new TaskPlan(), onStopTest: (e) => stopTests.push(e), now: () => performance.now() };
  const make = <U extends User>(cls: new (c: { environment: Environment; signal: AbortSignal; id: number }) => U): U => new cls({ environment, signal: hard.signal, id: 1 });
  return { events, soft, control, make, stopTests };
}

describe('the user loop', () => {
  it('calls onStart, runs tasks until StopUser, then calls onStop', async () => {
    const log: string[] = [];
    class U extends User {
      n = 0;
      onStart() { log.push('start'); }
      onStop() { log.push('stop'); }
      @task async work() {
        log.push(`work${++this.n}`);
        if (this.n === 3) throw new StopUser();
      }
    }
    const { control, make } = setup();
    assert.equal((await runUser(make(U), control)).reason, 'stop-user');
    assert.deepEqual(log, ['start', 'work1', 'work2', 'work3', 'stop']);
  });

  it('reports a task error through userError and carries on', async () => {
    class U extends User {
      n = 0;
      @task async work() {
        this.n++;
        if (this.n === 1) throw new Error('boom');
        if (this.n === 2) this.stop();
      }
    }
    const { control, make, events } = setup();
    const errors: string[] = [];
    events.userError.addListener((e) => errors.push(`${e.task}:${e.error.message}`));
    assert.equal((await runUser(make(U), control)).reason, 'stop-user');
    assert.deepEqual(errors, ['work:boom']);
  });

  it('skips the wait after RescheduleTask with immediately', async () => {
    class U extends User {
      waitTime = () => 10;
      n = 0;
      @task async work() {
        this.n++;
        if (this.n < 3) throw new RescheduleTask({ immediately: true });
        this.stop();
      }
    }
    const { control, make } = setup();
    const started = performance.now();
    await runUser(make(U), control);
    assert.ok(performance.now() - started < 1000, 'no 10 s wait happened');
  });

  it('enters a TaskSet, stays until interrupt, then returns to the user', async () => {
    const log: string[] = [];
    class Inner extends TaskSet<Shopper> {
      n = 0;
      onStart() { log.push('inner-start'); }
      onStop() { log.push('inner-stop'); }
      @task async step() {
        log.push(`step${++this.n}`);
        if (this.n === 2) this.interrupt();
      }
    }
    class Shopper extends User {
      static tasks = [Inner];
      visits = 0;
      onStart() {}
    }
    let entries = 0;
    Inner.prototype.onStart = function (this: Inner) {
      log.push('inner-start');
      if (++entries === 2) throw new StopUser();
    };
    const { control, make } = setup();
    assert.equal((await runUser(make(Shopper), control)).reason, 'stop-user');
    assert.deepEqual(log, ['inner-start', 'step1', 'step2', 'inner-stop', 'inner-start', 'inner-stop']);
  });

  it('ends after the current task when the soft signal aborts, and stops waiting at once', async () => {
    const { control, make, soft } = setup();
    let runs = 0;
    class U extends User {
      waitTime = () => 60;
      @task async work() { runs++; }
    }
    const done = runUser(make(U), control);
    setTimeout(() => soft.abort(), 20);
    const started = performance.now();
    assert.equal((await done).reason, 'stopped');
    assert.equal(runs, 1);
    assert.ok(performance.now() - started < 1000);
  });

  it('hands StopTest to the runner', async () => {
    class U extends User {
      @task async work() { throw new StopTest('enough'); }
    }
    const { control, make, stopTests } = setup();
    await runUser(make(U), control);
    assert.equal(stopTests[0]?.message, 'enough');
  });

  it('ends the user when onStart fails, reporting the error', async () => {
    class U extends User {
      onStart() { throw new Error('login failed'); }
      @task async work() {}
    }
    const { control, make, events } = setup();
    const errors: string[] = [];
    events.userError.addListener((e) => errors.push(`${e.task}:${e.error.message}`));
    assert.equal((await runUser(make(U), control)).reason, 'error');
    assert.deepEqual(errors, ['onStart:login failed']);
  });
});
