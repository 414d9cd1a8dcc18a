// The live users of one process: spawn and retire them per class, newest first, and await their end.
import type { Environment } from '../core/environment.ts';
import type { Events } from '../core/events.ts';
import { StopTest } from '../core/control-flow.ts';
import type { TaskPlan } from '../core/task-plan.ts';
import { runUser } from '../core/user-loop.ts';
import type { User, UserClass } from '../core/user.ts';

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
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * Holds users per class in spawn order. Retiring a user aborts its soft signal (no new task);
 * `stopAll` can later abort the hard signal (no new request) so in-flight requests still finish.
 */
export class UserPool {
  private readonly byClass = new Map<string, UserHandle[]>();
  private readonly retiring = new Set<UserHandle>();
  private nextId = 1;
  private alive = 0;
  private readonly options: UserPoolOptions;
  private readonly events: Events;

  constructor(options: UserPoolOptions) {
    this.options = options;
    this.events = options.environment.events;
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

  /** Spawns or retires users so each class has exactly `target[class]` users (absent = 0). */
  reconcile(target: Readonly<Record<string, number>>, hardStopAfterMs: number): void {
    for (const name of this.byClass.keys()) if (!(name in target)) this.retire(name, this.countOf(name), hardStopAfterMs);
    for (const [name, want] of Object.entries(target)) {
      const have = this.countOf(name);
      if (want > have) for (let i = have; i < want; i++) this.spawn(name);
      else if (want < have) this.retire(name, have - want, hardStopAfterMs);
    }
  }

  private spawn(className: string): void {
    const cls = this.options.classes.get(className);
    if (!cls) return;
    const soft = new AbortController();
    const hard = new AbortController();
    const id = this.nextId++;
    let user: User | undefined;
    try {
      user = new cls({ environment: this.options.environment, signal: hard.signal, id });
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
    await runUser(user, {
      softSignal: handle.soft.signal,
      events: this.events,
      plan: this.options.plan,
      now: this.options.now,
      onStopTest: this.options.onStopTest,
    });
    this.forget(handle);
    try {
      await (user as { close?: () => Promise<void> | void }).close?.();
    } catch (error) {
      this.options.environment.logger.debug(`closing user ${user.id}: ${String(error)}`);
    }
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

  /** Retires the newest `n` users of a class: no new task now, no new request after `hardStopAfterMs`. */
  private retire(className: string, n: number, hardStopAfterMs: number): void {
    const list = this.byClass.get(className) ?? [];
    const victims = list.splice(Math.max(0, list.length - n), n);
    this.alive -= victims.length;
    for (const handle of victims) {
      this.retiring.add(handle);
      handle.soft.abort();
      if (hardStopAfterMs <= 0) handle.hard.abort();
      else {
        const timer = setTimeout(() => handle.hard.abort(), hardStopAfterMs);
        void handle.done.finally(() => clearTimeout(timer));
      }
    }
  }

  /**
   * Stops every user: soft now, hard after `stopTimeoutMs` (0 = at once). Resolves when all users
   * ended, or after `graceMs` more for requests still in flight.
   */
  async stopAll(stopTimeoutMs: number, graceMs: number): Promise<{ abandoned: number }> {
    const handles = [...this.retiring, ...[...this.byClass.values()].flat()];
    for (const h of handles) h.soft.abort();
    const all = Promise.all(handles.map((h) => h.done));
    if (stopTimeoutMs > 0) await raceTimeout(all, stopTimeoutMs);
    for (const h of handles) h.hard.abort();
    const finished = await raceTimeout(all, graceMs);
    const abandoned = finished ? 0 : this.alive + this.retiring.size;
    this.byClass.clear();
    this.retiring.clear();
    this.alive = 0;
    return { abandoned };
  }
}

/** Resolves true when `promise` settles within `ms`, false otherwise; leaves no timer behind. */
async function raceTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
