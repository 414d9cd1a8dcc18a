// The executors by name (DESIGN.md §4), and the reading of scenario definitions into checked configs.
import { didYouMean } from '../../core/did-you-mean.ts';
import type { StartRequest } from '../../core/contracts.ts';
import { UsageError } from '../../core/errors.ts';
import { MAX_TIME_SPAN_SECONDS } from '../../core/parse-values.ts';
import { EXECUTOR_NAMES, type Executor, type ExecutorName, type ScenarioCommon } from '../../core/executor.ts';
import { constantArrivalRateExecutor } from './constant-arrival-rate.ts';
import { describe, durationMs } from './fields.ts';
import { perUserIterationsExecutor } from './per-user-iterations.ts';
import { rampingArrivalRateExecutor } from './ramping-arrival-rate.ts';
import { rampingUsersExecutor } from './ramping-users.ts';
import { shapeExecutor } from './shape.ts';
import { sharedIterationsExecutor } from './shared-iterations.ts';
import { usersExecutor } from './users.ts';

/** The scenario `-u/-r/-t` (and the shortcuts --arrival-rate, -i) run: k6's name for it. */
export const DEFAULT_SCENARIO = 'default';

/**
 * The scenario a start request asks for: N users at R users/s (Locust's model), or with `arrivalRate`
 * one constant-arrival-rate scenario for the run time (or until stopped).
 */
export function requestScenario(request: StartRequest, stopTimeoutMs: number): ScenarioCommon {
  if (request.arrivalRate === undefined) {
    return parseScenario(DEFAULT_SCENARIO, { executor: 'users', users: request.userCount, spawnRate: request.spawnRate }, 'start', { stopTimeoutMs });
  }
  return parseScenario(DEFAULT_SCENARIO, {
    executor: 'constant-arrival-rate', rate: request.arrivalRate, duration: request.runTime ?? MAX_TIME_SPAN_SECONDS,
    ...(request.maxUsers !== undefined ? { maxUsers: request.maxUsers, preAllocatedUsers: Math.min(request.maxUsers, Math.max(1, Math.ceil(request.arrivalRate))) } : {}),
  }, 'start', { stopTimeoutMs });
}

/** Every executor, by its name. */
export const executors: Readonly<Record<ExecutorName, Executor<never, never>>> = {
  users: usersExecutor,
  'ramping-users': rampingUsersExecutor,
  'constant-arrival-rate': constantArrivalRateExecutor,
  'ramping-arrival-rate': rampingArrivalRateExecutor,
  'shared-iterations': sharedIterationsExecutor,
  'per-user-iterations': perUserIterationsExecutor,
  shape: shapeExecutor,
} as unknown as Record<ExecutorName, Executor<never, never>>;

/** The executor of a checked scenario, typed loosely: config and plan travel together. */
export function executorOf(config: ScenarioCommon): Executor<ScenarioCommon, unknown> {
  return executors[config.executor];
}

const COMMON_FIELDS = ['executor', 'userClasses', 'startTime', 'gracefulStop', 'tags'] as const;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Default graceful stop: the run's `-s` for the closed model, 30 s (k6's default) for arrival rates and iteration counts. */
function defaultGracefulStopMs(executor: ExecutorName, stopTimeoutMs: number): number {
  return executor === 'users' || executor === 'ramping-users' || executor === 'shape' ? stopTimeoutMs : 30_000;
}

/**
 * Reads one scenario definition (from `export const scenarios`, `[scenarios.NAME]` or the CLI shortcuts)
 * into a checked config. `source` says where it came from, for messages.
 */
export function parseScenario(name: string, raw: unknown, source: string, defaults: { stopTimeoutMs: number }): ScenarioCommon {
  const where = `scenario '${name}' (${source})`;
  if (!NAME.test(name)) throw new UsageError(`${where}: the name must be letters, digits, '_', '-' or '.' (at most 64)`, "e.g. scenarios = { browse: { … } }");
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${where} must be an object with an executor, got ${describe(raw)}`, "e.g. { executor: 'constant-arrival-rate', rate: 50, duration: '1m' }");
  const fields = raw as Record<string, unknown>;
  const executorName = fields.executor === undefined ? 'users' : fields.executor;
  if (typeof executorName !== 'string' || !(EXECUTOR_NAMES as readonly string[]).includes(executorName)) {
    const guess = typeof executorName === 'string' ? didYouMean(executorName, EXECUTOR_NAMES) : undefined;
    throw new UsageError(`${where}: unknown executor ${describe(executorName)}`, `${guess ? `did you mean '${guess}'? ` : ''}executors: ${EXECUTOR_NAMES.join(', ')}`);
  }
  const executor = executors[executorName as ExecutorName] as unknown as Executor<ScenarioCommon, unknown>;
  for (const key of Object.keys(fields)) {
    if ((COMMON_FIELDS as readonly string[]).includes(key) || executor.fields.includes(key)) continue;
    const owner = EXECUTOR_NAMES.find((n) => (executors[n] as unknown as Executor).fields.includes(key));
    const guess = didYouMean(key, [...COMMON_FIELDS, ...executor.fields]);
    throw new UsageError(
      `${where}: '${key}' is not a field of the ${executorName} executor${owner !== undefined ? ` (it belongs to ${owner})` : ''}`,
      `${guess !== undefined ? `did you mean '${guess}'? ` : ''}${executorName} takes ${[...executor.fields, ...COMMON_FIELDS.slice(1)].join(', ')}`,
    );
  }
  const common: ScenarioCommon = {
    name,
    executor: executorName as ExecutorName,
    ...(fields.userClasses !== undefined ? { userClasses: classList(fields.userClasses, where) } : {}),
    startTimeMs: fields.startTime === undefined ? 0 : durationMs(fields.startTime, 'startTime', where, { allowZero: true }),
    gracefulStopMs: fields.gracefulStop === undefined ? defaultGracefulStopMs(executorName as ExecutorName, defaults.stopTimeoutMs) : durationMs(fields.gracefulStop, 'gracefulStop', where, { allowZero: true }),
    tags: tagMap(fields.tags, where),
  };
  return executor.parse(fields, common, where);
}

function classList(raw: unknown, where: string): string[] {
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.length === 0 || !list.every((c) => typeof c === 'string' && c.length > 0)) {
    throw new UsageError(`${where}: userClasses must be a list of user class names, got ${describe(raw)}`, "e.g. userClasses: ['Shopper']");
  }
  return list as string[];
}

function tagMap(raw: unknown, where: string): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
    throw new UsageError(`${where}: tags must be an object of strings, got ${describe(raw)}`, "e.g. tags: { team: 'checkout' }");
  }
  return { ...(raw as Record<string, string>) };
}
