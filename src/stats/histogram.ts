// Log-linear (HDR-style) histogram of response times with 3 significant digits and exact merging.
//
// Values are recorded as integer microseconds (ms × 1000, rounded), clamped to [0, 2^32 - 1] µs
// (about 71.6 minutes; larger values land in the top bucket — exact maxima are kept by the entry).
// Layout: buckets 0..1023 hold one microsecond each (exact below 1.024 ms). Above that, every
// power-of-two octave [2^k, 2^(k+1)) µs is split into 512 equal buckets, so a bucket is at most
// 1/512 of its lower bound wide. Reporting the bucket's midpoint keeps every percentile within
// width/2 ÷ lower ≈ 1/1024 ≈ 0.098 % of the true sample (rounding to µs included), and sub-ms
// values within 1 µs. That is 12,288 buckets, stored as 24 pages of 512 Float64 counts (4 KiB each)
// allocated the first time a value lands in them: a histogram of 1 ms … 2 s responses holds about
// a dozen pages (≈ 48 KiB), a constant workload one or two. Float64 counts stay exact up to 2^53.
import { StatsError } from './errors.ts';
import type { HistogramData } from './types.ts';

const SUB_BITS = 9;
const SUB = 1 << SUB_BITS; // buckets per page, and per octave above the exact range
const SUB_MASK = SUB - 1;
const PAGE_COUNT = 24;
/** Number of bucket indices (0 … BUCKET_COUNT - 1). */
export const BUCKET_COUNT = PAGE_COUNT * SUB;
/** Largest recordable value, µs; anything above is clamped into the top bucket. */
export const MAX_MICROS = 2 ** 32 - 1;

/** Bucket index of a value in integer microseconds (must already be an integer in [0, MAX_MICROS]). */
function indexOfMicros(us: number): number {
  if (us < 2 * SUB) return us;
  const msb = 31 - Math.clz32(us);
  const shift = msb - SUB_BITS;
  // (us >>> shift) is in [512, 1023]; octave `shift` starts at index (shift + 1) × 512.
  return shift * SUB + (us >>> shift);
}

/** Bucket index of a response time in ms. Negative or NaN values count as 0. */
export function bucketIndex(ms: number): number {
  let us = Math.round(ms * 1000);
  if (!(us >= 0)) us = 0;
  else if (us > MAX_MICROS) us = MAX_MICROS;
  return indexOfMicros(us);
}

/** Lowest µs value of a bucket and its width in µs. */
function bucketRange(index: number): [lower: number, width: number] {
  if (index < 2 * SUB) return [index, 1];
  const shift = (index >>> SUB_BITS) - 1;
  const width = 2 ** shift;
  return [((index & SUB_MASK) + SUB) * width, width];
}

/** Representative value of a bucket in ms: the midpoint of the integer µs values it holds. */
export function bucketValue(index: number): number {
  const [lower, width] = bucketRange(index);
  return (lower + (width - 1) / 2) / 1000;
}

/** Inclusive lower bound of a bucket in ms (for exporters that need bucket edges, e.g. Prometheus). */
export function bucketLowerBound(index: number): number {
  return bucketRange(index)[0] / 1000;
}

/** Exclusive upper bound of a bucket in ms. */
export function bucketUpperBound(index: number): number {
  const [lower, width] = bucketRange(index);
  return (lower + width) / 1000;
}

/**
 * 1-based rank of the sample reported for quantile `p` of `n` samples: ceil(p × n), at least 1.
 * p = 0 gives the smallest sample, p = 1 the largest. The small epsilon keeps e.g. 0.9999 × 10000
 * from rounding up to the next rank through floating-point noise.
 */
export function rankFor(p: number, n: number): number {
  const q = p > 1 ? 1 : p > 0 ? p : 0;
  const rank = Math.ceil(q * n - 1e-9);
  return rank < 1 ? 1 : rank > n ? n : rank;
}

/** Throws StatsError when sparse histogram data is malformed (mismatched arrays, bad index or count). */
export function checkHistogramData(data: HistogramData): void {
  const { indices, counts } = data;
  if (!Array.isArray(indices) || !Array.isArray(counts) || indices.length !== counts.length) {
    throw new StatsError('CICADA_ERR_STATS_BAD_HISTOGRAM', 'histogram data needs `indices` and `counts` arrays of equal length');
  }
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    const count = counts[i]!;
    if (!Number.isInteger(index) || index < 0 || index >= BUCKET_COUNT) {
      throw new StatsError('CICADA_ERR_STATS_BAD_HISTOGRAM', `histogram bucket index ${String(index)} is outside 0..${BUCKET_COUNT - 1}`);
    }
    if (!Number.isFinite(count) || count < 0) {
      throw new StatsError('CICADA_ERR_STATS_BAD_HISTOGRAM', `histogram count ${String(count)} at bucket ${index} is not a non-negative number`);
    }
  }
}

