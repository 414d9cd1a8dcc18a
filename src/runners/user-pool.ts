// The live users of one process: spawn and retire them per class, newest first, and stop them in bounded time.
import { settlesWithin, systemTimers, type Timers } from '../core/clock.ts';
import type { Environment } from '../core/environment.ts';
import type { Events } from '../core/events.ts';
import type { StopTest } from '../core/control-flow.ts';
import { InFlight } from '../core/in-flight.ts';
import type { TaskPlan } from '../core/task-plan.ts';
import { runIterations, runUser, type IterationFeed, type UserOutcome } from '../core/user-loop.ts';
import type { User, UserClass } from '../core/user.ts';

/**
 * One user's stop, in the order a stop applies it (DESIGN.md §3 "Users"): `soft` no new task,
 * `hard` no new request, then `user.cancelInFlight()` cuts the requests still on the wire.
 */
interface UserHandle {
  readonly user: User | undefined;
  readonly className: string;
  readonly soft: AbortController;
  readonly hard: AbortController;
  done: Promise<void>;
}

export interface UserPoolOptions {
  environment: Environment;
  classes: ReadonlyMap<string, UserClass>;
  plan: TaskPlan;
  now: () => number;
  onStopTest: (error: StopTest) => void;
  timers?: Timers;
  /**
   * Users of an executor that hands out iterations (the open model, iteration counts) run one task per
   * iteration from their feed; `index` numbers the pool's users from 0 in spawn order. Absent: users loop.
   */
  feed?: (index: number) => IterationFeed;
  /** The scenario the pool's users run in (put on their request events). */
  scenario?: string;
  /** Users of an arrival rate: their wait times are not used (see UserContext.openModel). */
  openModel?: boolean;
  /** Numbers users process-wide when several pools (scenarios) share a process; default: per pool, from 1. */
  newId?: () => number;
}

/** How a stop unfolds: running tasks go on for `stopTimeoutMs`, then requests in flight get `drainMs`, then are cut. */
export interface StopPlan {
  /** Ms running tasks may go on after the stop (`-s/--stop-timeout`); 0: no new request from now. */
  stopTimeoutMs: number;
  /** Ms the requests still in flight get after that (`--drain-timeout`); then they are cut, recorded as `cancelled at stop`. */
  drainMs: number;
  /** Called when the stop starts waiting: what it waits for and how long at most. */
  onWait?: (wait: StopWait) => void;
}

/** What a stop is waiting for, for the console line that says so. */
export interface StopWait {
  phase: 'tasks' | 'requests';
  ms: number;
  /** Requests on the wire now. */
  inFlight: number;
  /** Users not yet ended. */
  users: number;
}

export interface StopResult {
  /** Requests cut when the drain time ran out (or `cutNow()` was called). */
  cut: number;
  /** Users still not ended a moment after their requests were cut (busy in code that ignores the stop). */
  abandoned: number;
}

/** After the cut, how long users get to record their cut requests and run `onStop`. */
const AFTER_CUT_MS = 1000;

/** Users of one class that ended by themselves (`StopUser`, a failed `onStart`): not re-spawned by the ramp. */
interface SelfEnded {
  stopUser: number;
  failed: number;
  lastError: Error | undefined;
  warned: boolean;
}

/**
 * Holds users per class in spawn order. Retiring a user aborts its soft signal (no new task), then
 * its hard signal after the stop timeout (no new request), then its cancel signal after the drain
 * time (requests on the wire are cut): no stop waits longer than stop timeout + drain.
 */
export class UserPool {
  /** Requests on the wire in this process, counted by the protocol clients. */
  readonly inFlight = new InFlight();
  private readonly byClass = new Map<string, UserHandle[]>();
  private readonly retiring = new Set<UserHandle>();
  private readonly selfEnded = new Map<string, SelfEnded>();
  private nextId = 1;
  private spawned = 0;
  private alive = 0;
  private emptyWaiters: (() => void)[] = [];
  private readonly options: UserPoolOptions;
  private readonly events: Events;
  private readonly timers: Timers;
  private cutting: AbortController | undefined;
  /** True once the ramp reached its target: only then does "every user of a class has stopped" mean it. */
  private settled = false;

  constructor(options: UserPoolOptions) {
    this.options = options;
    this.events = options.environment.events;
    this.timers = options.timers ?? systemTimers;
  }

  get count(): number {
    return this.alive;
  }

