// `per-user-iterations`: each of `users` users runs exactly `iterations` iterations, within `maxDuration`.
import { shareOf, type Executor, type ScenarioCommon, type Segment } from '../../core/executor.ts';
import { iterationFields, PerUserBudget, runBudget, type IterationsPlan } from './iterations.ts';

export interface PerUserIterationsConfig extends ScenarioCommon {
  readonly executor: 'per-user-iterations';
  readonly users: number;
  /** Iterations of each user. */
  readonly iterations: number;
  readonly maxDurationMs: number;
}

export const perUserIterationsExecutor = {
  name: 'per-user-iterations',
  model: 'iterations',
  fields: ['users', 'iterations', 'maxDuration'],
  parse(raw, common, where): PerUserIterationsConfig {
    return {
      ...common,
      executor: 'per-user-iterations',
      ...iterationFields(raw, where),
    };
  },
  plan(config, segment: Segment): IterationsPlan {
    const users = shareOf(config.users, segment);
    return { users, iterations: config.iterations, maxDurationMs: config.maxDurationMs };
  },
  run(host, plan, signal) {
    return runBudget(host, plan, new PerUserBudget(plan.users, plan.iterations), signal);
  },
  describe(config) {
    return `${config.iterations} iterations for each of ${config.users} users (at most ${config.maxDurationMs / 1000} s)`;
  },
} satisfies Executor<PerUserIterationsConfig, IterationsPlan>;
