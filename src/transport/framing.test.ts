// Framing: round trips, streaming at every split, limits checked before buffering, and hostile msgpack bodies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder } from './framing.ts';
import { FrameDecodeError, FrameEncodeError, FrameTooLargeError } from './errors.ts';
import { MAX_NESTING_DEPTH } from './msgpack-guard.ts';

/** A frame around arbitrary body bytes (bypasses encodeFrame's checks, like a hostile peer would). */
function rawFrame(body: Uint8Array): Buffer {
  const frame = Buffer.alloc(4 + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  frame.set(body, 4);
  return frame;
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
}

const sample = {
  t: 'stats',
  seq: 42,
  negative: -7,
  big: 2 ** 40,
  ratio: 0.25,
  ok: true,
  none: null,
  name: 'GET /items/[id] — ünïcødé',
  list: [1, 'two', { three: 3 }],
  bytes: Buffer.from([0, 1, 2, 255]), // bin values decode as Buffers (views into the received chunk)
};

describe('frames', () => {
  it('round-trips a message through encodeFrame and FrameDecoder', () => {
    const frame = encodeFrame(sample);
    assert.equal(frame.readUInt32BE(0), frame.length - 4);
    assert.deepEqual(new FrameDecoder().push(frame), [sample]);
  });

  it('decodes several frames from one chunk, in order', () => {
    const chunk = Buffer.concat([encodeFrame({ n: 1 }), encodeFrame({ n: 2 }), encodeFrame('three')]);
    assert.deepEqual(new FrameDecoder().push(chunk), [{ n: 1 }, { n: 2 }, 'three']);
  });

  it('decodes the same messages whatever byte boundary the stream is split at', () => {
    const stream = Buffer.concat([encodeFrame(sample), encodeFrame({ second: [1, 2, 3] }), encodeFrame(7)]);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const decoder = new FrameDecoder();
      const out = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      assert.deepEqual(out, [sample, { second: [1, 2, 3] }, 7], `split at byte ${cut}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
    const decoder = new FrameDecoder();
    const byByte = [...stream].flatMap((byte) => decoder.push(Buffer.from([byte])));
    assert.deepEqual(byByte, [sample, { second: [1, 2, 3] }, 7]);
  });

  it('refuses a 0xFFFFFFFF length prefix from its 4 header bytes alone', () => {
    const decoder = new FrameDecoder();
    assert.throws(() => decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xff])), (error: unknown) => {
      assert.ok(error instanceof FrameTooLargeError);
      assert.equal(error.code, 'CICADA_ERR_TRANSPORT_FRAME_TOO_LARGE');
      assert.equal(error.size, 0xffffffff);
      return true;
    });
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('refuses max + 1 before buffering any body, and accepts exactly max', () => {
    const max = 1024 * 1024;
    const header = Buffer.alloc(4);
    header.writeUInt32BE(max + 1, 0);
    const decoder = new FrameDecoder({ maxFrameBytes: max });
    assert.throws(() => decoder.push(header), FrameTooLargeError);
    assert.throws(() => decoder.push(Buffer.alloc(10)), FrameTooLargeError, 'a failed decoder stays failed');

    const atMax = encodeFrame(new Uint8Array(max - 5)); // bin32 header is 5 bytes
    assert.equal(atMax.length, 4 + max);
    assert.equal(new FrameDecoder({ maxFrameBytes: max }).push(atMax).length, 1);
  });

  it('refuses to encode a message over the limit', () => {
    assert.throws(() => encodeFrame(new Uint8Array(100), 50), FrameTooLargeError);
    assert.throws(() => encodeFrame(new Uint8Array(DEFAULT_MAX_FRAME_BYTES)), FrameTooLargeError);
  });

  it('refuses non-plain data when encoding instead of flattening it', () => {
    assert.throws(() => encodeFrame({ when: new Date() }), FrameEncodeError);
    assert.throws(() => encodeFrame(new Map([[1, 2]])), FrameEncodeError);
    assert.throws(() => encodeFrame({ f: () => 1 }), FrameEncodeError);
    assert.throws(() => encodeFrame(10n), FrameEncodeError);
  });

  it('keeps a truncated frame pending and returns nothing', () => {
    const frame = encodeFrame(sample);
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(frame.subarray(0, frame.length - 1)), []);
    assert.equal(decoder.bufferedBytes, frame.length - 5);
  });

  it('refuses a zero-length frame', () => {
    assert.throws(() => new FrameDecoder().push(Buffer.alloc(4)), FrameDecodeError);
  });

  it('refuses a body that is shorter or longer than one msgpack value', () => {
    const body = encode({ a: 1 });
    assert.throws(() => new FrameDecoder().push(rawFrame(body.subarray(0, body.length - 1))), FrameDecodeError);
    assert.throws(() => new FrameDecoder().push(rawFrame(Buffer.concat([body, Buffer.from([0xc0])]))), FrameDecodeError);
    assert.throws(() => new FrameDecoder().push(rawFrame(Buffer.from([0xc1]))), FrameDecodeError);
  });

  it('refuses msgpack extension types, including timestamps', () => {
    assert.throws(() => new FrameDecoder().push(rawFrame(encode(new Date(0)))), FrameDecodeError);
    assert.throws(() => new FrameDecoder().push(rawFrame(Buffer.from([0xd4, 0x05, 0x00]))), FrameDecodeError);
    assert.throws(() => new FrameDecoder().push(rawFrame(Buffer.from([0xc7, 0x00, 0x05]))), FrameDecodeError);
  });

  it('refuses __proto__ keys and leaves Object.prototype untouched', () => {
    const hostile = rawFrame(encode(JSON.parse('{"__proto__": {"polluted": true}}')));
    assert.throws(() => new FrameDecoder().push(hostile), FrameDecodeError);
    const nestedHostile = rawFrame(encode(JSON.parse('{"a": {"__proto__": {"polluted": true}}}')));
    assert.throws(() => new FrameDecoder().push(nestedHostile), FrameDecodeError);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('keeps constructor and prototype keys as plain data', () => {
    const body = encode(JSON.parse('{"constructor": {"prototype": {"polluted": true}}}'));
    const [message] = new FrameDecoder().push(rawFrame(body)) as [Record<string, unknown>];
    assert.deepEqual(message.constructor, { prototype: { polluted: true } });
    assert.ok(Object.hasOwn(message, 'constructor'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it(`accepts ${MAX_NESTING_DEPTH} levels of nesting and refuses ${MAX_NESTING_DEPTH + 1}`, () => {
    const ok = nested(MAX_NESTING_DEPTH);
    assert.deepEqual(new FrameDecoder().push(encodeFrame(ok)), [ok]);
    assert.throws(() => encodeFrame(nested(MAX_NESTING_DEPTH + 1)), FrameEncodeError);
    assert.throws(() => new FrameDecoder().push(rawFrame(Buffer.alloc(MAX_NESTING_DEPTH + 1, 0x91))), FrameDecodeError);
  });

  it('refuses 10,000-deep nesting quickly, without recursion', () => {
    const started = performance.now();
    const body = Buffer.concat([Buffer.alloc(10_000, 0x91), Buffer.from([0x01])]);
    assert.throws(() => new FrameDecoder().push(rawFrame(body)), FrameDecodeError);
    assert.ok(performance.now() - started < 50);
  });

  it('refuses containers that claim more elements than bytes remain (no giant allocation)', () => {
    assert.throws(() => new FrameDecoder().push(rawFrame(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]))), FrameDecodeError);
    assert.throws(() => new FrameDecoder().push(rawFrame(Buffer.from([0xdf, 0x7f, 0xff, 0xff, 0xff, 0xc0]))), FrameDecodeError);
    assert.throws(() => new FrameDecoder().push(rawFrame(Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff]))), FrameDecodeError);
  });

  it('decodes a 1e6-element array in well under a second', () => {
    const started = performance.now();
    const body = Buffer.concat([Buffer.from([0xdd, 0x00, 0x0f, 0x42, 0x40]), Buffer.alloc(1_000_000, 0xc0)]);
    const [array] = new FrameDecoder().push(rawFrame(body)) as [unknown[]];
    assert.equal(array.length, 1_000_000);
    assert.ok(performance.now() - started < 1000);
  });
});

describe('the decoder under random input (seeded, replayable)', () => {
  const ownErrors = (error: unknown): boolean =>
    error instanceof FrameDecodeError || error instanceof FrameTooLargeError;

  it('never throws anything but its own errors on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (chunks) => {
        const decoder = new FrameDecoder({ maxFrameBytes: 4096 });
        try {
          for (const chunk of chunks) decoder.push(Buffer.from(chunk));
        } catch (error) {
          if (!ownErrors(error)) throw error;
        }
      }),
      { seed: 42, numRuns: 5000 },
    );
  });

  it('never throws anything but its own errors on mutated valid frames', () => {
    const message = fc.jsonValue({ maxDepth: 4 });
    const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(message, mutation, fc.nat(), (value, edits, splitAt) => {
        const frame = Buffer.from(encodeFrame(value));
        for (const [at, byte] of edits) frame[at % frame.length] = byte;
        const cut = splitAt % (frame.length + 1);
        const decoder = new FrameDecoder({ maxFrameBytes: 4096 });
        try {
          decoder.push(frame.subarray(0, cut));
          decoder.push(frame.subarray(cut));
        } catch (error) {
          if (!ownErrors(error)) throw error;
        }
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      }),
      { seed: 42, numRuns: 10_000 },
    );
  });
});
