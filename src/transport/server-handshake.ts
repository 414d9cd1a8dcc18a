// The master's half of the handshake on one socket: hello → challenge → auth → welcome, or refusal and close.
import type { Socket } from 'node:net';
import { printable } from '../core/printable.ts';
import { decodeBody, encodeFrame, FrameDecoder } from './framing.ts';
import {
  clientProof,
  describeFrameError,
  HANDSHAKE_MAX_FRAME_BYTES,
  helloVersion,
  newNonce,
  parseAuth,
  parseHello,
  proofMatches,
  serverProof,
  typeOf,
  type ChallengeMessage,
  type HelloMessage,
  type RefusedMessage,
} from './handshake.ts';
import { deriveLinkKeys, HandshakeTranscript, LinkCipher } from './link-cipher.ts';

export interface HandshakeHello { workerId: string; meta: Record<string, unknown> }
export type HandshakeDecision = { accept: true } | { accept: false; reason: string };

/** The server's book-keeping for one socket that has not finished its handshake yet. */
export interface PendingHandshake {
  /** "address:port", for log lines. */
  readonly peer: string;
  readonly address: string;
  finished: boolean;
  /** What to log if the peer hangs up before finishing; the handshake sharpens it as it goes. */
  hangup: string;
  timer: NodeJS.Timeout;
  /** Logs `rejected <peer>: <reason>`, only the first time it is called for this socket. */
  log(reason: string): void;
  /** log(reason), then destroys the socket. */
  reject(reason: string): void;
  destroy(): void;
  /** Gives the slot back and stops the timer (welcomed, or closed); idempotent. */
  settle(): void;
}

export interface ServerHandshakeOptions {
  secret: Buffer | undefined;
  protocolVersion: number;
  /** The whole hello must arrive within this long (ms): an idle or trickling socket holds its slot no longer. */
  firstFrameTimeoutMs: number;
  onHandshake(hello: HandshakeHello, peer: { remoteAddress: string }): HandshakeDecision;
  /** The worker was welcomed; `decoder` may hold the first bytes of its next frame; `cipher` is set with a secret. */
  onWelcome(hello: HandshakeHello, decoder: FrameDecoder, cipher: LinkCipher | undefined): void;
}

/** How long a refusal may take to reach the worker before the socket is destroyed anyway (ms). */
export const REFUSAL_GRACE_MS = 1000;

