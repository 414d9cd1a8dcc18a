// Contracts between layers. The web UI and the master drive a runner only through RunnerControl.
import { UsageError } from './errors.ts';
import type { ScenarioCommon } from './executor.ts';
import type { RunnerState } from './runner-state.ts';

/** What to start: a user count and a spawn rate, optionally a host and a subset of user classes. */
export interface StartRequest {
  userCount: number;
  /** Users started (or stopped) per second. */
  spawnRate: number;
  host?: string;
  /** Names of the user classes to run; all selected classes when absent. */
  userClasses?: readonly string[];
  /** Stop by itself after this many seconds (from this start). */
  runTime?: number;
  /**
   * The open model instead of a user count: start this many iterations per second (one
   * constant-arrival-rate scenario, for `runTime` or until stopped); `userCount` and `spawnRate` are ignored.
   */
  arrivalRate?: number;
  /** With `arrivalRate`: the most users the pool may grow to (default 10 × the rate). */
  maxUsers?: number;
}

/** Refuses a start request with a message naming the bad field (the run's state is left unchanged). */
export function checkStartRequest(request: StartRequest, state: RunnerState): void {
  const { userCount, spawnRate } = request;
  if (!Number.isInteger(userCount) || userCount < 0) throw new UsageError(`user count must be a whole number ≥ 0, got ${userCount}`);
  if (!(spawnRate > 0) || !Number.isFinite(spawnRate)) throw new UsageError(`spawn rate must be a number > 0, got ${spawnRate}`);
  if (request.runTime !== undefined && !(request.runTime > 0)) throw new UsageError(`run time must be a number of seconds > 0, got ${request.runTime}`);
  if (request.arrivalRate !== undefined && !(request.arrivalRate > 0 && Number.isFinite(request.arrivalRate))) throw new UsageError(`arrival rate must be a number > 0, got ${request.arrivalRate}`);
  if (request.maxUsers !== undefined && !(Number.isInteger(request.maxUsers) && request.maxUsers >= 1)) throw new UsageError(`max users must be a whole number ≥ 1, got ${request.maxUsers}`);
  if (request.maxUsers !== undefined && request.arrivalRate === undefined) throw new UsageError('max users goes with an arrival rate', 'give an arrival rate too, or a user count alone');
  if (state === 'stopping') throw new UsageError('the run is stopping; start again once it has stopped');
}

/**
 * How the CLI, the web UI and (later) the master drive a runner. `S` is the statistics snapshot
 * type (defined in stats/, which core may not import).
 */
export interface RunnerControl<S = unknown> {
  readonly state: RunnerState;
  /** Starts a run, or changes the target of a running one (up or down) at the given rate. */
  start(request: StartRequest): void;
  /** Runs the cicadafile's LoadShape instead of a fixed count, optionally capped at `runTime` seconds. Throws when there is none. */
  startShape(runTime?: number): void;
  /**
   * Runs checked scenarios (each from its start time, each with its executor); the run stops once
   * every scenario has ended, or after `runTime` seconds. Refused while a run goes.
   */
  startScenarios(scenarios: readonly ScenarioCommon[], runTime?: number): void;
  /** Stops the run gracefully; resolves once every user has ended and final stats are in. */
  stop(): Promise<void>;
  /**
   * Ends the waits of a stop under way: requests still in flight are cut at once and recorded as
   * failed `cancelled at stop` (a second Ctrl+C). Does nothing when no stop is under way.
   */
  cutInFlight(): void;
  /** Users alive now. */
  readonly userCount: number;
  /** The count the runner is ramping to. */
  readonly targetUserCount: number;
  /** Users alive per class name. */
  userClassCounts(): Record<string, number>;
  /** A consistent, cumulative statistics snapshot. */
  snapshot(): S;
  /** Clears statistics (web UI reset, `--reset-stats`). */
  resetStats(): void;
  /** Resolves when the current run has fully stopped (by `-t`, a shape, `StopTest` or `stop()`). */
  whenStopped(): Promise<void>;
  /**
   * Sends a custom message: from a worker to the master, from the master to one worker (`clientId`)
   * or all, and in a local run to this process's own listeners.
   */
  sendMessage(name: string, data: unknown, clientId?: string): void;
  /** Listens to custom messages of one name; `from` is a worker id, `'master'` or `'local'`. */
  registerMessage(name: string, listener: MessageListener): void;
}

export type MessageListener = (data: unknown, from: string) => void;

/** Registered custom-message listeners, shared by every runner kind. */
export class MessageListeners {
  private readonly byName = new Map<string, MessageListener[]>();

  register(name: string, listener: MessageListener): void {
    this.byName.set(name, [...(this.byName.get(name) ?? []), listener]);
  }

  /** Delivers a message; returns false when nobody listens to that name. */
  deliver(name: string, data: unknown, from: string): boolean {
    const listeners = this.byName.get(name);
    if (!listeners) return false;
    for (const l of listeners) l(data, from);
    return true;
  }
}
