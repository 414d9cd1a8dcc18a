// The master's listening side: accepts TCP or TLS from allowed addresses, caps pending handshakes, authenticates workers, hands out links.
import net from 'node:net';
import tls from 'node:tls';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { printable } from '../core/printable.ts';
import { PendingSlots, ThrottledLog, type SlotRefusal } from './admission.ts';
import { canonicalAddress, type AllowList } from './allow-list.ts';
import { SocketConnection, type PeerConnection } from './connection.ts';
import { TransportConfigError } from './errors.ts';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame } from './framing.ts';
import { checkSecret } from './handshake.ts';
import { REFUSAL_GRACE_MS, runServerHandshake, type HandshakeDecision, type HandshakeHello, type PendingHandshake } from './server-handshake.ts';

export type { HandshakeDecision, HandshakeHello } from './server-handshake.ts';

export interface TransportServerOptions {
  host: string;
  /** 0 picks a free port (see listen()'s result). */
  port: number;
  /** Shared secret for the HMAC handshake (at least 16 bytes); with it every frame after the handshake is sealed (link-cipher.ts). */
  secret?: Buffer;
  /** TLS; with `ca`, mutual TLS: every client must present a certificate signed by it. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  protocolVersion: number;
  maxFrameBytes?: number;
  /** Time a new socket has to finish TLS and the handshake (ms, default 5000). */
  handshakeTimeoutMs?: number;
  /** Time from the start of the handshake (after TLS, if any) to a whole hello frame (ms, default 1000). */
  firstFrameTimeoutMs?: number;
  /** Sockets allowed to be mid-handshake at once; beyond it new sockets are closed at once (default 64). */
  maxPendingHandshakes?: number;
  /** The same, per source address (default 4): one address cannot take every slot by re-opening connections. */
  maxPendingPerAddress?: number;
  /** Only these source addresses may connect; others are closed at accept, before a byte is read (default: all). */
  allow?: AllowList;
  /** Gets rejected connections, at most a few lines per address and minute; never the secret. */
  logger: Logger;
  /** Time for the log limits (tests pass a fake one). */
  clock?: Clock;
  /** Decides on an authenticated worker; a refusal's reason is sent to the worker. */
  onHandshake(hello: HandshakeHello, peer: { remoteAddress: string }): HandshakeDecision;
  /** Called once the worker has been welcomed. */
  onConnection(conn: PeerConnection, hello: HandshakeHello): void;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;
const DEFAULT_FIRST_FRAME_TIMEOUT_MS = 1000;
const DEFAULT_MAX_PENDING = 64;
const DEFAULT_MAX_PENDING_PER_ADDRESS = 4;
/** At most one "total cap reached" line per this many ms (ms). */
const SHED_LOG_INTERVAL_MS = 10_000;
/** Handshake failures logged per source address and minute; more are counted, not written. */
const REJECTIONS_PER_ADDRESS = 5;

/**
 * Without a secret and without TLS client certificates the server is unauthenticated: whoever wires it (the CLI)
 * decides whether that is allowed. A secret and mutual TLS together are both checked.
 */
export class TransportServer {
  private readonly options: TransportServerOptions;
  private readonly server: net.Server;
  private readonly timeoutMs: number;
  private readonly firstFrameMs: number;
  private readonly slots: PendingSlots;
  private readonly pending = new Map<string, PendingHandshake>(); // keyed by "address:port"
  private readonly connections = new Set<PeerConnection>();
  /** Refused at accept (allow list, per-address cap): one line per address and minute. */
  private readonly refusals: ThrottledLog;
  /** Handshake failures: a few lines per address and minute. */
  private readonly rejections: ThrottledLog;
  /** Total cap reached: one line per burst. */
  private readonly sheds: ThrottledLog;
  private shedCount = 0; // sockets closed by the total cap since the server started

