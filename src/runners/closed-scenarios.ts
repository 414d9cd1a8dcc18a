// The master's closed-model scenarios: each one's dispatch over the workers, and the per-class counts each worker was sent.
import { DispatchedScenario, type DispatchedScenarioOptions } from './dispatched-scenario.ts';
import { DEFAULT_SCENARIO } from './executors/index.ts';
import type { MasterMessage } from './messages.ts';
import type { Assignment } from './worker-dispatch.ts';

type SpawnMessage = Extract<MasterMessage, { type: 'spawn' }>;

export interface ClosedScenariosOptions {
  /** Ids of the workers connected and not missing. */
  liveWorkers: () => string[];
  send: (workerId: string, message: MasterMessage) => void;
  /** The fields every `spawn` message carries from the run: seq, epoch, stop settings, host, tagging. */
  message: () => Omit<SpawnMessage, 'type' | 'classes' | 'scenario'>;
}

/** The closed-model scenarios of a master run (`users`, `ramping-users`, a LoadShape): users placed ±1 per worker and class. */
export class ClosedScenarios {
  private readonly options: ClosedScenariosOptions;
  private readonly byName = new Map<string, DispatchedScenario>();
  /** Worker id → scenario → the counts last sent, so only changes go out. */
  private readonly sent = new Map<string, Map<string, Record<string, number>>>();

  constructor(options: ClosedScenariosOptions) {
    this.options = options;
  }

  /** Creates a scenario placed on the live workers; its assignments go out as it changes them. */
  add(options: Omit<DispatchedScenarioOptions, 'onAssignment'>): DispatchedScenario {
    const name = options.config.name;
    const scenario = new DispatchedScenario({ ...options, onAssignment: (assignment) => this.send(name, assignment) });
    for (const id of this.options.liveWorkers()) scenario.dispatch.addWorker(id);
    this.byName.set(name, scenario);
    return scenario;
  }

  get(name: string): DispatchedScenario | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  /** True when every closed-model scenario has ended by itself. */
  get allOver(): boolean {
    return [...this.byName.values()].every((c) => c.over);
  }

  /** The users the scenarios are heading for. */
  get goal(): number {
    let n = 0;
    for (const c of this.byName.values()) n += c.goal;
    return n;
  }

  /** Per class, the users placed on a worker (`id`), or on all workers. */
  classCounts(id?: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.byName.values()) {
      const assignment = c.dispatch.assignment();
      for (const classes of id === undefined ? Object.values(assignment) : [assignment[id] ?? {}]) {
        for (const [cls, n] of Object.entries(classes)) out[cls] = (out[cls] ?? 0) + n;
      }
    }
    return out;
  }

  /** A worker joined, or came back after it was missing: the dispatches may place users on it. */
  addWorker(id: string): void {
    this.sent.delete(id);
    for (const c of this.byName.values()) c.dispatch.addWorker(id);
  }

  removeWorker(id: string): void {
    for (const c of this.byName.values()) c.dispatch.removeWorker(id);
  }

  /** A worker reconnected under the same id: it gets its counts again. */
  resend(id: string): void {
    this.sent.delete(id);
    for (const [name, c] of this.byName) this.send(name, c.dispatch.assignment());
  }

  /** Re-places users after a worker joined, left or went missing, keeping each scenario's total. */
  redispatch(log: (line: string) => void): void {
    for (const [name, c] of this.byName) {
      // `target` (not `total`): a lost worker's users are waiting to be re-placed on the others.
      c.dispatch.setTotal(c.dispatch.target);
      this.send(name, c.dispatch.rebalance());
      log(`re-dispatched ${c.dispatch.total} users over ${c.dispatch.workers.length} workers`);
    }
  }

  /** The run stops: executors end, and the counts sent are forgotten (the workers stop everything). */
  stop(): void {
    for (const c of this.byName.values()) c.stop();
    this.sent.clear();
  }

  clear(): void {
    this.byName.clear();
    this.sent.clear();
  }

  /** Sends each live worker its absolute per-class counts of a scenario, only when they changed. */
  private send(scenario: string, assignment: Assignment): void {
    for (const id of this.options.liveWorkers()) {
      const classes = assignment[id] ?? {};
      const sent = this.sent.get(id) ?? new Map<string, Record<string, number>>();
      if (sameCounts(classes, sent.get(scenario) ?? {})) continue;
      this.options.send(id, { type: 'spawn', ...this.options.message(), classes, ...(scenario !== DEFAULT_SCENARIO ? { scenario } : {}) });
      sent.set(scenario, { ...classes });
      this.sent.set(id, sent);
    }
  }
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false;
  return true;
}
