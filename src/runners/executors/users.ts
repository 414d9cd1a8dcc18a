// `users`: today's closed model — ramp to N users at R users/s (one at once, then R per second), optionally for a duration.
import { wait, type Executor, type ExecutorEnd, type ExecutorHost, type ScenarioCommon, type Segment, shareOf } from '../../core/executor.ts';
import { rampPosition, rampStepMs } from '../ramp.ts';
import { durationMs, positiveNumber, wholeNumber } from './fields.ts';

export interface UsersConfig extends ScenarioCommon {
  readonly executor: 'users';
  readonly users: number;
  /** Users started (or stopped) per second. */
  readonly spawnRate: number;
  /** Ends the scenario this long after its start; absent: runs until the run stops. */
  readonly durationMs?: number;
}

export interface UsersPlan {
  readonly users: number;
  readonly spawnRate: number;
  readonly durationMs?: number;
}

export const usersExecutor = {
  name: 'users',
  model: 'closed',
  fields: ['users', 'spawnRate', 'duration'],
  parse(raw, common, where): UsersConfig {
    const users = raw.users === undefined ? 1 : wholeNumber(raw.users, 'users', where);
    return {
      ...common,
      executor: 'users',
      users,
      spawnRate: raw.spawnRate === undefined ? Math.max(1, users) : positiveNumber(raw.spawnRate, 'spawnRate', where),
      ...(raw.duration !== undefined ? { durationMs: durationMs(raw.duration, 'duration', where) } : {}),
    };
  },
  plan(config, segment: Segment): UsersPlan {
    // Closed-model scenarios are dispatched by the master (±1 per class); a segment still gets its exact share.
    const users = shareOf(config.users, segment);
    return { users, spawnRate: (config.spawnRate * users) / Math.max(1, config.users), ...(config.durationMs !== undefined ? { durationMs: config.durationMs } : {}) };
  },
  async run(host, plan, signal): Promise<ExecutorEnd> {
    if (!(await rampUsers(host, host.userCount, plan.users, plan.spawnRate, signal))) return { reason: 'stopped' };
    host.rampComplete();
    if (plan.durationMs === undefined) {
      await wait(host.timers, Number.POSITIVE_INFINITY, signal);
      return { reason: 'stopped' };
    }
    const left = host.origin + plan.durationMs - host.clock.now();
    return (await wait(host.timers, left, signal)) ? { reason: 'done' } : { reason: 'stopped' };
  },
  describe(config) {
    return `${config.users} users at ${config.spawnRate}/s${config.durationMs !== undefined ? ` for ${config.durationMs / 1000} s` : ''}`;
  },
} satisfies Executor<UsersConfig, UsersPlan>;

/**
 * Moves the host from `from` to `to` users at `rate` users/s: the n-th change happens at (n−1)/rate s
 * (the first at once). Resolves false when `signal` aborted first.
 */
export async function rampUsers(host: ExecutorHost, from: number, to: number, rate: number, signal: AbortSignal): Promise<boolean> {
  const ramp = { from, to, rate, startedAt: host.clock.now() };
  const step = rampStepMs(rate);
  for (;;) {
    const n = rampPosition(ramp, host.clock.now());
    host.setUsers(n);
    if (n === to) return true;
    if (!(await wait(host.timers, step, signal))) return false;
  }
}