/**
 * Values at several quantiles of sparse histogram data, in one pass. `ps` may come in any order;
 * results are aligned with it. Returns null for each quantile when the data holds no samples.
 */
export function percentilesOfData(data: HistogramData, ps: readonly number[]): (number | null)[] {
  let indices = data.indices;
  let counts = data.counts;
  for (let i = 1; i < indices.length; i++) {
    if (indices[i]! < indices[i - 1]!) {
      // Not produced by toData(); sort a copy rather than trusting the order.
      const order = indices.map((_, k) => k).sort((a, b) => indices[a]! - indices[b]!);
      indices = order.map((k) => data.indices[k]!);
      counts = order.map((k) => data.counts[k]!);
      break;
    }
  }
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  if (n === 0) return ps.map(() => null);
  const wanted = ps.map((p) => rankFor(p, n));
  const order = wanted.map((_, k) => k).sort((a, b) => wanted[a]! - wanted[b]!);
  const out: (number | null)[] = ps.map(() => null);
  let seen = 0;
  let next = 0;
  for (let i = 0; i < indices.length && next < order.length; i++) {
    seen += counts[i]!;
    while (next < order.length && seen >= wanted[order[next]!]!) {
      out[order[next]!] = bucketValue(indices[i]!);
      next++;
    }
  }
  return out;
}

/**
 * A response-time histogram. `record` allocates nothing once the bucket's page exists.
 * @example
 * ```ts
 * const h = new Histogram();
 * h.record(12.5);
 * h.recordCount(80, 3);
 * h.valueAtPercentile(0.5); // ≈ 80
 * ```
 */
export class Histogram {
  /** Counts per page of 512 buckets; undefined until a value lands in the page. */
  private readonly pages: (Float64Array | undefined)[] = new Array<Float64Array | undefined>(PAGE_COUNT).fill(undefined);
  private total = 0;

  /** Number of samples recorded. */
  get count(): number {
    return this.total;
  }

  /** Records one response time in ms. */
  record(ms: number): void {
    const index = bucketIndex(ms);
    const page = this.pages[index >>> SUB_BITS] ?? this.allocate(index >>> SUB_BITS);
    const slot = index & SUB_MASK;
    page[slot] = page[slot]! + 1;
    this.total += 1;
  }

  /** Records `n` samples of the same response time (ms). */
  recordCount(ms: number, n: number): void {
    if (!(n > 0)) return;
    this.add(bucketIndex(ms), n);
  }

  /** Samples in the bucket with this index. */
  countAt(index: number): number {
    return this.pages[index >>> SUB_BITS]?.[index & SUB_MASK] ?? 0;
  }

  /**
   * The value (ms) at quantile `p` in [0, 1]: the representative value of the bucket holding the
   * sample of rank ceil(p × count). p = 1 gives the highest recorded bucket. 0 when empty.
   */
  valueAtPercentile(p: number): number {
    return this.valuesAtPercentiles([p])[0] ?? 0;
  }

  /** Values at several quantiles in one pass, aligned with `ps`; null each when empty. */
  valuesAtPercentiles(ps: readonly number[]): (number | null)[] {
    return percentilesOfData(this.toData(), ps);
  }

  /** Adds every count of `other` (exact). */
  merge(other: Histogram): void {
    for (let p = 0; p < PAGE_COUNT; p++) {
      const src = other.pages[p];
      if (src === undefined) continue;
      const dst = this.pages[p] ?? this.allocate(p);
      for (let i = 0; i < SUB; i++) dst[i] = dst[i]! + src[i]!;
    }
    this.total += other.total;
  }

  /** Removes every count of `other`; throws if that would make a bucket negative (nothing is changed then). */
  subtract(other: Histogram): void {
    for (let p = 0; p < PAGE_COUNT; p++) {
      const src = other.pages[p];
      if (src === undefined) continue;
      const dst = this.pages[p];
      for (let i = 0; i < SUB; i++) {
        if (src[i]! > (dst?.[i] ?? 0)) {
          throw new StatsError('CICADA_ERR_STATS_NEGATIVE_COUNT', `subtracting would make bucket ${p * SUB + i} negative`);
        }
      }
    }
    for (let p = 0; p < PAGE_COUNT; p++) {
      const src = other.pages[p];
      const dst = this.pages[p];
      if (src === undefined || dst === undefined) continue;
      for (let i = 0; i < SUB; i++) dst[i] = dst[i]! - src[i]!;
    }
    this.total -= other.total;
  }

