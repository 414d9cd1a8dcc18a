// Sealed frames for a shared-secret link: AES-256-GCM, one HKDF-SHA256 key per direction, a frame counter as nonce.
//
// A sealed frame on the wire (every frame after `welcome` when a secret is configured):
//
//   offset  size  field
//   0       4     length      u32 BE, bytes after this field = 8 + body + 16; the frame limit applies to it
//   4       8     counter     u64 BE, this direction's frame number: 0, 1, 2, … (never repeats under one key)
//   12      n     ciphertext  AES-256-GCM of the msgpack body
//   12+n    16    tag         GCM tag over the ciphertext and the 12 header bytes (length + counter) as AAD
//
// Nonce (96 bits) = 00 00 00 <direction: 01 worker→master, 02 master→worker> | counter (8 bytes, BE).
//
// Invariants:
// - Nonce uniqueness: a key is used by one sender only (one key per direction), that sender's counter starts at 0
//   for a fresh key and only goes up, it is taken before encryption (a failed seal still burns its number), and the
//   link refuses to seal past MAX_SEALED_FRAMES, so (key, nonce) never repeats. Keys are fresh per connection:
//   both sides' random nonces and the whole handshake transcript go into the derivation.
// - The receiver expects exactly the next counter. A replayed, dropped or reordered frame carries another number
//   and is refused before decryption; a rewritten counter or length breaks the tag (both are AAD, and the counter
//   is in the nonce too).
// - Plaintext is returned only after the tag has verified (decipher.final()): nothing unauthenticated is parsed.
// - One failure and the cipher stays failed: the connection is closed, never resynchronised.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, type Hash } from 'node:crypto';
import { FrameAuthError, FrameSequenceError, FrameTooLargeError } from './errors.ts';

/** Bytes a sealed frame adds to its msgpack body (counter + tag); they count against the frame limit. */
export const SEAL_OVERHEAD_BYTES = 8 + 16;
/** Frames one direction may seal under one key; at 100,000 frames a second that is 89 years. Far below 2^64. */
export const MAX_SEALED_FRAMES = 2 ** 48;

const HEADER_BYTES = 12; // length + counter: authenticated, not encrypted
const TAG_BYTES = 16;
const KEY_LABEL = 'cicada link v1 key';
const TO_MASTER = 1;
const TO_WORKER = 2;

/** A running SHA-256 over the handshake frames exactly as they crossed the wire, so tampering with any of them changes the keys. */
export class HandshakeTranscript {
  private readonly hash: Hash = createHash('sha256');

  /** Adds a whole frame (length prefix included), as sent. */
  addFrame(frame: Uint8Array): void {
    this.hash.update(frame);
  }

  /** Adds a received frame body, with the length prefix it came with. */
  addBody(body: Uint8Array): void {
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeUInt32BE(body.byteLength, 0);
    this.hash.update(prefix).update(body);
  }

  digest(): Buffer {
    return this.hash.digest();
  }
}

export interface LinkKeys {
  workerToMaster: Buffer;
  masterToWorker: Buffer;
}

/** HKDF-SHA256(ikm = secret, salt = workerNonce | masterNonce, info = label | direction | transcript hash), 32 bytes per direction. */
export function deriveLinkKeys(secret: Buffer, workerNonce: Uint8Array, masterNonce: Uint8Array, transcript: Buffer): LinkKeys {
  const salt = Buffer.concat([workerNonce, masterNonce]);
  const key = (direction: number): Buffer =>
    Buffer.from(hkdfSync('sha256', secret, salt, Buffer.concat([Buffer.from(KEY_LABEL), Buffer.of(direction), transcript]), 32));
  return { workerToMaster: key(TO_MASTER), masterToWorker: key(TO_WORKER) };
}

function nonce(direction: number, counter: number): Buffer {
  const n = Buffer.alloc(12);
  n[3] = direction;
  n.writeUInt32BE(Math.floor(counter / 2 ** 32), 4);
  n.writeUInt32BE(counter >>> 0, 8);
  return n;
}

