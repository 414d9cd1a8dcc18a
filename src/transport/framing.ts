// Frames on the wire: a 4-byte big-endian body length, then a msgpack body (or a sealed one, link-cipher.ts). Hostile-input safe.
import { Decoder, Encoder, type ExtData, type ExtensionCodecType } from '@msgpack/msgpack';
import { CicadaError } from '../core/errors.ts';
import { FrameDecodeError, FrameEncodeError, FrameTooLargeError, TransportConfigError } from './errors.ts';
import { checkMsgpackStructure, MAX_NESTING_DEPTH } from './msgpack-guard.ts';

/** Largest frame body accepted or produced by default, in bytes (8 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

const HEADER_BYTES = 4;
const MAX_LENGTH_FIELD = 0xffff_ffff;

/** Our messages are plain data: refuse anything msgpack would turn into an extension or silently flatten to `{}`. */
const plainDataCodec: ExtensionCodecType<undefined> = {
  tryToEncode(object: unknown): ExtData | null {
    if (typeof object === 'object' && object !== null) {
      if (Array.isArray(object) || object instanceof Uint8Array) return null;
      const proto: unknown = Object.getPrototypeOf(object);
      if (proto === Object.prototype || proto === null) return null;
    }
    throw new FrameEncodeError(`${Object.prototype.toString.call(object)} is not plain data`);
  },
  decode(_data: Uint8Array, type: number): unknown {
    // Unreachable after checkMsgpackStructure; kept so no extension can ever decode into an object.
    throw new FrameDecodeError(`msgpack extension type ${type} is not accepted`);
  },
};

// One shared instance each: encoding and decoding are synchronous, and the encoder reuses its growing buffer.
// The encoder's maxDepth counts the top-level value as 1 and scalars too, hence the +1 for the innermost values.
const encoder = new Encoder({ extensionCodec: plainDataCodec, maxDepth: MAX_NESTING_DEPTH + 1 });
const decoder = new Decoder({ extensionCodec: plainDataCodec });

function checkLimit(maxFrameBytes: number): number {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1 || maxFrameBytes > MAX_LENGTH_FIELD) {
    throw new TransportConfigError(`maxFrameBytes must be an integer from 1 to ${MAX_LENGTH_FIELD}, got ${maxFrameBytes}`);
  }
  return maxFrameBytes;
}

/**
 * The msgpack body of one message, without a length prefix. The bytes are the shared encoder's buffer: valid
 * only until the next encode, so frame or seal them at once. Throws FrameEncodeError for non-plain data.
 */
export function encodeBody(message: unknown): Uint8Array {
  try {
    return encoder.encodeSharedRef(message);
  } catch (error) {
    if (error instanceof CicadaError) throw error;
    throw new FrameEncodeError(error instanceof Error ? error.message : String(error), error);
  }
}

/** A clear frame (length prefix + body). Throws FrameTooLargeError over `maxFrameBytes`. */
export function frameBody(body: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  if (body.byteLength > maxFrameBytes) throw new FrameTooLargeError(body.byteLength, maxFrameBytes);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.byteLength);
  frame.writeUInt32BE(body.byteLength, 0);
  frame.set(body, HEADER_BYTES);
  return frame;
}

/** Encodes one message as a clear frame. Throws FrameTooLargeError over `maxFrameBytes`, FrameEncodeError for non-plain data. */
export function encodeFrame(message: unknown, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Buffer {
  return frameBody(encodeBody(message), maxFrameBytes);
}

/** Decodes one frame body (without its length prefix), applying every safety check. */
export function decodeBody(body: Uint8Array): unknown {
  checkMsgpackStructure(body);
  try {
    // msgpack itself refuses `__proto__` keys; `constructor` and friends stay plain own data properties.
    return decoder.decode(body);
  } catch (error) {
    if (error instanceof FrameDecodeError) throw error;
    throw new FrameDecodeError(error instanceof Error ? error.message : String(error), error);
  }
}

/**
 * Streaming decoder: feed it socket chunks, get whole frame bodies (or decoded messages) back. The length prefix is
 * checked the moment its 4 bytes arrive, so an oversized frame — sealed or clear — is refused before any of its body
 * is buffered. After an error the decoder stays failed (the connection must be closed).
 */
export class FrameDecoder {
  private limit: number;
  private readonly chunks: Buffer[] = [];
  private buffered = 0; // bytes held in `chunks`
  private bodyLength = -1; // length of the frame being assembled; -1 while waiting for its prefix
  private failure: Error | undefined;

  constructor(options: { maxFrameBytes?: number } = {}) {
    this.limit = checkLimit(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
  }

  /** The current frame limit in bytes. */
  get maxFrameBytes(): number {
    return this.limit;
  }

  /** Raises or lowers the limit (the server keeps it small until the handshake is done). */
  setMaxFrameBytes(maxFrameBytes: number): void {
    this.limit = checkLimit(maxFrameBytes);
  }

  /** Bytes received but not yet part of a whole frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk and returns the messages it completed. Throws FrameTooLargeError or FrameDecodeError. */
  push(chunk: Buffer): unknown[] {
    return this.guard(() => this.drain(chunk).map(decodeBody));
  }

  /** Adds a chunk and returns the frame bodies it completed, undecoded (sealed ones are opened first). Throws FrameTooLargeError or FrameDecodeError. */
  pushBodies(chunk: Buffer): Buffer[] {
    return this.guard(() => this.drain(chunk));
  }

  private guard<T>(work: () => T): T {
    if (this.failure !== undefined) throw this.failure;
    try {
      return work();
    } catch (error) {
      this.failure = error instanceof Error ? error : new FrameDecodeError(String(error));
      this.chunks.length = 0;
      this.buffered = 0;
      throw this.failure;
    }
  }

  private drain(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const bodies: Buffer[] = [];
    for (;;) {
      if (this.bodyLength < 0) {
        if (this.buffered < HEADER_BYTES) return bodies;
        const length = this.take(HEADER_BYTES).readUInt32BE(0);
        if (length === 0) throw new FrameDecodeError('zero-length frame');
        if (length > this.limit) throw new FrameTooLargeError(length, this.limit);
        this.bodyLength = length;
      }
      if (this.buffered < this.bodyLength) return bodies;
      bodies.push(this.take(this.bodyLength));
      this.bodyLength = -1;
    }
  }

  /** Removes and returns the next `n` buffered bytes, copying only when they span chunks. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    // Spanning copy: walk the chunks by index and drop the used ones in one splice (no O(k²) shifting).
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let index = 0;
    while (filled < n) {
      const head = this.chunks[index];
      if (head === undefined) throw new FrameDecodeError('internal: buffer underrun'); // guarded by `buffered`
      const used = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) index += 1;
      else this.chunks[index] = head.subarray(used);
    }
    this.chunks.splice(0, index);
    return out;
  }
}
