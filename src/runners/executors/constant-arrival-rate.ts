// `constant-arrival-rate`: the open model — `rate` iterations per `timeUnit` for `duration`, however slow the target gets.
import type { Executor, ScenarioCommon, Segment } from '../../core/executor.ts';
import { poolFields, poolShare, rateField, runArrivals, type ArrivalPlan, type PoolFields } from './arrivals.ts';
import { durationMs } from './fields.ts';

export interface ConstantArrivalRateConfig extends ScenarioCommon, PoolFields {
  readonly executor: 'constant-arrival-rate';
  /** Iterations per time unit. */
  readonly rate: number;
  readonly durationMs: number;
}

export const constantArrivalRateExecutor = {
  name: 'constant-arrival-rate',
  model: 'open',
  fields: ['rate', 'timeUnit', 'duration', 'preAllocatedUsers', 'maxUsers'],
  parse(raw, common, where): ConstantArrivalRateConfig {
    const rate = rateField(raw.rate, 'rate', where);
    return { ...common, executor: 'constant-arrival-rate', rate, durationMs: durationMs(raw.duration, 'duration', where), ...poolFields(raw, where, rate) };
  },
  plan(config, segment: Segment): ArrivalPlan {
    const gap = config.timeUnitMs / config.rate;
    const { durationMs: end } = config;
    return {
      timeOf: (i) => {
        const t = i * gap;
        return t < end ? t : undefined;
      },
      endMs: end,
      segment,
      ...poolShare(config, segment),
    };
  },
  run: runArrivals,
  describe(config) {
    return `${config.rate} iterations per ${config.timeUnitMs / 1000} s for ${config.durationMs / 1000} s (users ${config.preAllocatedUsers} → at most ${config.maxUsers})`;
  },
} satisfies Executor<ConstantArrivalRateConfig, ArrivalPlan>;
