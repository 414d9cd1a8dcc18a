// The master's open-model and iteration-count scenarios: each worker runs an exact, striped share (k6's execution segments).
import type { Clock } from '../core/clock.ts';
import { shareOf, WHOLE, type ScenarioCommon, type Segment } from '../core/executor.ts';
import type { Logger } from '../core/logger.ts';
import type { ClusterStats } from '../stats/cluster-stats.ts';
import { executorOf } from './executors/index.ts';
import type { MasterMessage } from './messages.ts';
import type { ArrivalPlan } from './executors/arrivals.ts';

/** An open-model or iteration-count scenario, partitioned over the workers (each runs its segment). */
interface PartitionedScenario {
  /** The scenario's name, or `name~N` for the N-th part re-run from lost workers' shares. */
  readonly key: string;
  readonly config: ScenarioCommon;
  /** Monotonic ms the master started it (its start time included). */
  readonly startedAt: number;
  /** Worker id → its segment. */
  segments: Map<string, Segment>;
  /** Workers whose share has ended. */
  readonly endedBy: Set<string>;
  over: boolean;
}

type ScenarioMessage = Extract<MasterMessage, { type: 'scenario' }>;

export interface PartitionsOptions {
  clock: Clock;
  logger: Logger;
  stats: Pick<ClusterStats, 'iterationsOf'>;
  /** Ids of the workers connected and not missing, sorted (shares follow this order). */
  liveWorkers: () => string[];
  send: (workerId: string, message: MasterMessage) => void;
  /** The fields every `scenario` message carries from the run: seq, epoch, stop settings, host, tagging. */
  message: () => Omit<ScenarioMessage, 'type' | 'config' | 'segment' | 'elapsedMs' | 'key'>;
  /** A scenario (or part) is over: every worker holding a share has ended it. */
  onOver: (key: string) => void;
}

/** The partitioned scenarios of a master run: shares handed out, re-partitioned, re-run when a worker is lost. */
export class Partitions {
  private readonly options: PartitionsOptions;
  private readonly byKey = new Map<string, PartitionedScenario>();

