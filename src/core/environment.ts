// The environment a run happens in: events, host, options and the runner, handed to every user.
import type { Events } from './events.ts';
import type { Logger } from './logger.ts';
import type { RunnerControl } from './contracts.ts';

/** Defaults every protocol client starts from; each is overridable per request. */
export interface ClientDefaults {
  /** Whole-request timeout in ms (connect, headers and body). */
  timeoutMs: number;
  /** Connect timeout in ms. */
  connectTimeoutMs: number;
  /** Response bodies are read to the end but only this many bytes are kept for `text()`/`json()`. */
  maxBodyBytes: number;
  /** Redirects followed before a request fails. */
  maxRedirects: number;
  /** Connections each HttpUser may open to one origin. */
  connectionsPerUser: number;
}

export const defaultClientDefaults: ClientDefaults = {
  timeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  maxBodyBytes: 10 * 1024 * 1024,
  maxRedirects: 10,
  connectionsPerUser: 1,
};

/** What users, shapes and plug-ins can see of the run. */
export interface Environment {
  readonly events: Events;
  /** Base URL from `-H`, or undefined (then each class's static `host`). */
  host: string | undefined;
  readonly logger: Logger;
  readonly clientDefaults: ClientDefaults;
  /** Every parsed option, read-only, for cicadafiles that want them. */
  readonly parsedOptions: Readonly<Record<string, unknown>>;
  /** The runner, once created. */
  runner: RunnerControl | undefined;
  /**
   * The exit code the run should end with, when a script sets it (Locust's `process_exit_code`), e.g.
   * from a `testStop` listener. A failed threshold (99) and an internal error (3) still take precedence.
   * @example
   * ```ts
   * events.testStop.addListener(({ environment }) => { if (tooSlow) environment.processExitCode = 4; });
   * ```
   */
  processExitCode?: number | undefined;
}