  constructor(options: TransportServerOptions) {
    checkSecret(options.secret);
    if (!Number.isSafeInteger(options.protocolVersion) || options.protocolVersion < 0) {
      throw new TransportConfigError(`protocolVersion must be a non-negative integer, got ${options.protocolVersion}`);
    }
    this.options = options;
    this.timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.firstFrameMs = options.firstFrameTimeoutMs ?? DEFAULT_FIRST_FRAME_TIMEOUT_MS;
    const maxPending = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING;
    const perAddress = options.maxPendingPerAddress ?? DEFAULT_MAX_PENDING_PER_ADDRESS;
    if (!(this.timeoutMs > 0) || !(this.firstFrameMs > 0) || !(maxPending >= 1) || !(perAddress >= 1)) {
      throw new TransportConfigError('handshakeTimeoutMs and firstFrameTimeoutMs must be > 0, maxPendingHandshakes and maxPendingPerAddress >= 1');
    }
    this.slots = new PendingSlots(perAddress, maxPending);
    const clock = options.clock ?? systemClock;
    const warn = (line: string): void => options.logger.warning(line);
    this.refusals = new ThrottledLog({ clock, write: warn });
    this.rejections = new ThrottledLog({ clock, write: warn, perKey: REJECTIONS_PER_ADDRESS });
    this.sheds = new ThrottledLog({ clock, write: warn, windowMs: SHED_LOG_INTERVAL_MS });
    if (options.tls === undefined) {
      this.server = net.createServer();
    } else {
      const mutual = options.tls.ca !== undefined;
      const server = tls.createServer({
        cert: options.tls.cert,
        key: options.tls.key,
        ...(mutual ? { ca: options.tls.ca } : {}),
        requestCert: mutual,
        // We check `authorized` ourselves before reading a byte (onSecure), so the worker can be told why it was
        // refused; with OpenSSL rejecting, TLS 1.3 workers only saw a reset and would retry forever.
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
        // Our own timer (which logs) fires first; this is only a backstop.
        handshakeTimeout: this.timeoutMs + 1000,
      });
      server.on('secureConnection', (socket) => this.onSecure(socket));
      server.on('tlsClientError', (error: NodeJS.ErrnoException, socket) => this.onTlsError(error, socket));
      this.server = server;
    }
    // Registered after tls's own listener, so a TLS socket already wraps `raw` when we see it.
    this.server.on('connection', (raw: net.Socket) => this.onRawConnection(raw));
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        // Accept errors (e.g. EMFILE) must be logged, never crash the master.
        this.server.on('error', (error) => this.options.logger.error(`transport server error: ${error.message}`));
        const address = this.server.address();
        if (address === null || typeof address === 'string') {
          reject(new TransportConfigError('the transport server has no TCP address'));
          return;
        }
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Stops accepting, drops pending handshakes, closes every link; resolves once all sockets are gone. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const entry of this.pending.values()) entry.destroy();
      // Links get a short grace period to flush (see SocketConnection.close) before their sockets are destroyed.
      for (const conn of this.connections) conn.close('master shutting down');
    });
  }

  private onRawConnection(raw: net.Socket): void {
    raw.on('error', () => {}); // resets during the handshake are routine; the close handler reports them
    const address = canonicalAddress(raw.remoteAddress ?? 'unknown');
    // Synchronously in 'connection', before any read callback: a refused peer gets not one byte read.
    if (this.options.allow !== undefined && !this.options.allow.allows(address)) {
      raw.destroy();
      this.refusals.line(`allow|${address}`, `refused a connection from ${printable(address, 64)}: not in the allow list (--master-allow)`);
      return;
    }
    const full = this.slots.take(address);
    if (full !== undefined) {
      raw.destroy();
      this.shed(full, address);
      return;
    }
    const key = keyOf(raw);
    let logged = false;
    let settled = false;
    const entry: PendingHandshake = {
      peer: key,
      address,
      finished: false,
      hangup: 'closed by the peer during the handshake',
      timer: setTimeout(() => entry.reject(`no handshake within ${this.timeoutMs} ms`), this.timeoutMs),
      log: (reason) => {
        if (logged) return;
        logged = true;
        this.rejections.line(`rejected|${address}`, `rejected ${printable(key, 80)}: ${reason}`);
      },
      reject: (reason) => {
        entry.log(reason);
        raw.destroy();
      },
      destroy: () => raw.destroy(),
      settle: () => {
        if (settled) return;
        settled = true;
        this.pending.delete(key);
        this.slots.release(address);
        clearTimeout(entry.timer);
      },
    };
    this.pending.set(key, entry);
    raw.on('close', () => {
      if (settled) return;
      entry.settle();
      if (!entry.finished) entry.log(entry.hangup);
    });
    if (this.options.tls === undefined) this.startHandshake(raw, entry);
  }

  /** Closes what a full cap turned away, with a line per address and minute (per burst for the total cap). */
  private shed(full: SlotRefusal, address: string): void {
    const from = printable(address, 64);
    if (full === 'address') {
      this.refusals.line(`shed|${address}`, `${this.slots.perAddress} handshakes from ${from} already pending: closing its new connections until they finish`);
      return;
    }
    this.shedCount += 1;
    this.sheds.line('total', `${this.slots.total} handshakes already pending: closing new connections until some finish (latest from ${from}; ${this.shedCount} closed so far)`);
  }

  private onSecure(socket: tls.TLSSocket): void {
    const entry = this.pending.get(keyOf(socket));
    if (entry === undefined) {
      socket.destroy(); // its raw socket is already gone or was never admitted
      return;
    }
    if (this.options.tls?.ca !== undefined && !socket.authorized) {
      const presented = Object.keys(socket.getPeerCertificate()).length > 0;
      const why = presented ? printable(String(socket.authorizationError)) : 'no client certificate';
      entry.log(`client certificate rejected (${why})`);
      socket.on('error', () => {});
      socket.end(encodeFrame({ t: 'refused', code: 'auth', reason: `client certificate rejected: ${why}` }));
      setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
      return;
    }
    this.startHandshake(socket, entry);
  }

  private onTlsError(error: NodeJS.ErrnoException, socket: tls.TLSSocket): void {
    const entry = socket.remoteAddress === undefined ? undefined : this.pending.get(keyOf(socket));
    const what = error.code ?? error.message;
    if (entry === undefined) this.options.logger.debug(`TLS error from a closed connection: ${what}`);
    else entry.reject(`TLS handshake failed: ${what}`);
    socket.destroy();
  }

  private startHandshake(socket: net.Socket, entry: PendingHandshake): void {
    runServerHandshake(socket, entry, {
      secret: this.options.secret,
      protocolVersion: this.options.protocolVersion,
      firstFrameTimeoutMs: this.firstFrameMs,
      onHandshake: (hello, peer) => this.options.onHandshake(hello, peer),
      onWelcome: (hello, decoder, cipher) => {
        entry.settle();
        const conn = new SocketConnection({
          socket,
          decoder,
          peerId: hello.workerId,
          remoteAddress: entry.address,
          logger: this.options.logger,
          maxFrameBytes: this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
          ...(cipher === undefined ? {} : { cipher }),
        });
        this.connections.add(conn);
        conn.onClose(() => this.connections.delete(conn));
        try {
          this.options.onConnection(conn, hello);
        } catch (error) {
          this.options.logger.error(`onConnection for ${hello.workerId} threw: ${error instanceof Error ? error.message : String(error)}`);
          conn.close('master failed to set up the link');
        }
      },
    });
  }
}

function keyOf(socket: net.Socket): string {
  return `${socket.remoteAddress ?? 'unknown'}:${socket.remotePort ?? 0}`;
}