  constructor(options: PartitionsOptions) {
    this.options = options;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** True while some partitioned scenario is not over. */
  get active(): boolean {
    return [...this.byKey.values()].some((p) => !p.over);
  }

  /** Gives each live worker an equal, exact share of the scenario. */
  add(config: ScenarioCommon, key = config.name): void {
    const scenario: PartitionedScenario = { key, config, startedAt: this.options.clock.now(), segments: new Map(), endedBy: new Set(), over: false };
    this.byKey.set(key, scenario);
    const ids = this.options.liveWorkers();
    ids.forEach((id, index) => scenario.segments.set(id, { index, count: ids.length }));
    for (const id of ids) this.sendSegment(scenario, id);
    if (ids.length === 0) this.options.logger.warning(`scenario ${config.name}: no worker is connected; it runs on the workers that join`);
  }

  private sendSegment(scenario: PartitionedScenario, id: string): void {
    const segment = scenario.segments.get(id);
    if (segment === undefined) return;
    this.options.send(id, {
      type: 'scenario', ...this.options.message(), config: { ...scenario.config }, segment, elapsedMs: this.options.clock.now() - scenario.startedAt,
      ...(scenario.key !== scenario.config.name ? { key: scenario.key } : {}),
    });
  }

  /** A worker reconnected under the same id: it gets its segments again (a worker that has them ignores a repeat). */
  resend(id: string): void {
    for (const scenario of this.byKey.values()) if (!scenario.over) this.sendSegment(scenario, id);
  }

  /**
   * Re-partitions the open-model scenarios over the workers now live, from the first arrival due a
   * second from now: until then each worker finishes its old share, from then on the new shares apply,
   * so no arrival is run twice or skipped. Iteration counts keep their shares (see the README).
   */
  repartition(): void {
    const ids = this.options.liveWorkers();
    for (const scenario of this.byKey.values()) {
      if (scenario.over || ids.length === 0) continue;
      if (executorOf(scenario.config).model !== 'open') {
        // An iteration count that no worker could take yet (none was connected) goes to those here now.
        if (scenario.segments.size === 0) {
          ids.forEach((id, index) => scenario.segments.set(id, { index, count: ids.length }));
          for (const id of ids) this.sendSegment(scenario, id);
        }
        continue;
      }
      const same = ids.length === scenario.segments.size && ids.every((id, i) => scenario.segments.get(id)?.index === i && scenario.segments.get(id)?.count === ids.length);
      if (same) continue;
      const elapsed = this.options.clock.now() - scenario.startedAt - scenario.config.startTimeMs;
      const fromItem = partitionFrom(scenario.config, elapsed + 1000);
      scenario.segments = new Map(ids.map((id, index) => [id, { index, count: ids.length, fromItem }]));
      for (const id of ids) this.sendSegment(scenario, id);
      this.options.logger.info(`scenario ${scenario.config.name}: re-partitioned over ${ids.length} workers from arrival #${fromItem}`);
    }
  }

  /** A worker's share of a scenario (or part) ended. */
  shareEnded(id: string, key: string): void {
    const scenario = this.byKey.get(key);
    if (scenario === undefined || scenario.over) return;
    scenario.endedBy.add(id);
    this.checkShares(scenario);
  }

  private checkShares(scenario: PartitionedScenario): void {
    if (scenario.over || scenario.segments.size === 0 || ![...scenario.segments.keys()].every((w) => scenario.endedBy.has(w))) return;
    scenario.over = true;
    this.options.onOver(scenario.key);
  }

  /**
   * A worker went missing before its share of an iteration count ended: the iterations its last report
   * does not count are run by the others, as a new part of the scenario (so the total stays exact; what it
   * ran after that report is lost with it, as its requests are).
   */
  reassignIterations(id: string): void {
    let part = 0;
    for (const scenario of [...this.byKey.values()]) {
      const segment = scenario.segments.get(id);
      if (scenario.over || segment === undefined || executorOf(scenario.config).model !== 'iterations') continue;
      scenario.segments.delete(id);
      const ended = scenario.endedBy.has(id);
      this.checkShares(scenario);
      if (ended) continue;
      const config = scenario.config as ScenarioCommon & { users: number; iterations: number; maxDurationMs: number };
      const share = config.executor === 'per-user-iterations' ? shareOf(config.users, segment) * config.iterations : shareOf(config.iterations, segment);
      const owed = share - this.options.stats.iterationsOf(id, config.name);
      const left = config.maxDurationMs - (this.options.clock.now() - scenario.startedAt - config.startTimeMs);
      if (owed <= 0 || left <= 0 || this.options.liveWorkers().length === 0) continue;
      while (this.byKey.has(`${config.name}~${++part}`));
      const users = Math.max(1, Math.min(owed, shareOf(config.users, segment)));
      this.options.logger.warning(`scenario ${config.name}: worker ${id} left with ${owed} of its iterations not reported; the other workers run them`);
      this.add({ ...config, executor: 'shared-iterations', users, iterations: owed, maxDurationMs: left, startTimeMs: 0 } as ScenarioCommon, `${config.name}~${part}`);
    }
  }

  /** The run stops: every scenario is over. */
  end(): void {
    for (const p of this.byKey.values()) p.over = true;
  }

  clear(): void {
    this.byKey.clear();
  }
}

/** The first global arrival of the whole scenario due at or after `atMs` of scenario time (its count when none is). */
export function partitionFrom(config: ScenarioCommon, atMs: number): number {
  const plan = executorOf(config).plan(config, WHOLE) as ArrivalPlan;
  const due = (i: number): boolean => {
    const t = plan.timeOf(i);
    return t === undefined || t >= atMs;
  };
  if (due(0)) return 0;
  let hi = 1;
  while (!due(hi)) hi *= 2;
  let lo = hi / 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (due(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
