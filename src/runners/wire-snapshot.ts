// Reports on the master/worker link with histograms and per-second counts as packed binary: their
// thousands of numbers (and second keys) cost one copy to decode instead of one msgpack value each,
// which was the master's main cost with hundreds of workers.
import { redactDeep } from '../core/secrets.ts';
import { CURRENT_LAG_SECONDS, CURRENT_WINDOW_SECONDS } from '../stats/rate.ts';
import type { EntrySnapshot, HistogramData, StatsSnapshot } from '../stats/types.ts';

/** A histogram as sent: little-endian uint32 bucket indices and float64 counts. */
export interface PackedHistogram {
  indices: Uint8Array;
  counts: Uint8Array;
}

function pack(data: HistogramData): PackedHistogram {
  const n = data.indices.length;
  const indices = new Uint8Array(n * 4);
  const counts = new Uint8Array(n * 8);
  const iv = new DataView(indices.buffer);
  const cv = new DataView(counts.buffer);
  for (let i = 0; i < n; i++) {
    iv.setUint32(i * 4, data.indices[i]!, true);
    cv.setFloat64(i * 8, data.counts[i]!, true);
  }
  return { indices, counts };
}

/** Per-second counts as sent: little-endian uint32 epoch seconds and float64 counts. */
export interface PackedSeconds {
  seconds: Uint8Array;
  counts: Uint8Array;
}

/**
 * Only the seconds the master's current-rate window can still use (the newest lag + window
 * seconds, plus one for a second in progress) travel: the rest would be decoded and merged for nothing.
 */
const SECONDS_SENT = CURRENT_WINDOW_SECONDS + CURRENT_LAG_SECONDS + 1;

function packSeconds(record: Record<number, number>): PackedSeconds {
  let newest = -1;
  for (const key in record) newest = Math.max(newest, Number(key));
  const keys = Object.keys(record).filter((key) => Number(key) > newest - SECONDS_SENT);
  const seconds = new Uint8Array(keys.length * 4);
  const counts = new Uint8Array(keys.length * 8);
  const sv = new DataView(seconds.buffer);
  const cv = new DataView(counts.buffer);
  keys.forEach((key, i) => {
    sv.setUint32(i * 4, Number(key), true);
    cv.setFloat64(i * 8, record[Number(key)]!, true);
  });
  return { seconds, counts };
}

/**
 * No seconds (an entry without failures, the usual case): one shared, frozen record, not an object per entry —
 * a report may hold 20,000 entries, and the master reads these records, never writes them.
 */
const NO_SECONDS: Record<number, number> = Object.freeze({});

/** Unpacks per-second counts, or undefined when the bytes are malformed. */
export function unpackSeconds(seconds: Uint8Array, counts: Uint8Array, max: number): Record<number, number> | undefined {
  if (seconds.byteLength % 4 !== 0 || counts.byteLength % 8 !== 0) return undefined;
  const n = seconds.byteLength / 4;
  if (n !== counts.byteLength / 8 || n > max) return undefined;
  if (n === 0) return NO_SECONDS;
  const sv = new DataView(seconds.buffer, seconds.byteOffset, seconds.byteLength);
  const cv = new DataView(counts.buffer, counts.byteOffset, counts.byteLength);
  const out: Record<number, number> = {};
  for (let i = 0; i < n; i++) {
    const c = cv.getFloat64(i * 8, true);
    if (!Number.isInteger(c) || c < 0) return undefined;
    out[sv.getUint32(i * 4, true)] = c;
  }
  return out;
}

function packEntry(e: EntrySnapshot): EntrySnapshot {
  // The packed shapes travel in place of the plain ones; the master's schema turns them back.
  return {
    ...e,
    histogram: pack(e.histogram) as unknown as HistogramData,
    numReqsPerSec: packSeconds(e.numReqsPerSec) as unknown as Record<number, number>,
    numFailPerSec: packSeconds(e.numFailPerSec) as unknown as Record<number, number>,
  };
}

/**
 * The snapshot with every histogram and per-second map packed, ready for msgpack (Uint8Array travels as binary),
 * and its strings (request names, errors, exceptions, checks) masked: the worker's secrets stay on the worker,
 * even when the master never read them (a secret() called in onStart only). Once a second, not per request;
 * the packed bytes are skipped by the walk.
 */
export function packSnapshot(snapshot: StatsSnapshot): StatsSnapshot {
  return redactDeep({ ...snapshot, entries: snapshot.entries.map(packEntry), total: packEntry(snapshot.total) });
}

/**
 * Unpacks a histogram received as binary, or returns undefined when the bytes are malformed
 * (lengths not whole records, different counts of indices and counts, a count that is not a
 * whole number ≥ 0). Sorted order and index range are checked later by the stats layer.
 */
export function unpackHistogram(indices: Uint8Array, counts: Uint8Array, maxBuckets: number): HistogramData | undefined {
  if (indices.byteLength % 4 !== 0 || counts.byteLength % 8 !== 0) return undefined;
  const n = indices.byteLength / 4;
  if (n !== counts.byteLength / 8 || n > maxBuckets) return undefined;
  const iv = new DataView(indices.buffer, indices.byteOffset, indices.byteLength);
  const cv = new DataView(counts.buffer, counts.byteOffset, counts.byteLength);
  const outIndices = new Array<number>(n);
  const outCounts = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const c = cv.getFloat64(i * 8, true);
    if (!Number.isInteger(c) || c < 0) return undefined;
    outIndices[i] = iv.getUint32(i * 4, true);
    outCounts[i] = c;
  }
  return { indices: outIndices, counts: outCounts };
}
