// The master/worker messages: a discriminated union, validated at the edge with zod (unknown type or key → rejected).
import { z } from 'zod';
import type { StatsSnapshot } from '../stats/types.ts';
import { unpackHistogram, unpackSeconds } from './wire-snapshot.ts';

/** Bumped whenever a message changes shape; the handshake refuses a different version. */
export const PROTOCOL_VERSION = 1;

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const finite = z.number().finite();
const name = z.string().max(2048);
/** `{ epochSecond: count }` maps, checked in one loop (they come in every entry of every report). */
const plainPerSecond = z.custom<Record<string, number>>(
  (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    let n = 0;
    for (const key in value) {
      const v: unknown = (value as Record<string, unknown>)[key];
      if (++n > 1000 || !/^\d{1,12}$/.test(key) || typeof v !== 'number' || !Number.isInteger(v) || v < 0) return false;
    }
    return true;
  },
  { message: 'expected a map of epoch seconds to whole numbers ≥ 0' },
);
/** Per-second counts as a plain map, or packed binary (what workers send). */
const perSecond = z.union([
  plainPerSecond,
  z.strictObject({ seconds: z.instanceof(Uint8Array), counts: z.instanceof(Uint8Array) }).transform((packed, ctx) => {
    const record = unpackSeconds(packed.seconds, packed.counts, 1000);
    if (record === undefined) {
      ctx.addIssue({ code: 'custom', message: 'malformed packed per-second counts' });
      return z.NEVER;
    }
    return record;
  }),
]);

/**
 * Arrays of whole numbers ≥ 0 checked in one loop: a report carries thousands of them, and a
 * per-element schema made validation the master's main cost with hundreds of workers.
 */
function countArray(max: number) {
  return z.custom<number[]>(
    (value) => {
      if (!Array.isArray(value) || value.length > max) return false;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return false;
      }
      return true;
    },
    { message: `expected an array of at most ${max} whole numbers ≥ 0` },
  );
}
const MAX_BUCKETS = 100_000;
/** A histogram as plain arrays, or packed binary (what workers send): both arrive as plain arrays. */
const histogram = z.union([
  z.strictObject({ indices: countArray(MAX_BUCKETS), counts: countArray(MAX_BUCKETS) }),
  z
    .strictObject({ indices: z.instanceof(Uint8Array), counts: z.instanceof(Uint8Array) })
    .transform((packed, ctx) => {
      const data = unpackHistogram(packed.indices, packed.counts, MAX_BUCKETS);
      if (data === undefined) {
        ctx.addIssue({ code: 'custom', message: 'malformed packed histogram' });
        return z.NEVER;
      }
      return data;
    }),
]);
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
});

const classCounts = z.record(name, count);
const custom = z.strictObject({ type: z.literal('custom'), name, data: z.unknown() });

/** Master → worker. */
export const masterMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('spawn'), seq: count, epoch: count, classes: classCounts, host: z.string().max(2048).optional(), stopTimeout: finite.nonnegative() }),
  z.strictObject({ type: z.literal('stop'), epoch: count }),
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
