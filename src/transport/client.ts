// The worker's side: connect to the master, verify it before sending anything of ours, and retry only network failures.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { silentLogger, type Logger } from '../core/logger.ts';
import { printable } from '../core/printable.ts';
import { SocketConnection, type PeerConnection } from './connection.ts';
import {
  isRetryable,
  TransportAuthError,
  TransportConfigError,
  TransportNetworkError,
  TransportProtocolError,
  TransportRefusedError,
} from './errors.ts';
import { decodeBody, DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder } from './framing.ts';
import {
  checkSecret,
  checkWorkerId,
  clientProof,
  HANDSHAKE_MAX_FRAME_BYTES,
  isWelcome,
  newNonce,
  parseChallenge,
  parseRefused,
  proofMatches,
  serverProof,
  typeOf,
  type AuthMessage,
  type HelloMessage,
} from './handshake.ts';
import { deriveLinkKeys, HandshakeTranscript, LinkCipher } from './link-cipher.ts';

export { isRetryable } from './errors.ts';

export interface ConnectOptions {
  host: string;
  port: number;
  workerId: string;
  /** Sent only after the master has proven it knows the secret (version, cicadafile hash, …). */
  meta: Record<string, unknown>;
  secret?: Buffer;
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; servername?: string };
  protocolVersion: number;
  maxFrameBytes?: number;
  /** From connected to welcomed (ms, default 5000). */
  handshakeTimeoutMs?: number;
  /** Until TCP (and TLS) is up (ms, default 5000). */
  connectTimeoutMs?: number;
  /** For the link's own error lines (e.g. a master that stops reading); silent by default. */
  logger?: Logger;
}

const DEFAULT_TIMEOUT_MS = 5000;

/** TLS failures mean wrong certificates, names or versions: configuration, so not retryable. */
function classify(error: NodeJS.ErrnoException, where: string): Error {
  const code = error.code ?? '';
  if (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_)/.test(code)) {
    return new TransportAuthError(`TLS with the master at ${where} failed: ${code} ${error.message}`, error);
  }
  return new TransportNetworkError(`cannot reach the master at ${where}: ${code || error.message}`, error);
}

/**
 * Connects and runs the worker's half of the handshake. Rejects with TransportNetworkError (retryable),
 * TransportAuthError (secret, fake master, certificates, version), TransportRefusedError (the master's reason)
 * or TransportProtocolError (not a Cicada master).
 */
