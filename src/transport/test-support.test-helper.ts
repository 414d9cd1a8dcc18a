// Test-only helpers for transport tests: a recording logger, a server on 127.0.0.1:0, and a raw "rogue" socket.
import net from 'node:net';
import type { Logger } from '../core/logger.ts';
import type { PeerConnection } from './connection.ts';
import { encodeFrame, FrameDecoder } from './framing.ts';
import { clientProof, newNonce } from './handshake.ts';
import { TransportServer, type HandshakeDecision, type HandshakeHello, type TransportServerOptions } from './server.ts';

export const PROTOCOL = 3;
export const SECRET = Buffer.from('test-secret-3f9a1c7e52b8d046aa17');
export const OTHER_SECRET = Buffer.from('other-secret-0d4e8b26c91f7a35bb28');

export interface RecordingLogger extends Logger {
  lines: string[];
  /** Resolves with the first line matching `pattern` (already logged or still to come); rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const add = (level: string) => (message: string): void => {
    const line = `${level} ${message}`;
    lines.push(line);
    for (const waiter of waiters.splice(0)) {
      if (waiter.pattern.test(line)) waiter.resolve(line);
      else waiters.push(waiter);
    }
  };
  return {
    lines,
    debug: add('debug'),
    info: add('info'),
    warning: add('warning'),
    error: add('error'),
    waitFor(pattern, ms = 2000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern} within ${ms} ms; got:\n${lines.join('\n')}`)), ms);
        waiters.push({ pattern, resolve: (line) => { clearTimeout(timer); resolve(line); } });
      });
    },
  };
}

export interface TestServer {
  server: TransportServer;
  port: number;
  logger: RecordingLogger;
  connections: PeerConnection[];
  hellos: HandshakeHello[];
  /** Resolves with the next (or an already made) server-side connection. */
  nextConnection(ms?: number): Promise<PeerConnection>;
  close(): Promise<void>;
}

export async function startServer(overrides: Partial<TransportServerOptions> = {}): Promise<TestServer> {
  const logger = recordingLogger();
  const connections: PeerConnection[] = [];
  const hellos: HandshakeHello[] = [];
  const waiting: ((conn: PeerConnection) => void)[] = [];
  const server = new TransportServer({
    host: '127.0.0.1',
    port: 0,
    protocolVersion: PROTOCOL,
    handshakeTimeoutMs: 1000,
    logger,
    onHandshake: (): HandshakeDecision => ({ accept: true }),
    onConnection: (conn, hello) => {
      connections.push(conn);
      hellos.push(hello);
      waiting.shift()?.(conn);
    },
    ...overrides,
  });
  const { port } = await server.listen();
  let taken = 0;
  return {
    server,
    port,
    logger,
    connections,
    hellos,
    nextConnection(ms = 2000) {
      const ready = connections[taken];
      if (ready !== undefined) {
        taken += 1;
        return Promise.resolve(ready);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no server-side connection in time')), ms);
        waiting.push((conn) => { clearTimeout(timer); taken += 1; resolve(conn); });
      });
    },
    close: () => server.close(),
  };
}

export interface RogueSocket {
  socket: net.Socket;
  /** Everything the server sent. */
  received(): Buffer;
  /** Resolves when the server has closed the socket; rejects after `ms`. */
  closed(ms?: number): Promise<void>;
}

/** A raw TCP client that sends whatever the test wants. */
export function rogue(port: number): Promise<RogueSocket> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let isClosed = false;
    const onClose: (() => void)[] = [];
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => { isClosed = true; for (const f of onClose.splice(0)) f(); });
    socket.once('connect', () => resolve({
      socket,
      received: () => Buffer.concat(chunks),
      closed: (ms = 2000) => isClosed ? Promise.resolve() : new Promise((done, fail) => {
        const timer = setTimeout(() => { socket.destroy(); fail(new Error('server did not close the socket in time')); }, ms);
        onClose.push(() => { clearTimeout(timer); done(); });
      }),
    }));
    socket.once('error', reject);
  });
}

/** Resolves with the next message on `conn`, or rejects after `ms`. */
export function nextMessage(conn: PeerConnection, ms = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message in time')), ms);
    let done = false;
    conn.onMessage((message) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(message);
    });
  });
}

/** Reads until `count` frames have arrived on a rogue socket (all frames so far are returned). */
export async function readFrames(raw: RogueSocket, count: number, ms = 2000): Promise<unknown[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const frames = new FrameDecoder().push(raw.received());
    if (frames.length >= count) return frames;
    if (Date.now() > deadline) throw new Error(`expected ${count} frames, got ${frames.length}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A rogue socket that completes a genuine handshake by hand, so the test can misbehave afterwards. */
export async function rogueWorker(port: number, workerId: string, secret: Buffer): Promise<RogueSocket> {
  const raw = await rogue(port);
  const nonce = newNonce();
  raw.socket.write(encodeFrame({ t: 'hello', v: PROTOCOL, workerId, nonce }));
  const [challenge] = await readFrames(raw, 1) as [{ nonce: Uint8Array }];
  raw.socket.write(encodeFrame({ t: 'auth', proof: clientProof(secret, challenge.nonce, nonce, workerId), meta: {} }));
  const frames = await readFrames(raw, 2) as { t: string }[];
  if (frames[1]?.t !== 'welcome') throw new Error(`expected welcome, got ${frames[1]?.t}`);
  return raw;
}
