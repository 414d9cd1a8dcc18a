// `shared-iterations`: exactly `iterations` iterations in all, shared by `users` looping users, within `maxDuration`.
import { shareOf, type Executor, type ScenarioCommon, type Segment } from '../../core/executor.ts';
import { iterationFields, runBudget, SharedBudget, type IterationsPlan } from './iterations.ts';

export interface SharedIterationsConfig extends ScenarioCommon {
  readonly executor: 'shared-iterations';
  readonly users: number;
  /** Iterations in all, over every user (and every worker). */
  readonly iterations: number;
  readonly maxDurationMs: number;
}

export const sharedIterationsExecutor = {
  name: 'shared-iterations',
  model: 'iterations',
  fields: ['users', 'iterations', 'maxDuration'],
  parse(raw, common, where): SharedIterationsConfig {
    return {
      ...common,
      executor: 'shared-iterations',
      ...iterationFields(raw, where),
    };
  },
  plan(config, segment: Segment): IterationsPlan {
    const iterations = shareOf(config.iterations, segment);
    // Each share gets its users; a share with iterations but no user of its own still gets one.
    const users = iterations === 0 ? 0 : Math.min(iterations, Math.max(1, shareOf(config.users, segment)));
    return { users, iterations, maxDurationMs: config.maxDurationMs };
  },
  run(host, plan, signal) {
    return runBudget(host, plan, new SharedBudget(plan.iterations), signal);
  },
  describe(config) {
    return `${config.iterations} iterations shared by ${config.users} users (at most ${config.maxDurationMs / 1000} s)`;
  },
} satisfies Executor<SharedIterationsConfig, IterationsPlan>;
