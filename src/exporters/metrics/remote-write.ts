// Prometheus remote write 1.0: the metrics model as a snappy-compressed WriteRequest protobuf, and one HTTP push of it.
import { compress } from 'snappyjs';
import { Agent, request } from 'undici';
import type { Labels, MetricFamily } from './model.ts';

const utf8 = new TextEncoder();

/** Bytes a protobuf varint of `n` (a non-negative safe integer) takes. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** A length-delimited field's size: tag (1 byte for our field numbers), length, payload. */
function fieldSize(payload: number): number {
  return 1 + varintSize(payload) + payload;
}

/** Writes protobuf fields into a buffer of a size known in advance. */
class Writer {
  readonly out: Uint8Array;
  private readonly view: DataView;
  at = 0;
  constructor(size: number) {
    this.out = new Uint8Array(size);
    this.view = new DataView(this.out.buffer);
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.out[this.at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.out[this.at++] = n;
  }
  /** A field's key: field number << 3 | wire type (0 varint, 1 64-bit, 2 length-delimited). */
  tag(field: number, wire: 0 | 1 | 2): void {
    this.varint((field << 3) | wire);
  }
  raw(bytes: Uint8Array): void {
    this.out.set(bytes, this.at);
    this.at += bytes.length;
  }
  bytes(field: number, bytes: Uint8Array): void {
    this.tag(field, 2);
    this.varint(bytes.length);
    this.raw(bytes);
  }
  double(field: number, value: number): void {
    this.tag(field, 1);
    this.view.setFloat64(this.at, value, true);
    this.at += 8;
  }
}

/** `TimeSeries.labels` entry (field 1) holding `Label { name = 1; value = 2 }`, encoded once and copied into every series that has it. */
function labelField(name: string, value: string): Uint8Array {
  const n = utf8.encode(name);
  const v = utf8.encode(value);
  const inner = fieldSize(n.length) + fieldSize(v.length);
  const w = new Writer(fieldSize(inner));
  w.tag(1, 2);
  w.varint(inner);
  w.bytes(1, n);
  w.bytes(2, v);
  return w.out;
}

/** One series: its encoded label fields in label-name order, and its one value. */
interface Series {
  labels: Uint8Array[];
  value: number;
}

/**
 * A sample's own labels, sorted by name (remote write 1.0 requires it; names are ASCII, so code-unit
 * order is byte order) and encoded, with where `__name__` and `le` go among them. Empty values are left
 * out: Prometheus reads them as absent.
 */
function baseLabels(labels: Labels): { fields: Uint8Array[]; nameAt: number; leAt: number } {
  const pairs = Object.entries(labels).filter(([, v]) => v !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    fields: pairs.map(([n, v]) => labelField(n, v)),
    nameAt: pairs.filter(([n]) => n < '__name__').length,
    leAt: pairs.filter(([n]) => n < 'le').length,
  };
}

function withName(base: ReturnType<typeof baseLabels>, name: Uint8Array, le?: Uint8Array): Uint8Array[] {
  const f = base.fields;
  // '__name__' < 'le' ('_' sorts before letters), so nameAt <= leAt.
  if (le === undefined) return [...f.slice(0, base.nameAt), name, ...f.slice(base.nameAt)];
  return [...f.slice(0, base.nameAt), name, ...f.slice(base.nameAt, base.leAt), le, ...f.slice(base.leAt)];
}

/**
 * The series of the families the way the text format has them: counters and gauges as they are, a
 * histogram as `_bucket{le=…}` per bound (cumulative) plus `le="+Inf"` (the count), `_sum` and `_count`.
 */
function seriesOf(families: readonly MetricFamily[]): Series[] {
  const out: Series[] = [];
  // Bounds are shared by every histogram sample, so each `le` label is encoded once.
  const leFields = new Map<number, Uint8Array>();
  const leField = (bound: number): Uint8Array => {
    let f = leFields.get(bound);
    // String(bound) is how the text format writes `le` too, so both exports name the same buckets.
    if (f === undefined) leFields.set(bound, (f = labelField('le', bound === Number.POSITIVE_INFINITY ? '+Inf' : String(bound))));
    return f;
  };
  for (const family of families) {
    if (family.type === 'histogram') {
      const [bucket, sum, count] = ['_bucket', '_sum', '_count'].map((suffix) => labelField('__name__', `${family.name}${suffix}`)) as [Uint8Array, Uint8Array, Uint8Array];
      for (const s of family.samples) {
        const base = baseLabels(s.labels);
        family.bounds.forEach((bound, i) => out.push({ labels: withName(base, bucket, leField(bound)), value: s.cumulative[i] ?? 0 }));
        out.push({ labels: withName(base, bucket, leField(Number.POSITIVE_INFINITY)), value: s.count });
        out.push({ labels: withName(base, sum), value: s.sum }, { labels: withName(base, count), value: s.count });
      }
    } else {
      const name = labelField('__name__', family.name);
      for (const s of family.samples) out.push({ labels: withName(baseLabels(s.labels), name), value: s.value });
    }
  }
  return out;
}

/**
 * The protobuf of `WriteRequest { repeated TimeSeries timeseries = 1; }` with `TimeSeries { repeated
 * Label labels = 1; repeated Sample samples = 2; }` and `Sample { double value = 1; int64 timestamp = 2; }`
 * (prompb, remote write 1.0), every series with one sample at `timestampMs`. Hand-written for this fixed
 * schema: label fields are encoded once and copied, sizes are summed first, and the message is written
 * once into a buffer of the exact size.
 */
export function encodeWriteRequest(families: readonly MetricFamily[], timestampMs: number): { bytes: Uint8Array; samples: number } {
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw new RangeError(`timestamp must be a non-negative integer of ms, got ${timestampMs}`);
  const series = seriesOf(families);
  const sampleSize = 1 + 8 + 1 + varintSize(timestampMs);
  const sizes = series.map((s) => s.labels.reduce((sum, l) => sum + l.length, 0) + fieldSize(sampleSize));
  const w = new Writer(sizes.reduce((sum, size) => sum + fieldSize(size), 0));
  series.forEach((s, i) => {
    w.tag(1, 2);
    w.varint(sizes[i]!);
    for (const label of s.labels) w.raw(label);
    w.tag(2, 2);
    w.varint(sampleSize);
    w.double(1, s.value);
    w.tag(2, 0);
    w.varint(timestampMs);
  });
  if (w.at !== w.out.length) throw new Error(`remote write encoder: wrote ${w.at} bytes of ${w.out.length} (a bug)`);
  return { bytes: w.out, samples: series.length };
}

/** A push ready to send: the snappy block-compressed WriteRequest, and how many samples it holds. */
export interface RemoteWriteBatch {
  body: Uint8Array;
  points: number;
}

/** Every family as one WriteRequest at `timestampMs`, compressed with snappy's block format (not framed), as the spec requires. */
export function remoteWriteBatch(families: readonly MetricFamily[], timestampMs: number): RemoteWriteBatch {
  const { bytes, samples } = encodeWriteRequest(families, timestampMs);
  return { body: compress(bytes), points: samples };
}

/** The request headers remote write 1.0 prescribes, plus the bearer token when there is one. */
export function remoteWriteHeaders(options: { userAgent: string; token?: string | undefined }): Record<string, string> {
  return {
    'content-encoding': 'snappy',
    'content-type': 'application/x-protobuf',
    'x-prometheus-remote-write-version': '0.1.0',
    'user-agent': options.userAgent,
    ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
  };
}

/**
 * A receiver's non-2xx answer. `retryable` follows the spec: 5xx and 429 may succeed later; any other
 * status (a 4xx: bad labels, out of order, unauthorized; or a redirect to follow by hand) will not.
 */
export class RemoteWriteRejected extends Error {
  readonly status: number;
  readonly retryable: boolean;
  constructor(status: number, body: string) {
    const excerpt = body.trim().slice(0, 200);
    super(`the receiver answered HTTP ${status}${excerpt === '' ? '' : `: ${excerpt}`}`);
    this.name = 'RemoteWriteRejected';
    this.status = status;
    this.retryable = status >= 500 || status === 429;
  }
}

export interface RemoteWriteTarget {
  /** The receiver, e.g. `https://prometheus:9090/api/v1/write`. */
  url: URL;
  /** `cicada/<version>`. */
  userAgent: string;
  token?: string | undefined;
  /** PEM certificates to trust for https (the system's CAs otherwise). */
  ca?: Buffer | undefined;
}

/** Sends batches to one receiver over kept-alive connections; `close` ends them. */
export interface RemoteWriteSender {
  send(body: Uint8Array, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** A sender for `target`: resolves on 2xx, throws `RemoteWriteRejected` on any other status, and the connection's error otherwise. */
export function remoteWriteSender(target: RemoteWriteTarget): RemoteWriteSender {
  const agent = new Agent(target.ca !== undefined ? { connect: { ca: target.ca } } : {});
  const headers = remoteWriteHeaders(target);
  return {
    async send(body, signal) {
      const answer = await request(target.url, { method: 'POST', headers, body, signal, dispatcher: agent });
      if (answer.statusCode >= 200 && answer.statusCode < 300) {
        await answer.body.dump();
        return;
      }
      // Receivers explain a refusal in the body (Prometheus: "out of order sample", a label error …).
      const text = await answer.body.text().catch(() => '');
      throw new RemoteWriteRejected(answer.statusCode, text);
    },
    // destroy, not close: by now the channel has given up on anything in flight, and a hung
    // receiver must not keep the process alive.
    close: () => agent.destroy(),
  };
}