  countOf(className: string): number {
    return this.byClass.get(className)?.length ?? 0;
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, list] of this.byClass) if (list.length > 0) out[name] = list.length;
    return out;
  }

  /**
   * Spawns or retires users so each class has `target[class]` users (absent = 0). Users that ended
   * by themselves keep their place: a ramp does not re-spawn a user that threw `StopUser`.
   */
  reconcile(target: Readonly<Record<string, number>>, plan: StopPlan): void {
    this.settled = false;
    for (const name of this.byClass.keys()) if (!(name in target)) this.retire(name, this.countOf(name), plan);
    for (const [name, want] of Object.entries(target)) {
      const ended = this.selfEnded.get(name);
      let have = this.countOf(name) + (ended ? ended.stopUser + ended.failed : 0);
      if (want > have) for (; have < want; have++) this.spawn(name);
      else if (want < have) {
        let excess = have - want;
        if (ended) {
          // Places of users that are gone already go first.
          const fromStopped = Math.min(excess, ended.stopUser);
          ended.stopUser -= fromStopped;
          const fromFailed = Math.min(excess - fromStopped, ended.failed);
          ended.failed -= fromFailed;
          excess -= fromStopped + fromFailed;
        }
        this.retire(name, excess, plan);
      }
    }
  }

  private spawn(className: string): void {
    const cls = this.options.classes.get(className);
    if (!cls) return;
    const soft = new AbortController();
    const hard = new AbortController();
    const id = this.options.newId?.() ?? this.nextId++;
    let user: User | undefined;
    try {
      user = new cls({
        environment: this.options.environment, signal: hard.signal, inFlight: this.inFlight, id,
        ...(this.options.scenario !== undefined ? { scenario: this.options.scenario } : {}),
        ...(this.options.openModel === true ? { openModel: true } : {}),
      });
    } catch (error) {
      this.events.userError.fire({ user: {}, error: toError(error), task: `${className} constructor` });
      return;
    }
    const handle: UserHandle = { user, className, soft, hard, done: Promise.resolve() };
    const list = this.byClass.get(className) ?? [];
    list.push(handle);
    this.byClass.set(className, list);
    this.alive++;
    handle.done = this.drive(handle, user);
  }

  private async drive(handle: UserHandle, user: User): Promise<void> {
    const control = { softSignal: handle.soft.signal, events: this.events, plan: this.options.plan, now: this.options.now, onStopTest: this.options.onStopTest, timers: this.timers };
    const feed = this.options.feed?.(this.spawned++);
    const outcome = await (feed !== undefined ? runIterations(user, control, feed) : runUser(user, control));
    const endedByItself = outcome.reason !== 'stopped' && !handle.soft.signal.aborted;
    this.forget(handle);
    if (endedByItself) this.noteSelfEnded(handle.className, outcome);
    try {
      await (user as { close?: () => Promise<void> | void }).close?.();
    } catch (error) {
      this.options.environment.logger.debug(`closing user ${user.id}: ${String(error)}`);
    }
    if (this.alive === 0 && this.retiring.size === 0) for (const wake of this.emptyWaiters.splice(0)) wake();
  }

  /** Resolves once no user is left (every one ended by itself or was retired), at once when none is. */
  whenEmpty(): Promise<void> {
    if (this.alive === 0 && this.retiring.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Counts a user that ended by itself, and warns once when no user of its class is left. */
  private noteSelfEnded(className: string, outcome: UserOutcome): void {
    const ended = this.selfEnded.get(className) ?? { stopUser: 0, failed: 0, lastError: undefined, warned: false };
    this.selfEnded.set(className, ended);
    if (outcome.reason === 'stop-user') ended.stopUser++;
    else {
      ended.failed++;
      ended.lastError = outcome.error;
    }
    if (this.settled) this.warnIfEnded(className, ended);
  }

  /** The ramp reached its target (a worker: the master's counts are applied): warn about classes with no user left. */
  rampComplete(): void {
    this.settled = true;
    for (const [className, ended] of this.selfEnded) this.warnIfEnded(className, ended);
  }

  private warnIfEnded(className: string, ended: SelfEnded): void {
    if (this.countOf(className) > 0 || ended.warned || ended.stopUser + ended.failed === 0) return;
    ended.warned = true;
    const why: string[] = [];
    if (ended.stopUser > 0) why.push(`${ended.stopUser} threw StopUser`);
    if (ended.failed > 0) why.push(`${ended.failed} failed in onStart (${describe(ended.lastError)})`);
    const total = ended.stopUser + ended.failed;
    const rest = this.alive > 0 ? `; ${this.alive} users of other classes go on` : '; no user is running any more: fix the cicadafile, or stop the run (Ctrl+C)';
    this.options.environment.logger.warning(`all ${total} users of ${className} have stopped: ${why.join(', ')}. They are not re-spawned${rest}`);
  }

  private forget(handle: UserHandle): void {
    const list = this.byClass.get(handle.className);
    const index = list?.indexOf(handle) ?? -1;
    if (list && index >= 0) {
      list.splice(index, 1);
      this.alive--;
    }
    this.retiring.delete(handle);
  }

  /** Retires the newest `n` users of a class: no new task now, no new request after the stop timeout, cut after the drain. */
  private retire(className: string, n: number, plan: StopPlan): void {
    if (n <= 0) return;
    const list = this.byClass.get(className) ?? [];
    const victims = list.splice(Math.max(0, list.length - n), n);
    this.alive -= victims.length;
    for (const handle of victims) {
      this.retiring.add(handle);
      handle.soft.abort();
      const timers = this.timers;
      const hardTimer = plan.stopTimeoutMs > 0 ? timers.setTimeout(() => handle.hard.abort(), plan.stopTimeoutMs) : (handle.hard.abort(), undefined);
      const cancelTimer = timers.setTimeout(() => cut(handle), plan.stopTimeoutMs + plan.drainMs);
      void handle.done.finally(() => {
        timers.clearTimeout(hardTimer);
        timers.clearTimeout(cancelTimer);
      });
    }
  }

  /**
   * Stops every user: no new task now; running tasks go on for the stop timeout; then no new
   * request, and the requests in flight get the drain time; then they are cut (recorded as
   * `cancelled at stop`). `cutNow()` skips the waits. Resolves within stop timeout + drain + 1 s.
   */
  async stopAll(plan: StopPlan): Promise<StopResult> {
    const cutting = new AbortController();
    this.cutting = cutting;
    const handles = [...this.retiring, ...[...this.byClass.values()].flat()];
    for (const h of handles) h.soft.abort();
    let settled = false;
    const all = Promise.all(handles.map((h) => h.done)).then(() => { settled = true; });
    // Users that were only waiting end at the soft signal: let them, so the console speaks only of real waits.
    await nextTurn();
    let finished = settled;
    if (!finished && plan.stopTimeoutMs > 0) {
      plan.onWait?.({ phase: 'tasks', ms: plan.stopTimeoutMs, inFlight: this.inFlight.count, users: this.alive + this.retiring.size });
      finished = await settlesWithin(all, plan.stopTimeoutMs, this.timers, cutting.signal);
    }
    for (const h of handles) h.hard.abort();
    if (!finished) {
      await nextTurn();
      finished = settled;
    }
    if (!finished && plan.drainMs > 0) {
      plan.onWait?.({ phase: 'requests', ms: plan.drainMs, inFlight: this.inFlight.count, users: this.alive + this.retiring.size });
      finished = await settlesWithin(all, plan.drainMs, this.timers, cutting.signal);
    }
    let cutCount = 0;
    let abandoned = 0;
    if (!finished) {
      cutCount = this.inFlight.count;
      for (const h of handles) cut(h);
      if (!(await settlesWithin(all, AFTER_CUT_MS, this.timers))) abandoned = this.alive + this.retiring.size;
    }
    this.byClass.clear();
    this.retiring.clear();
    this.selfEnded.clear();
    this.alive = 0;
    this.cutting = undefined;
    for (const wake of this.emptyWaiters.splice(0)) wake();
    return { cut: cutCount, abandoned };
  }

  /** Ends the waits of a stop under way (a second Ctrl+C): requests on the wire are cut at once. */
  cutNow(): void {
    this.cutting?.abort();
  }

  /** True while `stopAll` is waiting. */
  get isStopping(): boolean {
    return this.cutting !== undefined;
  }
}

/** Cuts a user's requests on the wire; a user's own `cancelInFlight` that throws must not stop the others'. */
function cut(handle: UserHandle): void {
  try {
    handle.user?.cancelInFlight();
  } catch {
    // Its requests then run to their own timeout; the stop does not wait for them.
  }
}

/** One turn of the event loop (not a timer: it decides no outcome, it lets settled work finish). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function describe(error: Error | undefined): string {
  if (error === undefined) return 'no error';
  return `${error.name}: ${error.message}`;
}

/** The console line for a stop that waits, e.g. `stopping: waiting up to 5 s for 3 requests in flight (Ctrl+C to cut them now)`. */
export function describeStopWait(wait: StopWait, hint = 'Ctrl+C to cut them now'): string {
  const seconds = `${Math.round(wait.ms / 100) / 10} s`;
  if (wait.phase === 'tasks') {
    return `stopping: running tasks may go on for up to ${seconds} (-s/--stop-timeout; ${wait.users} users busy, ${wait.inFlight} requests in flight; ${hint})`;
  }
  const what = wait.inFlight > 0 ? `${wait.inFlight} ${wait.inFlight === 1 ? 'request' : 'requests'} in flight` : `${wait.users} ${wait.users === 1 ? 'user' : 'users'} to finish`;
  return `stopping: waiting up to ${seconds} for ${what} (${hint})`;
}
