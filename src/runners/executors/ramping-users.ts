// `ramping-users`: the closed model through stages — the user count moves linearly to each stage's target over its duration.
import { wait, type Executor, type ExecutorEnd, type ScenarioCommon, type Segment, type Stage, shareOf } from '../../core/executor.ts';
import { stages, wholeNumber } from './fields.ts';

export interface RampingUsersConfig extends ScenarioCommon {
  readonly executor: 'ramping-users';
  readonly startUsers: number;
  readonly stages: readonly Stage[];
}

export interface RampingUsersPlan {
  readonly startUsers: number;
  readonly stages: readonly Stage[];
}

/** Users at `t` ms into the stages (linear within each stage, rounded down), or undefined past the last stage. */
export function usersAt(plan: RampingUsersPlan, t: number): number | undefined {
  let from = plan.startUsers;
  let start = 0;
  for (const stage of plan.stages) {
    if (t < start + stage.durationMs) return Math.floor(from + ((stage.target - from) * (t - start)) / stage.durationMs);
    start += stage.durationMs;
    from = stage.target;
  }
  return undefined;
}

export const rampingUsersExecutor = {
  name: 'ramping-users',
  model: 'closed',
  fields: ['startUsers', 'stages'],
  parse(raw, common, where): RampingUsersConfig {
    return {
      ...common,
      executor: 'ramping-users',
      startUsers: raw.startUsers === undefined ? 0 : wholeNumber(raw.startUsers, 'startUsers', where),
      stages: stages(raw.stages, where, true),
    };
  },
  plan(config, segment: Segment): RampingUsersPlan {
    return { startUsers: shareOf(config.startUsers, segment), stages: config.stages.map((s) => ({ durationMs: s.durationMs, target: shareOf(s.target, segment) })) };
  },
  async run(host, plan, signal): Promise<ExecutorEnd> {
    // Re-evaluated every 100 ms at most: a stage of 10 users over 10 s changes once a second, 1,000 over 10 s in steps of ≤ 10.
    for (;;) {
      const t = host.clock.now() - host.origin;
      const n = usersAt(plan, t);
      if (n === undefined) {
        host.setUsers(plan.stages[plan.stages.length - 1]?.target ?? 0);
        return { reason: 'done' };
      }
      host.setUsers(n);
      if (!(await wait(host.timers, 100, signal))) return { reason: 'stopped' };
    }
  },
  describe(config) {
    const total = config.stages.reduce((s, st) => s + st.durationMs, 0) / 1000;
    return `${config.stages.length} stages over ${total} s (to ${config.stages.map((s) => s.target).join(' → ')} users)`;
  },
} satisfies Executor<RampingUsersConfig, RampingUsersPlan>;
