// The master/worker messages: a discriminated union, validated at the edge with zod (unknown type or key → rejected).
import { z } from 'zod';
import { printable } from '../core/printable.ts';
import { PER_SECOND_SLOTS } from '../stats/rate.ts';
import type { EntrySnapshot, StatsSnapshot } from '../stats/types.ts';
import { unpackHistogram, unpackSeconds } from './wire-snapshot.ts';

/** Bumped whenever a message changes shape; the handshake refuses a different version. */
export const PROTOCOL_VERSION = 4; // 4: every frame after the handshake is sealed with a shared secret (transport/link-cipher.ts)

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const finite = z.number().finite();
const name = z.string().max(2048);
const MAX_BUCKETS = 100_000;
/** A worker keeps PER_SECOND_SLOTS seconds per entry and sends at most those (fewer: wire-snapshot.ts). */
const MAX_SECONDS = PER_SECOND_SLOTS;

function isCountArray(value: unknown, max: number): value is number[] {
  if (!Array.isArray(value) || value.length > max) return false;
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return false;
  }
  return true;
}

/** True when `value`'s keys are exactly `keys`; it makes no array of them, as it runs several times per entry of every report. */
function hasOnlyKeys(value: object, keys: readonly string[]): boolean {
  let n = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || !keys.includes(key)) return false;
    n++;
  }
  return n === keys.length;
}

const HISTOGRAM_KEYS = ['indices', 'counts'] as const;
const SECONDS_KEYS = ['seconds', 'counts'] as const;

/** A histogram as plain arrays or packed binary (what workers send), or undefined when malformed. */
function toHistogram(value: unknown): { indices: number[]; counts: number[] } | undefined {
  if (typeof value !== 'object' || value === null || !hasOnlyKeys(value, HISTOGRAM_KEYS)) return undefined;
  const { indices, counts } = value as { indices: unknown; counts: unknown };
  if (indices instanceof Uint8Array && counts instanceof Uint8Array) return unpackHistogram(indices, counts, MAX_BUCKETS);
  return isCountArray(indices, MAX_BUCKETS) && isCountArray(counts, MAX_BUCKETS) ? { indices, counts } : undefined;
}

/** `{ epochSecond: count }` as a plain map or packed binary, or undefined when malformed. */
function toPerSecond(value: unknown): Record<number, number> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const packed = value as { seconds?: unknown; counts?: unknown };
  if (packed.seconds instanceof Uint8Array && packed.counts instanceof Uint8Array && hasOnlyKeys(value, SECONDS_KEYS)) {
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

const ENTRY_KEYS = ['method', 'name', 'numRequests', 'numFailures', 'totalResponseTime', 'minResponseTime', 'maxResponseTime', 'totalContentLength',
  'startTime', 'lastRequestTimestamp', 'histogram', 'numReqsPerSec', 'numFailPerSec'] as const;
const COUNT_KEYS = ['numRequests', 'numFailures', 'totalContentLength'] as const;
const TIME_KEYS = ['totalResponseTime', 'minResponseTime', 'maxResponseTime', 'startTime', 'lastRequestTimestamp'] as const;
const CORRECTED_ENTRY_KEYS = [...ENTRY_KEYS, 'correctedHistogram'] as const;

/**
 * One stats entry, or why it is not one (naming the field). By hand like the histograms: a report may hold
 * 20,000 entries, and a zod object schema per entry made validating one a third of a second and a copy of each.
 * Only the shape is checked here; whether the numbers agree is the stats layer's (stats/report-checks.ts).
 */
function toEntry(value: unknown): EntrySnapshot | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return 'expected an entry object';
  const v = value as Record<string, unknown>;
  const corrected = v.correctedHistogram;
  if (!hasOnlyKeys(v, Object.hasOwn(v, 'correctedHistogram') ? CORRECTED_ENTRY_KEYS : ENTRY_KEYS)) return `expected exactly the keys ${ENTRY_KEYS.join(', ')} (and correctedHistogram)`;
  const { method, name: entryName } = v;
  if (typeof method !== 'string' || method.length > 2048 || typeof entryName !== 'string' || entryName.length > 2048) return 'method, name: expected strings of at most 2048 characters';
  for (const k of COUNT_KEYS) if (!Number.isSafeInteger(v[k]) || (v[k] as number) < 0) return `${k}: expected a whole number in 0…2^53−1`;
  for (const k of TIME_KEYS) if (typeof v[k] !== 'number' || !Number.isFinite(v[k]) || v[k] < 0) return `${k}: expected a finite number ≥ 0`;
  const data = toHistogram(v.histogram);
  const correctedData = corrected === undefined ? undefined : toHistogram(corrected);
  if (data === undefined || (corrected !== undefined && correctedData === undefined)) return 'histogram: expected { indices, counts } as arrays of whole numbers ≥ 0, or packed';
  const numReqsPerSec = toPerSecond(v.numReqsPerSec);
  const numFailPerSec = toPerSecond(v.numFailPerSec);
  if (numReqsPerSec === undefined || numFailPerSec === undefined) return `numReqsPerSec, numFailPerSec: expected maps of at most ${MAX_SECONDS} epoch seconds to whole numbers ≥ 0, or packed`;
  // In place: the object is this message's own (just decoded), and a copy of 20,000 entries is garbage the master must collect.
  v.histogram = data;
  v.numReqsPerSec = numReqsPerSec;
  v.numFailPerSec = numFailPerSec;
  if (correctedData === undefined) delete v.correctedHistogram;
  else v.correctedHistogram = correctedData;
  return v as unknown as EntrySnapshot;
}

/** Entries in one report: a worker keeps 500 names (and one `(other)` per method); the master folds the rest (ClusterStats). */
const MAX_ENTRIES = 20_000;

/** A report's entries, converted in one loop: a zod array of transforms cost two more objects per element. */
function toEntries(value: unknown): EntrySnapshot[] | string {
  if (!Array.isArray(value)) return 'expected an array of entries';
  if (value.length > MAX_ENTRIES) return `expected at most ${MAX_ENTRIES} entries, got ${value.length}`;
  for (let i = 0; i < value.length; i++) {
    const e = toEntry(value[i]);
    if (typeof e === 'string') return `entry ${i}: ${e}`;
    value[i] = e;
  }
  return value as EntrySnapshot[];
}

/** A schema from a hand-written converter that says why a value is not what it wants (one issue, the connection survives). */
function explained<T>(convert: (value: unknown) => T | string) {
  return z.unknown().transform((value, ctx): T => {
    const result = convert(value);
    if (typeof result === 'string') {
      ctx.addIssue({ code: 'custom', message: result });
      return z.NEVER;
    }
    return result;
  });
}

const snapshot = z.strictObject({
  time: finite,
  startTime: finite,
  entries: explained(toEntries),
  total: explained(toEntry),
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

/**
 * Parses a message or returns why it is invalid (for one log line; the connection survives). The reason is
 * printable(): zod quotes the peer's own keys in it (`Unrecognized key: "…"`, `classes.<key>: …`).
 */
export function parse<T>(schema: z.ZodType<T>, value: unknown): { ok: true; message: T } | { ok: false; reason: string } {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, message: result.data };
  const first = result.error.issues[0];
  return { ok: false, reason: first ? printable(`${first.path.join('.') || '(root)'}: ${first.message}`, 500) : 'invalid message' };
}
