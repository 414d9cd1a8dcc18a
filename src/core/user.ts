// User and TaskSet base classes: what a cicadafile extends. The loop that drives them is in user-loop.ts.
import { InterruptTaskSet, StopUser } from './control-flow.ts';
import type { Environment } from './environment.ts';
import type { InFlight } from './in-flight.ts';
import type { TaskSpec } from './tasks.ts';
import { constant, type WaitTime } from './wait-time.ts';

/** What the runner hands every user it creates. */
export interface UserContext {
  readonly environment: Environment;
  /** Aborts when the run stops hard: no new request may start after it. */
  readonly signal: AbortSignal;
  /** The process's count of requests on the wire, kept by protocol clients. */
  readonly inFlight?: InFlight;
  /** A process-unique user number, from 1. */
  readonly id: number;
  /** The scenario the user runs in (default: `default`). */
  readonly scenario?: string;
  /** True when an arrival rate hands the user its iterations: its `waitTime` is not used (nor its pacing). */
  readonly openModel?: boolean;
}

/**
 * A simulated user: an async loop that picks a task by weight, runs it, waits `waitTime`, repeats.
 * Extend `HttpUser` for HTTP; extend `User` directly for other protocols (fire `events.request`
 * yourself). Mark a base class `static abstract = true` so it is not run on its own.
 * @example
 * ```ts
 * export class Reader extends User {
 *   static weight = 2;
 *   waitTime = between(1, 3);
 *   @task async read() { await doSomething(); }
 * }
 * ```
 */
export abstract class User {
  /** Relative share of users of this class (ignored when `fixedCount` is set). */
  static weight = 1;
  /** Exactly this many users of the class, spawned before the weighted ones. 0 = use `weight`. */
  static fixedCount = 0;
  /** Base URL used when `-H/--host` is not given. */
  static host: string | undefined = undefined;
  /** Decorator-free task declaration, e.g. `{ browse: 5, buy: 1 }`. */
  static tasks: TaskSpec | undefined = undefined;
  /** A class that is only a base for others; not run. Not inherited: set it on each base class. */
  static abstract = false;

  /** Seconds to wait after each task. Default: no wait. */
  waitTime: WaitTime = constant(0);
  readonly environment: Environment;
  /** Aborts when the run stops; pass it to your own async work so it stops too. */
  readonly signal: AbortSignal;
  readonly id: number;
  /** The scenario this user runs in; a custom protocol puts it on its request events (`scenario: this.scenario`). */
  readonly scenario: string;

  constructor(context: UserContext) {
    this.environment = context.environment;
    this.signal = context.signal;
    this.id = context.id;
    this.scenario = context.scenario ?? 'default';
  }

  /** Called once when the user starts, before its first task. */
  onStart(): Promise<void> | void {}

  /** Called once when the user stops (run stopped, `StopUser`, or the class shrank). */
  onStop(): Promise<void> | void {}

  /** Extra context merged into every request event this user fires. */
  context(): Record<string, unknown> | undefined {
    return undefined;
  }

  /**
   * Called by the runner when the stop's drain time ran out (or on a second Ctrl+C): end every
   * request this user still has on the wire at once, recording each as failed `cancelled at stop`.
   * HttpUser does it for its client; a user of another protocol overrides it.
   * @example
   * ```ts
   * override cancelInFlight() { this.socket?.destroy(new CancelledAtStop()); }
   * ```
   */
  cancelInFlight(): void {}

  /** Stops this user for good, from inside a task. */
  stop(): never {
    throw new StopUser();
  }
}

/** The concrete constructor type of a user class. */
export type UserClass = (new (context: UserContext) => User) & typeof User;

/** The client type of a user, when it has one (`HttpUser` → `HttpClient`). */
export type ClientOf<U> = U extends { client: infer C } ? C : unknown;

/**
 * A group of tasks a user enters and stays in until a task calls `this.interrupt()`. TaskSets
 * nest: a TaskSet can list other TaskSets as tasks.
 * @example
 * ```ts
 * class Browse extends TaskSet<Shopper> {
 *   @task(3) async list() { await this.client.get('/items'); }
 *   @task async leave() { this.interrupt(); }
 * }
 * export class Shopper extends HttpUser { static tasks = [Browse]; }
 * ```
 */
export class TaskSet<U extends User = User> {
  static tasks: TaskSpec | undefined = undefined;
  /** Seconds to wait after each task; falls back to the user's. */
  waitTime: WaitTime | undefined = undefined;
  readonly user: U;
  readonly parent: User | TaskSet;
  /** @internal Tasks queued by `scheduleTask`, run before picking by weight. */
  readonly queue: (string | ((this: this) => unknown))[] = [];

  constructor(parent: User | TaskSet) {
    this.parent = parent;
    this.user = (parent instanceof TaskSet ? parent.user : parent) as U;
  }

  /** The user's client (e.g. the `HttpClient` of an `HttpUser`). */
  get client(): ClientOf<U> {
    return (this.user as unknown as { client: ClientOf<U> }).client;
  }

  /** Aborts when the run stops. */
  get signal(): AbortSignal {
    return this.user.signal;
  }

  onStart(): Promise<void> | void {}
  onStop(): Promise<void> | void {}

  /**
   * Leaves this TaskSet and returns to the parent. With `reschedule` (default) the parent picks
   * its next task at once; without it the parent waits first.
   */
  interrupt(reschedule = true): never {
    throw new InterruptTaskSet(reschedule);
  }

  /** Queues a task (a method name or function) to run next; `first` puts it at the front. */
  scheduleTask(taskToRun: string | ((this: this) => unknown), first = false): void {
    if (first) this.queue.unshift(taskToRun);
    else this.queue.push(taskToRun);
  }
}

/**
 * A TaskSet whose tasks run in declaration order, cyclically (a task with weight n runs n times in a row).
 * @example
 * ```ts
 * class Checkout extends SequentialTaskSet<Shopper> {
 *   @task async cart() { await this.client.get('/cart'); }
 *   @task async pay() { await this.client.post('/pay'); }
 *   @task async done() { this.interrupt(); }
 * }
 * ```
 */
export class SequentialTaskSet<U extends User = User> extends TaskSet<U> {}

export type TaskSetConstructor = (new (parent: User | TaskSet) => TaskSet) & typeof TaskSet;

export function isTaskSetClass(value: unknown): value is TaskSetConstructor {
  return typeof value === 'function' && (value === TaskSet || value.prototype instanceof TaskSet);
}

export function isUserClass(value: unknown): value is UserClass {
  return typeof value === 'function' && value.prototype instanceof User;
}

/** True when the class itself (not a parent) sets `static abstract = true`. */
export function isAbstractUserClass(cls: UserClass): boolean {
  return Object.hasOwn(cls, 'abstract') && cls.abstract;
}
