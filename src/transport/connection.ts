// One authenticated peer link over a socket: send/receive framed (and, with a secret, sealed) messages, bounded write buffering, close once.
import type { Socket } from 'node:net';
import type { Logger } from '../core/logger.ts';
import { FrameSequenceError } from './errors.ts';
import { decodeBody, encodeBody, frameBody, type FrameDecoder } from './framing.ts';
import { describeFrameError } from './handshake.ts';
import type { LinkCipher } from './link-cipher.ts';

/** A link to one peer after a successful handshake. Payload-agnostic: messages are any plain data. */
export interface PeerConnection {
  /** The worker id (server side) or 'master' (client side). */
  readonly peerId: string;
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** Queues a message; false when the link is closed (or was just closed because the peer stopped reading). */
  send(message: unknown): boolean;
  /** Messages that arrived before the first listener was added are delivered to it. */
  onMessage(listener: (message: unknown) => void): void;
  /** Fires exactly once, with why the link ended (a listener added after that is called on the next microtask). */
  onClose(listener: (reason: string) => void): void;
  close(reason?: string): void;
  readonly closed: boolean;
}

/** Bytes allowed to wait in the socket's write buffer before we give up on a peer that does not read (64 MiB). */
export const MAX_WRITE_BUFFER_BYTES = 64 * 1024 * 1024;
/** How long a gracefully closed socket may take to flush before it is destroyed (ms). */
const CLOSE_GRACE_MS = 1000;

export interface SocketConnectionOptions {
  socket: Socket;
  /** The handshake's decoder: it may already hold the first bytes of the next frame. */
  decoder: FrameDecoder;
  peerId: string;
  remoteAddress: string;
  logger: Logger;
  /** Applies to whole frames on the wire: with a cipher, the sealed length. */
  maxFrameBytes: number;
  /** Seals every frame sent and opens every frame received (shared-secret mode); without it frames are clear. */
  cipher?: LinkCipher;
  /** Frame bodies that arrived in the same chunk as the end of the handshake, not yet opened or decoded. */
  initialBodies?: Buffer[];
  maxWriteBufferBytes?: number;
}

export class SocketConnection implements PeerConnection {
  readonly peerId: string;
  readonly remoteAddress: string;
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly logger: Logger;
  private readonly maxFrameBytes: number;
  private readonly maxWriteBufferBytes: number;
  private readonly cipher: LinkCipher | undefined;
  private readonly messageListeners: ((message: unknown) => void)[] = [];
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private queued: unknown[] = [];
  private socketError: string | undefined;
  private closeReason: string | undefined;

  constructor(options: SocketConnectionOptions) {
    this.socket = options.socket;
    this.decoder = options.decoder;
    this.peerId = options.peerId;
    this.remoteAddress = options.remoteAddress;
    this.logger = options.logger;
    this.maxFrameBytes = options.maxFrameBytes;
    this.maxWriteBufferBytes = options.maxWriteBufferBytes ?? MAX_WRITE_BUFFER_BYTES;
    this.cipher = options.cipher;
    this.decoder.setMaxFrameBytes(this.maxFrameBytes);
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.socketError ??= `socket error: ${error.code ?? error.message}`;
    });
    this.socket.on('close', () => this.finish(this.socketError ?? 'connection closed by peer'));
    if (this.socket.destroyed) this.finish('connection closed by peer');
    else if (options.initialBodies !== undefined) this.accept(options.initialBodies);
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  send(message: unknown): boolean {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return false;
    const body = encodeBody(message); // throws for our own non-plain messages (a bug upstream)
    let frame: Buffer;
    try {
      frame = this.cipher === undefined ? frameBody(body, this.maxFrameBytes) : this.cipher.seal(body, this.maxFrameBytes);
    } catch (error) {
      if (!(error instanceof FrameSequenceError)) throw error; // FrameTooLargeError: our own oversized message
      this.logger.error(`closing link to ${this.describe()}: ${describeFrameError(error)}`);
      this.abort(describeFrameError(error));
      return false;
    }
    if (this.socket.writableLength + frame.length > this.maxWriteBufferBytes) {
      const mib = Math.round(this.maxWriteBufferBytes / (1024 * 1024));
      this.logger.error(`closing link to ${this.describe()}: over ${mib} MiB waiting to be sent, the peer is not reading`);
      this.abort('peer not reading (send buffer full)');
      return false;
    }
    this.socket.write(frame);
    return true;
  }

  onMessage(listener: (message: unknown) => void): void {
    this.messageListeners.push(listener);
    if (this.queued.length > 0) {
      const early = this.queued;
      this.queued = [];
      for (const message of early) this.dispatch(message);
    }
  }

  onClose(listener: (reason: string) => void): void {
    const reason = this.closeReason;
    if (reason === undefined) this.closeListeners.push(listener);
    else queueMicrotask(() => listener(reason));
  }

  /** Flushes what is queued, then closes; the socket is destroyed if the peer does not take it within a second. */
  close(reason = 'closed locally'): void {
    if (this.closed) return;
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    this.finish(reason);
  }

  private abort(reason: string): void {
    this.socket.destroy();
    this.finish(reason);
  }

  private describe(): string {
    return `${this.peerId} (${this.remoteAddress})`;
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let bodies: Buffer[];
    try {
      bodies = this.decoder.pushBodies(chunk);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.accept(bodies);
  }

  /** Opens (when sealed), decodes and delivers frame bodies in order; the first bad one closes the link. */
  private accept(bodies: Buffer[]): void {
    for (const body of bodies) {
      if (this.closed) return;
      let message: unknown;
      try {
        message = decodeBody(this.cipher === undefined ? body : this.cipher.open(body));
      } catch (error) {
        this.fail(error);
        return;
      }
      if (this.messageListeners.length === 0) this.queued.push(message);
      else this.dispatch(message);
    }
  }

  private fail(error: unknown): void {
    const why = describeFrameError(error);
    this.logger.error(`closing link to ${this.describe()}: ${why}`);
    this.abort(why);
  }

  // A throwing listener is a bug upstream; it must not take the socket (or the process) down with it.
  private dispatch(message: unknown): void {
    for (const listener of this.messageListeners) {
      try {
        listener(message);
      } catch (error) {
        this.logger.error(`message listener for ${this.describe()} threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  private finish(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.queued = [];
    const listeners = this.closeListeners.splice(0);
    for (const listener of listeners) {
      try {
        listener(reason);
      } catch (error) {
        this.logger.error(`close listener for ${this.describe()} threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