export function runServerHandshake(socket: Socket, entry: PendingHandshake, options: ServerHandshakeOptions): void {
  const { secret, protocolVersion } = options;
  const decoder = new FrameDecoder({ maxFrameBytes: HANDSHAKE_MAX_FRAME_BYTES });
  const transcript = new HandshakeTranscript();
  let stage: 'hello' | 'auth' | 'done' = 'hello';
  let hello: HelloMessage | undefined;
  let serverNonce: Buffer | undefined;

  // Until the first whole frame: a socket that says nothing soon is let go (and its slot with it).
  const firstFrame = setTimeout(() => refuse(`no hello within ${options.firstFrameTimeoutMs} ms`), options.firstFrameTimeoutMs);
  socket.once('close', () => clearTimeout(firstFrame));

  // Without a reply the socket just goes; with one, the worker learns why (version, auth, or the master's reason).
  function refuse(logReason: string, reply?: RefusedMessage): void {
    if (stage === 'done') return;
    stage = 'done';
    clearTimeout(firstFrame);
    socket.off('data', onData);
    if (reply === undefined) {
      entry.reject(logReason);
      return;
    }
    entry.log(logReason);
    socket.end(encodeFrame(reply));
    setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
  }

  const versionRefusal = (v: number): void => {
    refuse(`protocol version mismatch (worker ${v}, master ${protocolVersion})`, {
      t: 'refused',
      code: 'version',
      reason: `protocol version mismatch: the worker speaks version ${v}, the master speaks version ${protocolVersion}`,
    });
  };

  const onHello = (body: Buffer, message: unknown): void => {
    const parsed = parseHello(message);
    const v = parsed?.v ?? helloVersion(message);
    if (v !== undefined && v !== protocolVersion) return versionRefusal(v);
    if (parsed === undefined) return refuse(`expected a valid hello, got '${typeOf(message)}'`);
    hello = parsed;
    serverNonce = newNonce();
    const challenge: ChallengeMessage = { t: 'challenge', v: protocolVersion, nonce: serverNonce };
    if (secret instanceof Buffer) challenge.proof = serverProof(secret, parsed.nonce, serverNonce, parsed.workerId);
    const frame = encodeFrame(challenge);
    transcript.addBody(body);
    transcript.addFrame(frame);
    socket.write(frame);
    stage = 'auth';
    // A real worker hangs up right after our challenge only when our proof did not match its secret.
    entry.hangup = secret instanceof Buffer
      ? `worker ${parsed.workerId} hung up after the challenge (bad secret on one side, or not a Cicada worker)`
      : `worker ${parsed.workerId} hung up after the challenge`;
  };

  const onAuth = (body: Buffer, message: unknown, last: boolean): void => {
    const auth = parseAuth(message);
    if (auth === undefined || hello === undefined || serverNonce === undefined) {
      return refuse(`expected auth, got '${typeOf(message)}'`);
    }
    const who = `worker ${hello.workerId}`;
    if (secret instanceof Buffer && !proofMatches(auth.proof, clientProof(secret, serverNonce, hello.nonce, hello.workerId))) {
      return refuse(`bad secret (${who})`, { t: 'refused', code: 'auth', reason: 'authentication failed: wrong shared secret' });
    }
    // The worker may only speak after our welcome, so anything queued behind its auth is a protocol violation.
    if (!last || decoder.bufferedBytes > 0) return refuse(`message before welcome (${who})`);
    const helloForApp: HandshakeHello = { workerId: hello.workerId, meta: auth.meta };
    let decision: HandshakeDecision;
    try {
      decision = options.onHandshake(helloForApp, { remoteAddress: entry.address });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return refuse(`onHandshake threw for ${who}: ${why}`, { t: 'refused', code: 'refused', reason: 'internal error on the master' });
    }
    if (!decision.accept) {
      return refuse(`refused ${who}: ${printable(decision.reason)}`, { t: 'refused', code: 'refused', reason: decision.reason });
    }
    // Keys from the secret, both nonces and every handshake byte: an altered hello, challenge or auth (meta!) leaves
    // the two sides with different keys, so the link fails on its first frame.
    transcript.addBody(body);
    const cipher = secret instanceof Buffer
      ? LinkCipher.forMaster(deriveLinkKeys(secret, hello.nonce, serverNonce, transcript.digest()), hello.workerId)
      : undefined;
    stage = 'done';
    entry.finished = true;
    socket.off('data', onData);
    socket.write(encodeFrame({ t: 'welcome' }));
    options.onWelcome(helloForApp, decoder, cipher);
  };

  const finished = (): boolean => stage === 'done'; // a function: TypeScript cannot see the closures change `stage`

  function onData(chunk: Buffer): void {
    if (finished()) return;
    let bodies: Buffer[];
    try {
      bodies = decoder.pushBodies(chunk);
    } catch (error) {
      refuse(describeFrameError(error));
      return;
    }
    if (bodies.length > 0) clearTimeout(firstFrame);
    for (const [i, body] of bodies.entries()) {
      if (finished()) return;
      let message: unknown;
      try {
        message = decodeBody(body);
      } catch (error) {
        refuse(describeFrameError(error));
        return;
      }
      if (stage === 'hello') onHello(body, message);
      else onAuth(body, message, i === bodies.length - 1);
    }
  }

  socket.on('error', () => {}); // the server's close handler reports what matters
  socket.on('data', onData);
}
