// The event bus: protocols report requests through it, exporters and plug-ins listen to it.
import type { Environment } from './environment.ts';

/** One request, as every protocol client reports it. Times are milliseconds. */
export interface RequestEvent {
  /** The method or request kind, e.g. `GET` or `WS-SEND`. */
  requestType: string;
  /** The name statistics group by: the URL path, or the `name` option. */
  name: string;
  /** Time from send to the end of the response body, in ms, with sub-millisecond precision. */
  responseTime: number;
  /** Bytes of the response body. */
  responseLength: number;
  /** Null on success; a normalised error (e.g. `HTTP 503`, `ECONNREFUSED`) on failure. */
  error: Error | null;
  /** Wall-clock time the request started, in ms since the epoch. */
  startTime: number;
  /** The full URL, when the protocol has one. */
  url?: string;
  /** Protocol-specific response object (e.g. the HTTP response), for listeners that want it. */
  response?: unknown;
  /** Free-form context, merged from the user's `context()`. */
  context?: Record<string, unknown>;
  /** The scenario of the user that made it (`user.scenario`); a custom protocol passes it on too. */
  scenario?: string;
  /**
   * For a paced user (`constantPacing`/`constantThroughput`): the interval, ms, at which it meant to start
   * tasks. Statistics then also keep response times corrected for coordinated omission.
   */
  expectedIntervalMs?: number;
}

export interface UserErrorEvent {
  user: object;
  error: Error;
  /** The task (method name) that threw. */
  task: string;
}

export interface LifecycleEvent {
  /** The running environment: host, options, and `runner` (for `registerMessage`/`sendMessage`). */
  environment: Environment;
}

export interface SpawningCompleteEvent {
  userCount: number;
}

/**
 * One iteration of an arrival-rate or iteration-count scenario, or one it had to drop. Times are ms;
 * `durationMs` runs from the scheduled start (the coordinated-omission-free view), `lateMs` is how
 * late it started against its schedule.
 */
export interface IterationEvent {
  scenario: string;
  /** True when no user was free and the pool was full: the iteration did not run. */
  dropped: boolean;
  ok: boolean;
  /** True when it was still running as the scenario's graceful stop ran out (it was then stopped). */
  interrupted: boolean;
  /** Set once, as an iteration-count scenario ends at its `maxDuration`: the iterations it did not run (no iteration itself). */
  notRun?: number;
  lateMs: number;
  durationMs: number;
}

/** One named check of `check(value, { name: fn })`: passed or failed (a check that threw failed, with its message). */
export interface CheckEvent {
  /** The check's name, e.g. `status is 200`. */
  name: string;
  /** The request name of the value checked (`res.name`), or ''. */
  request: string;
  ok: boolean;
  /** Why it failed, when the check threw. */
  error?: string;
}

export interface ReportEvent {
  clientId: string;
  data: Record<string, unknown>;
}

type Listener<T> = (payload: T) => void;

/** Errors a listener throws are handed here instead of breaking the firing code. */
export type ListenerErrorHandler = (error: unknown, event: string) => void;

let onListenerError: ListenerErrorHandler = (error, event) => {
  process.emitWarning(`listener of the "${event}" event threw: ${String(error)}`);
};

/** Replaces how listener errors are reported (the CLI routes them to its logger). */
export function setListenerErrorHandler(handler: ListenerErrorHandler): void {
  onListenerError = handler;
}

/**
 * One named event. Listeners run synchronously, in the order they were added.
 * A listener that throws is reported and skipped, unless `rethrow` says its error must propagate
 * (control-flow exceptions such as `StopUser` do).
 * @example
 * ```ts
 * events.request.addListener((r) => { if (r.responseTime > 1000) console.log('slow', r.name); });
 * ```
 */
export class EventHook<T> {
  readonly name: string;
  private listeners: Listener<T>[] = [];
  private readonly rethrow: (error: unknown) => boolean;

  constructor(name: string, rethrow: (error: unknown) => boolean = () => false) {
    this.name = name;
    this.rethrow = rethrow;
  }

