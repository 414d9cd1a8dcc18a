// Drives one user: onStart, then pick a task, run it, wait, repeat, until stopped; then onStop.
import { InterruptTaskSet, isUserControlFlow, RescheduleTask, StopTest, StopUser } from './control-flow.ts';
import { sleep, type Timers } from './clock.ts';
import type { Events } from './events.ts';
import type { TaskPlan } from './task-plan.ts';
import type { TaskDef, TaskTable } from './tasks.ts';
import { TaskSet, type User } from './user.ts';
import type { WaitTime } from './wait-time.ts';

/** How the runner steers one user. */
export interface UserLoopControl {
  /** Aborts when no new task may start (the run is stopping, or this user is being retired). */
  readonly softSignal: AbortSignal;
  readonly events: Events;
  readonly plan: TaskPlan;
  /** Called when a task throws `StopTest`. */
  onStopTest(error: StopTest): void;
  /** Monotonic milliseconds. */
  now(): number;
  /** Timers of the wait times (a fake clock in tests); the system's when absent. */
  readonly timers?: Timers;
}

/** Why a user's loop ended: the run stopped it, it threw `StopUser`, or its `onStart` failed. */
export type UserEnd = 'stopped' | 'stop-user' | 'error';

/** How a user's loop ended, with the `onStart` error when that was the reason. */
export interface UserOutcome {
  readonly reason: UserEnd;
  readonly error?: Error;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

type Owner = User | TaskSet;

/** Runs a task. Resolves `true` when the task was a TaskSet left with `interrupt()` (reschedule at once). */
async function callTask(owner: Owner, def: TaskDef, user: User, control: UserLoopControl): Promise<boolean> {
  switch (def.target.kind) {
    case 'method': {
      const method = (owner as unknown as Record<string, unknown>)[def.target.method];
      if (typeof method !== 'function') throw new TypeError(`${owner.constructor.name}.${def.target.method} is not a function`);
      await (method as () => unknown).call(owner);
      return false;
    }
    case 'function':
      await (def.target.fn as (owner: Owner) => unknown)(owner);
      return false;
    case 'taskset': {
      const child = new (def.target.cls as new (parent: Owner) => TaskSet)(owner);
      return runTaskSet(child, user, control);
    }
  }
}

async function runQueued(owner: TaskSet, item: string | ((this: TaskSet) => unknown)): Promise<void> {
  if (typeof item === 'function') {
    await item.call(owner);
    return;
  }
  const method = (owner as unknown as Record<string, unknown>)[item];
  if (typeof method !== 'function') throw new TypeError(`scheduleTask("${item}"): ${owner.constructor.name} has no such method`);
  await (method as () => unknown).call(owner);
}

function waitTimeOf(owner: Owner, user: User): WaitTime {
  return (owner instanceof TaskSet ? owner.waitTime : undefined) ?? user.waitTime;
}

/** Waits the owner's wait time after a task that started at `startedAt`. False when cut short by a stop. */
async function waitAfter(owner: Owner, user: User, startedAt: number, control: UserLoopControl): Promise<boolean> {
  const seconds = waitTimeOf(owner, user)(owner, startedAt, control.now());
  if (!(seconds > 0)) return !control.softSignal.aborted;
  return sleep(seconds * 1000, control.softSignal, control.timers);
}

/** How one task ended: ran (even if a request in it failed), asked to skip the wait, or threw an error of the script. */
const enum TaskEnd { ran, skipWait, threw }

/**
 * Picks and runs one task of `owner` (a queued one first). Control-flow exceptions steer the caller
 * (they propagate, `StopTest` after `onStopTest`); any other error is reported through `userError`.
 */
async function runOne(owner: Owner, user: User, control: UserLoopControl, table: TaskTable): Promise<TaskEnd> {
  let name = '(queued task)';
  try {
    const queued = owner instanceof TaskSet ? owner.queue.shift() : undefined;
    if (queued !== undefined) {
      await runQueued(owner as TaskSet, queued);
    } else {
      const def = table.next();
      name = def.name;
      if (await callTask(owner, def, user, control)) return TaskEnd.skipWait;
    }
  } catch (error) {
    if (error instanceof RescheduleTask) {
      if (error.immediately) return TaskEnd.skipWait;
    } else if (error instanceof InterruptTaskSet) {
      // interrupt() leaves the TaskSet this loop runs; runTaskSet turns it into a return value.
      if (owner instanceof TaskSet) throw error;
    } else if (error instanceof StopTest) {
      control.onStopTest(error);
      throw error;
    } else if (isUserControlFlow(error)) {
      throw error;
    } else {
      control.events.userError.fire({ user, error: toError(error), task: name });
      return TaskEnd.threw;
    }
  }
  return TaskEnd.ran;
}

/**
 * The loop shared by users and TaskSets. Control-flow exceptions steer it; any other error is
 * reported through `userError` and the loop carries on after the wait, as in Locust.
 */
async function loop(owner: Owner, user: User, control: UserLoopControl): Promise<void> {
  const table = control.plan.table(owner.constructor).fork();
  while (!control.softSignal.aborted) {
    const startedAt = control.now();
    if ((await runOne(owner, user, control, table)) === TaskEnd.skipWait) continue;
    if (!(await waitAfter(owner, user, startedAt, control))) return;
  }
}

/** Runs a nested TaskSet until it interrupts; resolves whether the parent should skip its wait. */
async function runTaskSet(taskSet: TaskSet, user: User, control: UserLoopControl): Promise<boolean> {
  try {
    await taskSet.onStart();
    await loop(taskSet, user, control);
  } catch (error) {
    await taskSet.onStop();
    if (error instanceof InterruptTaskSet) return error.reschedule;
    throw error;
  }
  await taskSet.onStop();
  return false;
}

/**
 * Runs one user until its soft signal aborts, it throws `StopUser`, or `onStart` fails.
 * Never rejects: errors are reported through events and the result says why the user ended.
 */
export function runUser(user: User, control: UserLoopControl): Promise<UserOutcome> {
  // No wrapper frame or closure: 10,000 idle users each hold their suspended frames.
  return runGuarded(user, control, undefined);
}

/** `onStart`, the loop (or the feed's iterations), `onStop`, with the user's end turned into an outcome. */
async function runGuarded(user: User, control: UserLoopControl, feed: IterationFeed | undefined): Promise<UserOutcome> {
  let outcome: UserOutcome = { reason: 'stopped' };
  try {
    await user.onStart();
    await (feed === undefined ? loop(user, user, control) : iterate(user, control, feed));
  } catch (error) {
    if (error instanceof StopUser) outcome = { reason: 'stop-user' };
    else if (!isUserControlFlow(error)) {
      const e = toError(error);
      control.events.userError.fire({ user, error: e, task: 'onStart' });
      outcome = { reason: 'error', error: e };
    }
  }
  try {
    await user.onStop();
  } catch (error) {
    if (!isUserControlFlow(error)) control.events.userError.fire({ user, error: toError(error), task: 'onStop' });
  }
  return outcome;
}

/** One iteration of the open model or of an iteration count, as the executor's statistics record it. */
export interface IterationRecord {
  /** Monotonic ms the iteration was due (the schedule of an arrival rate; the start otherwise). */
  readonly scheduledAt: number;
  readonly startedAt: number;
  readonly endedAt: number;
  /** False when the task threw an error of the script. */
  readonly ok: boolean;
}

/** Where a user of the open model or of an iteration count gets its iterations. */
export interface IterationFeed {
  /**
   * The next iteration's due time (monotonic ms), or null when this user has no more: its loop ends.
   * Must resolve null once `signal` (the user's soft signal) aborts.
   */
  next(signal: AbortSignal): Promise<number | null> | number | null;
  /** Called after each iteration. */
  done(record: IterationRecord): void;
  /** True: the user's `waitTime` runs between its iterations (iteration counts); false: the open model. */
  readonly paced: boolean;
  /** Called once when the user's loop ends (after `onStop`), however it ended. */
  ended?(): void;
}

/**
 * Runs one user of an executor that hands out iterations: `onStart`, then one task per iteration the
 * feed gives, until it gives none or the soft signal aborts; then `onStop`. Never rejects.
 */
export async function runIterations(user: User, control: UserLoopControl, feed: IterationFeed): Promise<UserOutcome> {
  const outcome = await runGuarded(user, control, feed);
  feed.ended?.();
  return outcome;
}

/** One task per iteration the feed gives, until it gives none or the soft signal aborts. */
async function iterate(user: User, control: UserLoopControl, feed: IterationFeed): Promise<void> {
  const table = control.plan.table(user.constructor).fork();
  while (!control.softSignal.aborted) {
    const due = await feed.next(control.softSignal);
    if (due === null) return;
    const startedAt = control.now();
    const end = await runOne(user, user, control, table);
    feed.done({ scheduledAt: due, startedAt, endedAt: control.now(), ok: end !== TaskEnd.threw });
    if (feed.paced && end !== TaskEnd.skipWait && !(await waitAfter(user, user, startedAt, control))) return;
  }
}
