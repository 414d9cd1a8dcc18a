// The sealed-frame cipher alone: round trips, fresh nonces, every altered byte refused, replay/drop/reorder, key separation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameAuthError, FrameSequenceError, FrameTooLargeError } from './errors.ts';
import { decodeBody, encodeBody, FrameDecoder } from './framing.ts';
import { newNonce } from './handshake.ts';
import { deriveLinkKeys, HandshakeTranscript, LinkCipher, SEAL_OVERHEAD_BYTES } from './link-cipher.ts';
import { OTHER_SECRET, SECRET } from './test-support.test-helper.ts';

const MAX = 1024 * 1024;

function transcriptOf(...frames: string[]): Buffer {
  const t = new HandshakeTranscript();
  for (const f of frames) t.addFrame(Buffer.from(f));
  return t.digest();
}

/** A worker's and a master's cipher for one connection. */
function pair(options: { secret?: Buffer; masterSecret?: Buffer; transcript?: Buffer; masterTranscript?: Buffer } = {}) {
  const workerNonce = newNonce();
  const masterNonce = newNonce();
  const transcript = options.transcript ?? transcriptOf('hello', 'challenge', 'auth');
  const worker = LinkCipher.forWorker(deriveLinkKeys(options.secret ?? SECRET, workerNonce, masterNonce, transcript));
  const master = LinkCipher.forMaster(
    deriveLinkKeys(options.masterSecret ?? options.secret ?? SECRET, workerNonce, masterNonce, options.masterTranscript ?? transcript),
    'w1',
  );
  return { worker, master };
}

/** The sealed body (what the decoder hands over) of one message. */
function sealBody(cipher: LinkCipher, message: unknown): Buffer {
  const [body] = new FrameDecoder({ maxFrameBytes: MAX }).pushBodies(cipher.seal(encodeBody(message), MAX));
  return body!;
}

describe('LinkCipher', () => {
  it('round-trips messages both ways, in order', () => {
    const { worker, master } = pair();
    for (let i = 0; i < 5; i += 1) {
      assert.deepEqual(decodeBody(master.open(sealBody(worker, { type: 'stats', seq: i }))), { type: 'stats', seq: i });
      assert.deepEqual(decodeBody(worker.open(sealBody(master, { type: 'spawn', seq: i }))), { type: 'spawn', seq: i });
    }
    assert.equal(worker.sentFrames, 5);
  });

  it('never repeats a nonce: the counter in each frame goes up by one, and equal messages seal differently', () => {
    const { worker } = pair();
    const frames = [0, 1, 2].map(() => worker.seal(encodeBody({ same: 'message' }), MAX));
    assert.deepEqual(frames.map((f) => f.readUInt32BE(4) * 2 ** 32 + f.readUInt32BE(8)), [0, 1, 2]);
    assert.notDeepEqual(frames[0]!.subarray(12), frames[1]!.subarray(12));
    assert.equal(new Set(frames.map((f) => f.toString('hex'))).size, 3);
  });

  it('refuses every single flipped bit, anywhere in the frame', () => {
    const body = sealBody(pair().worker, { type: 'spawn', host: 'http://target.example' });
    for (let byte = 0; byte < body.length; byte += 1) {
      for (const bit of [0x01, 0x80]) {
        const { worker, master } = pair();
        const good = sealBody(worker, { type: 'spawn', host: 'http://target.example' });
        const bad = Buffer.from(good);
        bad[byte] = bad[byte]! ^ bit;
        assert.throws(() => master.open(bad), (e: unknown) => e instanceof FrameAuthError || e instanceof FrameSequenceError, `byte ${byte}`);
      }
    }
  });

  it('refuses a replayed, a skipped and a reordered frame as out of sequence, and stays failed', () => {
    for (const order of [[0, 0], [1], [1, 0]]) {
      const { worker, master } = pair();
      const sealed = [sealBody(worker, { n: 0 }), sealBody(worker, { n: 1 })];
      let error: unknown;
      try {
        for (const i of order) master.open(sealed[i]!);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof FrameSequenceError, `order ${order.join(',')}: ${String(error)}`);
      assert.match(error.message, /out of sequence: frame \d where frame \d was expected/);
      assert.throws(() => master.open(sealed[0]!), FrameSequenceError, 'one failure and the link is done');
    }
  });

  it('refuses a frame reflected back to its sender, one from another connection, and one too short to be sealed', () => {
    const { worker, master } = pair();
    assert.throws(() => worker.open(sealBody(worker, { n: 0 })), FrameAuthError); // each direction has its own key
    const other = pair();
    assert.throws(() => master.open(sealBody(other.worker, { n: 0 })), FrameAuthError); // fresh nonces: fresh keys
    assert.throws(() => pair().master.open(Buffer.alloc(SEAL_OVERHEAD_BYTES - 1)), /too short to be sealed/);
  });

  it('gives different keys for another secret or a handshake altered on the way (meta included)', () => {
    for (const options of [{ masterSecret: OTHER_SECRET }, { masterTranscript: transcriptOf('hello', 'challenge', 'auth with other meta') }]) {
      const { worker, master } = pair(options);
      assert.throws(() => master.open(sealBody(worker, { n: 0 })), /frame 0 from w1 failed authentication/);
    }
  });

  it('applies the frame limit to the sealed length, overhead included', () => {
    const { worker } = pair();
    const body = encodeBody(new Uint8Array(100));
    const exact = body.byteLength + SEAL_OVERHEAD_BYTES;
    assert.equal(worker.seal(body, exact).length, 4 + exact);
    assert.throws(() => worker.seal(encodeBody(new Uint8Array(100)), exact - 1), FrameTooLargeError);
  });
});
