// `shape`: a cicadafile's LoadShape sets the user count and spawn rate each second; `null` ends the scenario.
import { wait, type Executor, type ExecutorEnd, type ScenarioCommon } from '../../core/executor.ts';
import type { ShapeTick } from '../../core/load-shape.ts';
import { rampPosition, rampStepMs, type Ramp } from '../ramp.ts';

export interface ShapeConfig extends ScenarioCommon {
  readonly executor: 'shape';
  /** The LoadShape class's name (the cicadafile has one). */
  readonly shape?: string;
  /** How often `tick()` is called, ms (default 1000; the runner's tick in tests). */
  readonly tickMs?: number;
}

export interface ShapePlan {
  /** How often `tick()` is called, ms. */
  readonly tickMs: number;
}

export const shapeExecutor = {
  name: 'shape',
  model: 'closed',
  fields: ['shape'],
  parse(raw, common): ShapeConfig {
    return { ...common, executor: 'shape', ...(typeof raw.shape === 'string' ? { shape: raw.shape } : {}) };
  },
  plan(config): ShapePlan {
    return { tickMs: config.tickMs ?? 1000 };
  },
  async run(host, plan, signal): Promise<ExecutorEnd> {
    const shape = host.shape;
    if (shape === undefined) throw new Error('a shape scenario needs a LoadShape');
    shape.instance.attach(shape.runner, () => host.clock.now());
    let last = '';
    let ramp: Ramp | undefined;
    let nextTick = host.clock.now();
    for (;;) {
      const now = host.clock.now();
      if (now >= nextTick) {
        nextTick = now + plan.tickMs;
        let tick: ShapeTick | null;
        try {
          tick = shape.instance.tick();
        } catch (error) {
          host.logger.error(`LoadShape.tick() threw: ${String(error)}; stopping the test`);
          return { reason: 'done' };
        }
        if (tick === null) return { reason: 'done' };
        const key = JSON.stringify(tick);
        if (key !== last) {
          last = key;
          if (tick.userClasses !== undefined) host.setClasses(tick.userClasses);
          ramp = { from: host.userCount, to: tick.users, rate: tick.spawnRate, startedAt: now };
        }
      }
      let step = nextTick - now;
      if (ramp !== undefined) {
        const n = rampPosition(ramp, now);
        host.setUsers(n);
        if (n === ramp.to) {
          ramp = undefined;
          host.rampComplete();
        } else step = Math.min(step, rampStepMs(ramp.rate));
      }
      if (!(await wait(host.timers, step, signal))) return { reason: 'stopped' };
    }
  },
  describe(config) {
    return `LoadShape${config.shape !== undefined ? ` ${config.shape}` : ''}`;
  },
} satisfies Executor<ShapeConfig, ShapePlan>;
