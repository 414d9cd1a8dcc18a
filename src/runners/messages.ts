// The master/worker messages: a discriminated union, validated at the edge with zod (unknown type or key → rejected).
import { z } from 'zod';
import type { StatsSnapshot } from '../stats/types.ts';
import { unpackHistogram, unpackSeconds } from './wire-snapshot.ts';

/** Bumped whenever a message changes shape; the handshake refuses a different version. */
export const PROTOCOL_VERSION = 4; // 4: every frame after the handshake is sealed with a shared secret (transport/link-cipher.ts)

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const finite = z.number().finite();
const name = z.string().max(2048);
const MAX_BUCKETS = 100_000;
const MAX_SECONDS = 1000;

function isCountArray(value: unknown, max: number): value is number[] {
  if (!Array.isArray(value) || value.length > max) return false;
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return false;
  }
  return true;
}

function hasOnlyKeys(value: object, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(value, k));
}

/** A histogram as plain arrays or packed binary (what workers send), or undefined when malformed. */
function toHistogram(value: unknown): { indices: number[]; counts: number[] } | undefined {
  if (typeof value !== 'object' || value === null || !hasOnlyKeys(value, ['indices', 'counts'])) return undefined;
  const { indices, counts } = value as { indices: unknown; counts: unknown };
  if (indices instanceof Uint8Array && counts instanceof Uint8Array) return unpackHistogram(indices, counts, MAX_BUCKETS);
  return isCountArray(indices, MAX_BUCKETS) && isCountArray(counts, MAX_BUCKETS) ? { indices, counts } : undefined;
}

/** `{ epochSecond: count }` as a plain map or packed binary, or undefined when malformed. */
function toPerSecond(value: unknown): Record<number, number> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const packed = value as { seconds?: unknown; counts?: unknown };
  if (packed.seconds instanceof Uint8Array && packed.counts instanceof Uint8Array && hasOnlyKeys(value, ['seconds', 'counts'])) {
    return unpackSeconds(packed.seconds, packed.counts, MAX_SECONDS);
  }
  let n = 0;
  for (const key in value) {
    const v: unknown = (value as Record<string, unknown>)[key];
    if (++n > MAX_SECONDS || !/^\d{1,12}$/.test(key) || typeof v !== 'number' || !Number.isInteger(v) || v < 0) return undefined;
  }
  return value as Record<number, number>;
}

/**
 * The bulky parts of a report — thousands of bucket numbers — are checked by one hand-written
 * loop each instead of a schema per element: with zod per element (or a union that fails its first
 * branch), validation was the master's main cost with hundreds of workers.
 */
function checked<T>(convert: (value: unknown) => T | undefined, message: string) {
  return z.unknown().transform((value, ctx): T => {
    const result = convert(value);
    if (result === undefined) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return result;
  });
}

const histogram = checked(toHistogram, 'expected a histogram: { indices, counts } as arrays of whole numbers ≥ 0, or packed');
const perSecond = checked(toPerSecond, 'expected a map of epoch seconds to whole numbers ≥ 0, or packed');
const entry = z.strictObject({
  method: name,
  name,
  numRequests: count,
  numFailures: count,
  totalResponseTime: finite.nonnegative(),
  minResponseTime: finite.nonnegative(),
  maxResponseTime: finite.nonnegative(),
  totalContentLength: count,
  startTime: finite.nonnegative(),
  lastRequestTimestamp: finite.nonnegative(),
  histogram,
  numReqsPerSec: perSecond,
  numFailPerSec: perSecond,
  correctedHistogram: histogram.optional(),
});
const snapshot = z.strictObject({
  time: finite,
  startTime: finite,
  entries: z.array(entry).max(20_000),
  total: entry,
  errors: z.array(z.strictObject({ method: name, name, error: z.string().max(10_000), occurrences: count, firstSeen: finite, lastSeen: finite })).max(20_000),
  exceptions: z.array(z.strictObject({ count, msg: z.string().max(10_000), traceback: z.string().max(100_000), nodes: z.array(name).max(1000) })).max(2000),
  history: z.array(z.unknown()).max(0),
  userCount: count,
  overflowedNames: count,
  scenarios: z.array(z.strictObject({ name, iterations: count, failedIterations: count, dropped: count, interrupted: count, notRun: count.optional(), duration: histogram, lateness: histogram })).max(100).optional(),
  checks: z.array(z.strictObject({ name: z.string().max(1000), request: name, passes: count, fails: count, lastError: z.string().max(1000).optional() })).max(1000).optional(),
});