  /** Adds a listener and returns a function that removes it. */
  addListener(listener: Listener<T>): () => void {
    this.listeners = [...this.listeners, listener];
    return () => this.removeListener(listener);
  }

  removeListener(listener: Listener<T>): void {
    this.listeners = this.listeners.filter((l) => l !== listener);
  }

  get listenerCount(): number {
    return this.listeners.length;
  }

  /**
   * Calls every listener with `payload`. The listener array is copied on write, so firing never allocates.
   * A control-flow error (`rethrow`) is thrown only after every listener has run: a `StopTest` from a
   * cicadafile's listener must not keep the statistics' own listener from counting the request.
   */
  fire(payload: T): void {
    const listeners = this.listeners;
    let deferred: { error: unknown } | undefined;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(payload);
      } catch (error) {
        if (this.rethrow(error)) deferred ??= { error };
        else onListenerError(error, this.name);
      }
    }
    if (deferred !== undefined) throw deferred.error;
  }

  /** Removes every listener (used between runs in one process, e.g. by tests). */
  clear(): void {
    this.listeners = [];
  }
}

/**
 * The events a cicadafile, a protocol or an exporter can listen to or fire. A cicadafile uses the
 * process-wide instance exported as `events`.
 * @example
 * ```ts
 * import { events } from 'cicada';
 * events.testStop.addListener(() => console.log('done'));
 * // A custom protocol reports a request like this:
 * events.request.fire({ requestType: 'QUERY', name: 'get_user', responseTime: 4.2, responseLength: 120, error: null, startTime: Date.now() });
 * ```
 */
export class Events {
  /** Fired once the environment and runner exist, before the test starts. */
  readonly init = new EventHook<LifecycleEvent>('init');
  /** Fired when a test starts (each time, if it is restarted from the web UI). */
  readonly testStart = new EventHook<LifecycleEvent>('testStart');
  /** Fired when the test begins stopping, before users are stopped. */
  readonly testStopping = new EventHook<LifecycleEvent>('testStopping');
  /** Fired when the test has stopped and final statistics are in. */
  readonly testStop = new EventHook<LifecycleEvent>('testStop');
  /** Fired for every request by every protocol client; statistics are fed from it. */
  readonly request: EventHook<RequestEvent>;
  /** Fired for every iteration an arrival-rate or iteration-count scenario ran or dropped. */
  readonly iteration = new EventHook<IterationEvent>('iteration');
  /** Fired for every named check `check()` runs. */
  readonly check = new EventHook<CheckEvent>('check');
  /** Fired when a task throws an error that is not a control-flow exception. */
  readonly userError = new EventHook<UserErrorEvent>('userError');
  /** Fired when the target user count has been reached. */
  readonly spawningComplete = new EventHook<SpawningCompleteEvent>('spawningComplete');
  /** Fired when statistics are reset (web UI or `--reset-stats`). */
  readonly resetStats = new EventHook<Record<string, never>>('resetStats');
  /**
   * Fired as the run ends, before the final reports are written and the exit code is decided: set
   * `environment.processExitCode` here (Locust's `process_exit_code`) and the reports carry it.
   */
  readonly quitting = new EventHook<LifecycleEvent>('quitting');
  /** Fired on a worker before each report to the master: add keys to `data`. */
  readonly reportToMaster = new EventHook<ReportEvent>('reportToMaster');
  /** Fired on the master for each worker report. */
  readonly workerReport = new EventHook<ReportEvent>('workerReport');

  constructor(rethrow: (error: unknown) => boolean = () => false) {
    this.request = new EventHook<RequestEvent>('request', rethrow);
  }

  /** Every hook, for iteration (e.g. to clear all listeners between runs in one process). */
  all(): { readonly name: string; clear(): void; readonly listenerCount: number }[] {
    return [
      this.init, this.testStart, this.testStopping, this.testStop, this.request, this.iteration, this.check, this.userError,
      this.spawningComplete, this.resetStats, this.quitting, this.reportToMaster, this.workerReport,
    ];
  }
}