export function connect(options: ConnectOptions): Promise<PeerConnection> {
  checkSecret(options.secret);
  checkWorkerId(options.workerId);
  const where = `${options.host}:${options.port}`;
  const { secret, workerId, protocolVersion } = options;
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  return new Promise<PeerConnection>((resolve, reject) => {
    const socket = options.tls === undefined
      ? net.connect({ host: options.host, port: options.port })
      : tls.connect({
        host: options.host,
        port: options.port,
        ...options.tls,
        minVersion: 'TLSv1.2',
        rejectUnauthorized: true,
      });
    const decoder = new FrameDecoder({ maxFrameBytes: HANDSHAKE_MAX_FRAME_BYTES });
    const transcript = new HandshakeTranscript();
    const clientNonce = newNonce();
    let cipher: LinkCipher | undefined; // set once auth is sent: with a secret, everything after welcome is sealed
    let stage: 'connecting' | 'challenge' | 'welcome' | 'done' = 'connecting';
    let timer = setTimeout(() => fail(new TransportNetworkError(`connecting to ${where} timed out`)), options.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS);

    const fail = (error: Error): void => {
      if (stage === 'done') return;
      stage = 'done';
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const onError = (error: NodeJS.ErrnoException): void => fail(classify(error, where));
    const onClose = (): void => fail(new TransportNetworkError(`the master at ${where} closed the connection during the handshake`));

    const onConnected = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new TransportNetworkError(`no handshake from ${where} within the timeout`)), options.handshakeTimeoutMs ?? DEFAULT_TIMEOUT_MS);
      stage = 'challenge';
      const hello: HelloMessage = { t: 'hello', v: protocolVersion, workerId, nonce: clientNonce };
      const frame = encodeFrame(hello);
      transcript.addFrame(frame);
      socket.write(frame);
    };

    const onRefused = (message: unknown): boolean => {
      const refused = parseRefused(message);
      if (refused === undefined) return false;
      const reason = printable(refused.reason, 500);
      if (refused.code === 'refused') fail(new TransportRefusedError(reason));
      else fail(new TransportAuthError(`the master refused this worker: ${reason}`));
      return true;
    };

    const onChallenge = (body: Buffer, message: unknown): void => {
      if (onRefused(message)) return;
      const challenge = parseChallenge(message);
      if (challenge === undefined) return fail(new TransportProtocolError(`expected a challenge from ${where}, got '${typeOf(message)}'`));
      if (challenge.v !== protocolVersion) {
        return fail(new TransportAuthError(`protocol version mismatch: the worker speaks version ${protocolVersion}, the master speaks version ${challenge.v}`));
      }
      // Verify the master before any of our metadata leaves: a fake master learns nothing but the worker id.
      if (secret instanceof Buffer) {
        if (challenge.proof === undefined) {
          return fail(new TransportAuthError(`this worker refused the master at ${where}: the master did not prove the shared secret (it has none configured, or it is not the real master)`));
        }
        if (!proofMatches(challenge.proof, serverProof(secret, clientNonce, challenge.nonce, workerId))) {
          return fail(new TransportAuthError(`this worker refused the master at ${where}: the master's proof of the shared secret failed (the two hold different secrets, or it is not the real master)`));
        }
      } else if (challenge.proof !== undefined) {
        return fail(new TransportAuthError(`the master at ${where} requires a shared secret and none is configured`));
      }
      const auth: AuthMessage = { t: 'auth', meta: options.meta };
      if (secret instanceof Buffer) auth.proof = clientProof(secret, challenge.nonce, clientNonce, workerId);
      let frame: Buffer;
      try {
        frame = encodeFrame(auth, HANDSHAKE_MAX_FRAME_BYTES);
      } catch (error) {
        return fail(error instanceof Error ? error : new TransportConfigError(String(error)));
      }
      // The keys hang on every handshake byte both ways (meta included): if anything was altered, no frame opens.
      transcript.addBody(body);
      transcript.addFrame(frame);
      if (secret instanceof Buffer) cipher = LinkCipher.forWorker(deriveLinkKeys(secret, clientNonce, challenge.nonce, transcript.digest()));
      socket.write(frame);
      stage = 'welcome';
    };

    const onWelcome = (message: unknown, rest: Buffer[]): void => {
      if (onRefused(message)) return;
      if (!isWelcome(message)) return fail(new TransportProtocolError(`expected welcome from ${where}, got '${typeOf(message)}'`));
      stage = 'done';
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve(new SocketConnection({
        socket,
        decoder,
        peerId: 'master',
        remoteAddress: socket.remoteAddress ?? options.host,
        logger: options.logger ?? silentLogger,
        maxFrameBytes,
        ...(cipher === undefined ? {} : { cipher }),
        initialBodies: rest,
      }));
    };

    function onData(chunk: Buffer): void {
      let bodies: Buffer[];
      try {
        bodies = decoder.pushBodies(chunk);
      } catch (error) {
        fail(new TransportProtocolError(`bad frame from ${where} during the handshake`, error));
        return;
      }
      for (const [i, body] of bodies.entries()) {
        if (stage === 'done') return;
        let message: unknown;
        try {
          message = decodeBody(body); // handshake frames are clear; what follows welcome stays raw for the link
        } catch (error) {
          fail(new TransportProtocolError(`bad frame from ${where} during the handshake`, error));
          return;
        }
        if (stage === 'challenge') onChallenge(body, message);
        else if (stage === 'welcome') onWelcome(message, bodies.slice(i + 1));
        else fail(new TransportProtocolError(`${where} spoke before the connection was up`));
      }
    }

    socket.once(options.tls === undefined ? 'connect' : 'secureConnect', onConnected);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

export interface RetryOptions {
  signal?: AbortSignal;
  /** First delay between attempts (ms, default 200); doubles each time up to maxDelayMs. */
  minDelayMs?: number;
  /** Longest delay between attempts (ms, default 5000). */
  maxDelayMs?: number;
  /** Give up after this many attempts (default: until aborted). */
  maxAttempts?: number;
  onRetry?(attempt: number, error: unknown): void;
}

/** connect(), retrying network failures with exponential backoff and jitter; other errors are thrown at once. */
export async function connectWithRetry(options: ConnectOptions, retry: RetryOptions = {}): Promise<PeerConnection> {
  const { signal, minDelayMs = 200, maxDelayMs = 5000, maxAttempts = Number.POSITIVE_INFINITY } = retry;
  for (let attempt = 1; ; attempt += 1) {
    signal?.throwIfAborted();
    try {
      const conn = await connect(options);
      if (signal?.aborted === true) {
        conn.close('aborted');
        signal.throwIfAborted();
      }
      return conn;
    } catch (error) {
      if (!isRetryable(error) || attempt >= maxAttempts) throw error;
      retry.onRetry?.(attempt, error);
      // "Equal jitter": half the backoff is fixed, half random, so a restarted master is not hit by all workers at once.
      const backoff = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt - 1, 30));
      try {
        await sleep(backoff / 2 + Math.random() * (backoff / 2), undefined, signal === undefined ? {} : { signal });
      } catch (sleepError) {
        signal?.throwIfAborted(); // surface the caller's own abort reason, not timers' generic AbortError
        throw sleepError;
      }
    }
  }
}
