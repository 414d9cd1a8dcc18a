// What both iteration-count executors share: budgets of iterations, and the run bounded by `maxDuration`.
import { wait, type ExecutorEnd, type ExecutorHost, type IterationBudget } from '../../core/executor.ts';
import { durationMs, wholeNumber } from './fields.ts';

/** The fields both iteration-count executors take: `users`, `iterations` (≥ 1 each) and `maxDuration` (default 10 min, as k6). */
export interface IterationFields {
  readonly users: number;
  readonly iterations: number;
  readonly maxDurationMs: number;
}

export function iterationFields(raw: Readonly<Record<string, unknown>>, where: string): IterationFields {
  return {
    users: raw.users === undefined ? 1 : wholeNumber(raw.users, 'users', where, 1),
    iterations: raw.iterations === undefined ? 1 : wholeNumber(raw.iterations, 'iterations', where, 1),
    maxDurationMs: raw.maxDuration === undefined ? 10 * 60_000 : durationMs(raw.maxDuration, 'maxDuration', where),
  };
}

/** Iterations shared by every user of the scenario in this process: whoever is free takes the next. */
export class SharedBudget implements IterationBudget {
  private remaining: number;
  constructor(total: number) {
    this.remaining = total;
  }
  take(): boolean {
    if (this.remaining <= 0) return false;
    this.remaining--;
    return true;
  }
  /** More iterations for this process (a re-partition gave it a departed worker's share). */
  add(n: number): void {
    this.remaining += n;
  }
  get left(): number {
    return this.remaining;
  }
}

/** `each` iterations for every one of `users` users. */
export class PerUserBudget implements IterationBudget {
  private readonly remaining: number[];
  constructor(users: number, each: number) {
    this.remaining = Array.from({ length: users }, () => each);
  }
  take(user: number): boolean {
    const n = this.remaining[user] ?? 0;
    if (n <= 0) return false;
    this.remaining[user] = n - 1;
    return true;
  }
  get left(): number {
    return this.remaining.reduce((a, b) => a + b, 0);
  }
}

export interface IterationsPlan {
  readonly users: number;
  readonly iterations: number;
  readonly maxDurationMs: number;
}

/** Runs the users until the budget is spent, or `maxDuration` ends the scenario with iterations not run. */
export async function runBudget(host: ExecutorHost, plan: IterationsPlan, budget: IterationBudget, signal: AbortSignal): Promise<ExecutorEnd> {
  const timeUp = new AbortController();
  const left = host.origin + plan.maxDurationMs - host.clock.now();
  const onAbort = (): void => timeUp.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const deadline = wait(host.timers, left, timeUp.signal);
  const finished = host.runIterationUsers(plan.users, budget).then(() => 'finished' as const);
  const first = await Promise.race([finished, deadline.then((full) => (full ? ('time' as const) : ('stopped' as const)))]);
  timeUp.abort();
  signal.removeEventListener('abort', onAbort);
  if (first === 'finished') return { reason: 'done', notRun: 0 };
  return { reason: first === 'time' ? 'done' : 'stopped', notRun: budget.left };
}
