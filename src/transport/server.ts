// The master's listening side: accepts TCP or TLS, caps pending handshakes, authenticates workers, hands out links.
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../core/logger.ts';
import { SocketConnection, type PeerConnection } from './connection.ts';
import { TransportConfigError } from './errors.ts';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame } from './framing.ts';
import { checkSecret, printable } from './handshake.ts';
import { REFUSAL_GRACE_MS, runServerHandshake, type HandshakeDecision, type HandshakeHello, type PendingHandshake } from './server-handshake.ts';

export type { HandshakeDecision, HandshakeHello } from './server-handshake.ts';

export interface TransportServerOptions {
  host: string;
  /** 0 picks a free port (see listen()'s result). */
  port: number;
  /** Shared secret for the HMAC handshake (at least 16 bytes). */
  secret?: Buffer;
  /** TLS; with `ca`, mutual TLS: every client must present a certificate signed by it. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  protocolVersion: number;
  maxFrameBytes?: number;
  /** Time a new socket has to finish TLS and the handshake (ms, default 5000). */
  handshakeTimeoutMs?: number;
  /** Sockets allowed to be mid-handshake at once; beyond it new sockets are closed at once (default 64). */
  maxPendingHandshakes?: number;
  /** Gets one line per rejected connection; never the secret. */
  logger: Logger;
  /** Decides on an authenticated worker; a refusal's reason is sent to the worker. */
  onHandshake(hello: HandshakeHello, peer: { remoteAddress: string }): HandshakeDecision;
  /** Called once the worker has been welcomed. */
  onConnection(conn: PeerConnection, hello: HandshakeHello): void;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;
const DEFAULT_MAX_PENDING = 64;
/** At most one "cap reached" line per this many ms (ms). */
const SHED_LOG_INTERVAL_MS = 10_000;

/**
 * Without a secret and without TLS client certificates the server is unauthenticated: whoever wires it (the CLI)
 * decides whether that is allowed. A secret and mutual TLS together are both checked.
 */
export class TransportServer {
  private readonly options: TransportServerOptions;
  private readonly server: net.Server;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly pending = new Map<string, PendingHandshake>(); // keyed by "address:port"
  private readonly connections = new Set<PeerConnection>();
  private lastShedLog = Number.NEGATIVE_INFINITY; // Date.now() of the last "cap reached" line
  private shedCount = 0; // sockets closed by the cap since the server started

  constructor(options: TransportServerOptions) {
    checkSecret(options.secret);
    if (!Number.isSafeInteger(options.protocolVersion) || options.protocolVersion < 0) {
      throw new TransportConfigError(`protocolVersion must be a non-negative integer, got ${options.protocolVersion}`);
    }
    this.options = options;
    this.timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.maxPending = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING;
    if (!(this.timeoutMs > 0) || !(this.maxPending >= 1)) {
      throw new TransportConfigError('handshakeTimeoutMs must be > 0 and maxPendingHandshakes >= 1');
    }
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
    if (this.pending.size >= this.maxPending) {
      const from = keyOf(raw);
      raw.destroy();
      this.shedCount += 1;
      // One line per burst, not per socket: a flood must not turn into a log flood.
      const now = Date.now();
      if (now - this.lastShedLog >= SHED_LOG_INTERVAL_MS) {
        this.lastShedLog = now;
        this.options.logger.warning(
          `${this.maxPending} handshakes already pending: closing new connections until some finish ` +
            `(latest from ${from}; ${this.shedCount} closed so far)`,
        );
      }
      return;
    }
    const key = keyOf(raw);
    let logged = false;
    const entry: PendingHandshake = {
      peer: key,
      address: raw.remoteAddress ?? 'unknown',
      finished: false,
      hangup: 'closed by the peer during the handshake',
      timer: setTimeout(() => entry.reject(`no handshake within ${this.timeoutMs} ms`), this.timeoutMs),
      log: (reason) => {
        if (logged) return;
        logged = true;
        this.options.logger.warning(`rejected ${key}: ${reason}`);
      },
      reject: (reason) => {
        entry.log(reason);
        raw.destroy();
      },
      destroy: () => raw.destroy(),
    };
    this.pending.set(key, entry);
    raw.on('close', () => {
      if (this.pending.get(key) !== entry) return;
      this.pending.delete(key);
      clearTimeout(entry.timer);
      if (!entry.finished) entry.log(entry.hangup);
    });
    if (this.options.tls === undefined) this.startHandshake(raw, entry);
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
      onHandshake: (hello, peer) => this.options.onHandshake(hello, peer),
      onWelcome: (hello, decoder) => {
        this.pending.delete(entry.peer);
        clearTimeout(entry.timer);
        const conn = new SocketConnection({
          socket,
          decoder,
          peerId: hello.workerId,
          remoteAddress: entry.address,
          logger: this.options.logger,
          maxFrameBytes: this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
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
