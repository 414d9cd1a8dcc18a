// The scenarios a process hosts (a local run, or a worker's share): started, counted, and stopped together.
import type { Clock, Timers } from '../core/clock.ts';
import type { RunnerControl } from '../core/contracts.ts';
import type { StopTest } from '../core/control-flow.ts';
import type { Environment } from '../core/environment.ts';
import { UsageError } from '../core/errors.ts';
import type { ScenarioCommon, Segment } from '../core/executor.ts';
import type { LoadShape } from '../core/load-shape.ts';
import type { TaskPlan } from '../core/task-plan.ts';
import type { UserClass } from '../core/user.ts';
import { executorOf } from './executors/index.ts';
import { ScenarioRun } from './scenario-run.ts';
import type { StopPlan, StopResult } from './user-pool.ts';

export interface ScenarioSetOptions {
  environment: Environment;
  /** Every user class selected for the run, by name. */
  classes: ReadonlyMap<string, UserClass>;
  plan: TaskPlan;
  clock: Clock;
  timers: Timers;
  equalWeights: boolean;
  onStopTest: (error: StopTest) => void;
  onWait?: StopPlan['onWait'];
  shape?: LoadShape | undefined;
  /** The runner a LoadShape reads (`getCurrentUserCount`). */
  runner: RunnerControl;
  /** A closed-model scenario reached its target. */
  onRampComplete: () => void;
  /** A closed-model scenario that had reached its target moves again. */
  onRampStart?: () => void;
  /** A scenario ended by itself. */
  onScenarioEnded: (name: string) => void;
}

/** The users of one or more scenarios in this process. */
export class ScenarioSet {
  private readonly options: ScenarioSetOptions;
  private readonly runs = new Map<string, ScenarioRun>();
  private readonly ramping = new Set<string>();
  drainMs = 5000;
  private nextUserId = 1;

  constructor(options: ScenarioSetOptions) {
    this.options = options;
  }

  /** Creates and starts a scenario on `segment` (its start time is waited for). */
  add(config: ScenarioCommon, segment: Segment, options: { dispatched?: boolean; classes?: readonly string[]; originShiftMs?: number; key?: string } = {}): ScenarioRun {
    const key = options.key ?? config.name;
    if (this.runs.has(key)) throw new UsageError(`two scenarios are named '${key}'`, 'give each scenario its own name');
    const run = this.create(config);
    this.runs.set(key, run);
    if (executorOf(config).model === 'closed') this.ramping.add(config.name);
    if (options.classes !== undefined) run.setClasses(options.classes);
    if (options.dispatched === true) run.startDispatched();
    else run.start(segment, () => this.options.onScenarioEnded(key), options.originShiftMs ?? 0);
    return run;
  }

  private create(config: ScenarioCommon): ScenarioRun {
    const o = this.options;
    const names = config.userClasses ?? [...o.classes.keys()];
    const classes = new Map<string, UserClass>();
    for (const name of names) {
      const cls = o.classes.get(name);
      if (cls === undefined) throw new UsageError(`scenario '${config.name}': no user class '${name}' in this run`, `classes in this run: ${[...o.classes.keys()].join(', ')}`);
      classes.set(name, cls);
    }
    const run = new ScenarioRun({
      config,
      environment: o.environment,
      classes,
      plan: o.plan,
      clock: o.clock,
      timers: o.timers,
      equalWeights: o.equalWeights,
      onStopTest: o.onStopTest,
      drainMs: this.drainMs,
      newId: () => this.nextUserId++,
      ...(o.onWait ? { onWait: o.onWait } : {}),
      ...(config.executor === 'shape' && o.shape !== undefined ? { shape: { instance: o.shape, runner: o.runner } } : {}),
    });
    run.onRampStart = () => {
      this.ramping.add(config.name);
      o.onRampStart?.();
    };
    run.onRampComplete = () => {
      this.ramping.delete(config.name);
      if (this.ramping.size === 0) o.onRampComplete();
    };
    return run;
  }

  get(name: string): ScenarioRun | undefined {
    return this.runs.get(name);
  }

  get all(): ScenarioRun[] {
    return [...this.runs.values()];
  }

  get size(): number {
    return this.runs.size;
  }

  /** A closed-model scenario got a new target: it is ramping again. */
  rampingAgain(name: string): void {
    this.ramping.add(name);
  }

  get isRamping(): boolean {
    return this.ramping.size > 0;
  }

  get userCount(): number {
    let n = 0;
    for (const run of this.runs.values()) n += run.userCount;
    return n;
  }

  /** The users the closed-model executors ask for, plus the open model's pools as they are. */
  get targetUserCount(): number {
    let n = 0;
    for (const run of this.runs.values()) n += executorOf(run.config).model === 'closed' ? run.goal : run.userCount;
    return n;
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const run of this.runs.values()) for (const [c, n] of Object.entries(run.userClassCounts())) out[c] = (out[c] ?? 0) + n;
    return out;
  }

  /** True when every scenario is over. */
  get allEnded(): boolean {
    return [...this.runs.values()].every((r) => r.phase === 'ended');
  }

  /** Stops every scenario with the run's stop plan; resolves with what was cut and left behind. */
  async stopAll(plan: StopPlan): Promise<StopResult> {
    const results = await Promise.all([...this.runs.values()].map((r) => r.stop(plan)));
    return results.reduce((sum, r) => ({ cut: sum.cut + r.cut, abandoned: sum.abandoned + r.abandoned }), { cut: 0, abandoned: 0 });
  }

  cutNow(): void {
    for (const run of this.runs.values()) run.cutNow();
  }

  clear(): void {
    this.runs.clear();
    this.ramping.clear();
  }
}