  /** Adds sparse data (e.g. from a worker's snapshot). Validates it first; throws StatsError if malformed. */
  addData(data: HistogramData): void {
    checkHistogramData(data);
    this.addChecked(data);
  }

  /** Adds sparse data the caller has already passed through `checkHistogramData`. */
  addChecked(data: HistogramData): void {
    for (let i = 0; i < data.indices.length; i++) this.add(data.indices[i]!, data.counts[i]!);
  }

  /**
   * Removes sparse data this histogram is known to hold because it was added before (the master
   * replacing a worker's older report): no validation, no allocation. Use `subtractData` otherwise.
   */
  subtractAdded(data: HistogramData): void {
    for (let i = 0; i < data.indices.length; i++) this.add(data.indices[i]!, -data.counts[i]!);
  }

  /** Removes sparse data; validates first and throws (changing nothing) if a bucket would go negative. */
  subtractData(data: HistogramData): void {
    checkHistogramData(data);
    const need = new Map<number, number>();
    for (let i = 0; i < data.indices.length; i++) {
      const index = data.indices[i]!;
      need.set(index, (need.get(index) ?? 0) + data.counts[i]!);
    }
    for (const [index, count] of need) {
      if (count > this.countAt(index)) {
        throw new StatsError('CICADA_ERR_STATS_NEGATIVE_COUNT', `subtracting would make bucket ${index} negative`);
      }
    }
    for (const [index, count] of need) this.add(index, -count);
  }

  /**
   * Sparse difference `this − earlier` (buckets that grew, with how much). Throws if any bucket
   * shrank, i.e. `earlier` is not an earlier state of this histogram.
   */
  deltaSince(earlier: Histogram): HistogramData {
    const indices: number[] = [];
    const counts: number[] = [];
    for (let p = 0; p < PAGE_COUNT; p++) {
      const now = this.pages[p];
      const before = earlier.pages[p];
      if (now === undefined) {
        if (before !== undefined && before.some((c) => c > 0)) {
          throw new StatsError('CICADA_ERR_STATS_NEGATIVE_COUNT', `histogram lost samples in page ${p} since the earlier copy`);
        }
        continue;
      }
      for (let i = 0; i < SUB; i++) {
        const d = now[i]! - (before?.[i] ?? 0);
        if (d === 0) continue;
        if (d < 0) throw new StatsError('CICADA_ERR_STATS_NEGATIVE_COUNT', `histogram bucket ${p * SUB + i} shrank since the earlier copy`);
        indices.push(p * SUB + i);
        counts.push(d);
      }
    }
    return { indices, counts };
  }

  /** Makes this histogram equal to `other`, reusing pages already allocated. */
  copyFrom(other: Histogram): void {
    for (let p = 0; p < PAGE_COUNT; p++) {
      const src = other.pages[p];
      if (src === undefined) this.pages[p]?.fill(0);
      else (this.pages[p] ?? this.allocate(p)).set(src);
    }
    this.total = other.total;
  }

  /** Clears every count; pages stay allocated so recording again does not allocate. */
  reset(): void {
    for (const page of this.pages) page?.fill(0);
    this.total = 0;
  }

  /** Sparse plain data: non-zero buckets in ascending index order. */
  toData(): HistogramData {
    const indices: number[] = [];
    const counts: number[] = [];
    for (let p = 0; p < PAGE_COUNT; p++) {
      const page = this.pages[p];
      if (page === undefined) continue;
      for (let i = 0; i < SUB; i++) {
        const c = page[i]!;
        if (c !== 0) {
          indices.push(p * SUB + i);
          counts.push(c);
        }
      }
    }
    return { indices, counts };
  }

  /** A histogram holding `data` (validated; throws StatsError if malformed). */
  static fromData(data: HistogramData): Histogram {
    const h = new Histogram();
    h.addData(data);
    return h;
  }

  /** Approximate memory held by counts, bytes (for diagnostics and tests). */
  get byteSize(): number {
    let bytes = 0;
    for (const page of this.pages) bytes += page?.byteLength ?? 0;
    return bytes;
  }

  private add(index: number, n: number): void {
    const page = this.pages[index >>> SUB_BITS] ?? this.allocate(index >>> SUB_BITS);
    const slot = index & SUB_MASK;
    page[slot] = page[slot]! + n;
    this.total += n;
  }

  private allocate(pageIndex: number): Float64Array {
    const page = new Float64Array(SUB);
    this.pages[pageIndex] = page;
    return page;
  }
}