/** Seals what one side sends and opens what it receives; one instance per connection, used in frame order. */
export class LinkCipher {
  private sent = 0; // counter of the next frame to seal
  private received = 0; // counter the next frame must carry
  private failure: Error | undefined;

  private constructor(
    private readonly sendKey: Buffer,
    private readonly sendDirection: number,
    private readonly receiveKey: Buffer,
    private readonly receiveDirection: number,
    /** Who sent what we open, for messages: "the master" or a worker id. */
    private readonly peer: string,
  ) {}

  static forWorker(keys: LinkKeys): LinkCipher {
    return new LinkCipher(keys.workerToMaster, TO_MASTER, keys.masterToWorker, TO_WORKER, 'the master');
  }

  static forMaster(keys: LinkKeys, workerId: string): LinkCipher {
    return new LinkCipher(keys.masterToWorker, TO_WORKER, keys.workerToMaster, TO_MASTER, workerId);
  }

  /** Frames sealed so far. */
  get sentFrames(): number {
    return this.sent;
  }

  /** The whole frame (length prefix included) for one msgpack body. Throws FrameTooLargeError past `maxFrameBytes`. */
  seal(body: Uint8Array, maxFrameBytes: number): Buffer {
    const length = body.byteLength + SEAL_OVERHEAD_BYTES;
    if (length > maxFrameBytes) throw new FrameTooLargeError(length, maxFrameBytes);
    if (this.sent >= MAX_SEALED_FRAMES) throw new FrameSequenceError(`${MAX_SEALED_FRAMES} frames sealed under one key: reconnect for fresh keys`);
    const counter = this.sent;
    this.sent += 1; // taken before encrypting: this number is never used again, whatever happens below
    const frame = Buffer.allocUnsafe(4 + length);
    frame.writeUInt32BE(length, 0);
    frame.writeUInt32BE(Math.floor(counter / 2 ** 32), 4);
    frame.writeUInt32BE(counter >>> 0, 8);
    const cipher = createCipheriv('aes-256-gcm', this.sendKey, nonce(this.sendDirection, counter), { authTagLength: TAG_BYTES });
    cipher.setAAD(frame.subarray(0, HEADER_BYTES));
    const encrypted = cipher.update(body); // GCM is a stream mode: as many bytes out as in, final() adds none
    encrypted.copy(frame, HEADER_BYTES);
    cipher.final();
    cipher.getAuthTag().copy(frame, HEADER_BYTES + body.byteLength);
    return frame;
  }

  /** The msgpack body of one sealed frame body (what follows the length prefix). Throws FrameSequenceError or FrameAuthError. */
  open(sealed: Uint8Array): Buffer {
    if (this.failure !== undefined) throw this.failure;
    try {
      return this.openNext(sealed);
    } catch (error) {
      this.failure = error instanceof Error ? error : new FrameAuthError(String(error));
      throw this.failure;
    }
  }

  private openNext(sealed: Uint8Array): Buffer {
    const expected = this.received;
    if (sealed.byteLength < SEAL_OVERHEAD_BYTES) {
      throw new FrameAuthError(`frame ${expected} from ${this.peer} is ${sealed.byteLength} bytes, too short to be sealed`);
    }
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const counter = bytes.readUInt32BE(0) * 2 ** 32 + bytes.readUInt32BE(4);
    if (counter !== expected) {
      throw new FrameSequenceError(
        `frame from ${this.peer} out of sequence: frame ${counter} where frame ${expected} was expected (replayed, dropped, reordered or altered)`,
      );
    }
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32BE(bytes.length, 0);
    bytes.copy(header, 4, 0, 8);
    const decipher = createDecipheriv('aes-256-gcm', this.receiveKey, nonce(this.receiveDirection, counter), { authTagLength: TAG_BYTES });
    decipher.setAAD(header);
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plain = decipher.update(bytes.subarray(8, bytes.length - TAG_BYTES));
    try {
      decipher.final(); // verifies the tag; until it returns, `plain` is not trusted and never leaves this function
    } catch {
      throw new FrameAuthError(`frame ${expected} from ${this.peer} failed authentication (altered in transit, or sealed with another key)`);
    }
    this.received = expected + 1;
    return plain;
  }
}
