// `ramping-arrival-rate`: the open model through stages — the arrival rate moves linearly from `startRate` to each stage's target.
import type { Executor, ScenarioCommon, Segment, Stage } from '../../core/executor.ts';
import { poolFields, poolShare, rampedArrivalTime, runArrivals, type ArrivalPlan, type PoolFields } from './arrivals.ts';
import { positiveNumber, stages } from './fields.ts';

export interface RampingArrivalRateConfig extends ScenarioCommon, PoolFields {
  readonly executor: 'ramping-arrival-rate';
  /** Iterations per time unit at the start. */
  readonly startRate: number;
  /** Targets are iterations per time unit. */
  readonly stages: readonly Stage[];
}

export const rampingArrivalRateExecutor = {
  name: 'ramping-arrival-rate',
  model: 'open',
  fields: ['startRate', 'timeUnit', 'stages', 'preAllocatedUsers', 'maxUsers'],
  parse(raw, common, where): RampingArrivalRateConfig {
    const startRate = raw.startRate === undefined ? 0 : positiveNumber(raw.startRate, 'startRate', where, { allowZero: true });
    const list = stages(raw.stages, where, false);
    const peak = Math.max(startRate, ...list.map((s) => s.target));
    return { ...common, executor: 'ramping-arrival-rate', startRate, stages: list, ...poolFields(raw, where, Math.max(peak, Number.MIN_VALUE)) };
  },
  plan(config, segment: Segment): ArrivalPlan {
    const perMs = (rate: number): number => rate / config.timeUnitMs;
    const stagesPerMs = config.stages.map((s) => ({ durationMs: s.durationMs, target: perMs(s.target) }));
    const start = perMs(config.startRate);
    return {
      timeOf: (i) => rampedArrivalTime(start, stagesPerMs, i),
      endMs: config.stages.reduce((sum, s) => sum + s.durationMs, 0),
      segment,
      ...poolShare(config, segment),
    };
  },
  run: runArrivals,
  describe(config) {
    const unit = config.timeUnitMs / 1000;
    return `arrival rate ${[config.startRate, ...config.stages.map((s) => s.target)].join(' → ')} per ${unit} s over ${config.stages.length} stages`;
  },
} satisfies Executor<RampingArrivalRateConfig, ArrivalPlan>;