const classCounts = z.record(name, count);
const scenarioName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/);
/** A scenario, or a part of one the master re-ran elsewhere (`name~2`: a lost worker's share). */
const scenarioKey = z.string().max(71).refine((key) => {
  const [name = '', part, ...rest] = key.split('~');
  return rest.length === 0 && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name) && (part === undefined || /^\d{1,6}$/.test(part));
}, 'expected a scenario name, or name~N');
/** A checked scenario config as the master parsed it: plain data, bounded; the worker hosts it with the same executors. */
const scenarioConfig = z.record(z.string().max(64), z.unknown()).refine((c) => typeof c.name === 'string' && typeof c.executor === 'string' && JSON.stringify(c).length < 100_000, 'expected a scenario config with a name and an executor');
const segment = z.strictObject({ index: count, count: count.min(1), fromItem: count.optional(), untilItem: count.optional() });
const custom = z.strictObject({ type: z.literal('custom'), name, data: z.unknown() });

/** Master → worker. */
export const masterMessage = z.discriminatedUnion('type', [
  // A closed-model scenario's users on this worker, as absolute per-class counts (`scenario` absent: the default one).
  z.strictObject({ type: z.literal('spawn'), seq: count, epoch: count, classes: classCounts, host: z.string().max(2048).optional(), stopTimeout: finite.nonnegative(), drainTimeout: finite.nonnegative(), scenario: scenarioName.optional(), tagScenarios: z.boolean().optional() }),
  // An open-model or iteration-count scenario: this worker runs `segment` of it (again, on a re-partition).
  z.strictObject({ type: z.literal('scenario'), seq: count, epoch: count, config: scenarioConfig, segment, host: z.string().max(2048).optional(), stopTimeout: finite.nonnegative(), drainTimeout: finite.nonnegative(), elapsedMs: finite.nonnegative(), tagScenarios: z.boolean().optional(), key: scenarioKey.optional() }),
  // `cut`: requests still in flight are cut at once (a second Ctrl+C on the master).
  z.strictObject({ type: z.literal('stop'), epoch: count, cut: z.boolean().optional() }),
  z.strictObject({ type: z.literal('quit') }),
  z.strictObject({ type: z.literal('reset'), epoch: count }),
  z.strictObject({ type: z.literal('heartbeat') }),
  z.strictObject({ type: z.literal('ack'), seq: count }),
  custom,
]);

/** Worker → master. */
export const workerMessage = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('heartbeat'),
    state: z.enum(['ready', 'spawning', 'running', 'stopping', 'stopped', 'missing']),
    userCount: count,
    cpu: finite.nonnegative(),
    memory: count,
  }),
  z.strictObject({ type: z.literal('stats'), seq: count, epoch: count, final: z.boolean(), userCount: count, classes: classCounts, snapshot }),
  z.strictObject({ type: z.literal('spawned'), seq: count, userCount: count }),
  z.strictObject({ type: z.literal('stopped'), epoch: count }),
  // The worker's share of a partitioned scenario is done.
  z.strictObject({ type: z.literal('ended'), epoch: count, scenario: scenarioKey }),
  custom,
]);

export type MasterMessage = z.infer<typeof masterMessage>;
export type WorkerMessage = z.infer<typeof workerMessage>;

/** A stats report's snapshot, typed as the stats layer's (the schema checks the same shape). */
export function snapshotOf(message: Extract<WorkerMessage, { type: 'stats' }>): StatsSnapshot {
  return message.snapshot as StatsSnapshot;
}

/** Parses a message or returns why it is invalid (for one log line; the connection survives). */
export function parse<T>(schema: z.ZodType<T>, value: unknown): { ok: true; message: T } | { ok: false; reason: string } {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, message: result.data };
  const first = result.error.issues[0];
  return { ok: false, reason: first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid message' };
}
