// The handshake's wire messages, their validation, and the HMAC proofs both sides exchange (DESIGN.md §3).
import { createHmac, randomBytes } from 'node:crypto';
import { CicadaError } from '../core/errors.ts';
import { printable } from '../core/printable.ts';
import { sameSecret } from '../core/same-secret.ts';
import { TransportConfigError } from './errors.ts';

/** Bytes of each side's fresh nonce (and of an HMAC-SHA256 proof). */
export const NONCE_BYTES = 32;
/** Shortest shared secret accepted: anyone can obtain an HMAC over known nonces, so short secrets could be guessed offline. */
export const MIN_SECRET_BYTES = 16;
/** Frame limit while the handshake runs: its messages are small, so a stranger cannot make us buffer megabytes. */
export const HANDSHAKE_MAX_FRAME_BYTES = 64 * 1024;
/** Worker ids are logged and used as keys: short and printable only. */
const WORKER_ID = /^[\w.:@-]{1,128}$/;

export interface HelloMessage { t: 'hello'; v: number; workerId: string; nonce: Uint8Array }
export interface ChallengeMessage { t: 'challenge'; v: number; nonce: Uint8Array; proof?: Uint8Array }
export interface AuthMessage { t: 'auth'; proof?: Uint8Array; meta: Record<string, unknown> }
export interface WelcomeMessage { t: 'welcome' }
/** `code` lets the worker tell a final auth/version problem from the master's own refusal. */
export interface RefusedMessage { t: 'refused'; code: RefusalCode; reason: string }
export type RefusalCode = 'auth' | 'version' | 'refused';

/** Throws TransportConfigError for a secret that is present but too short to be safe. */
export function checkSecret(secret: Buffer | undefined): void {
  if (secret !== undefined && secret.length < MIN_SECRET_BYTES) {
    throw new TransportConfigError(
      `the shared secret is ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are required`,
      'generate one with `openssl rand -hex 32` and give the same value to the master and every worker',
    );
  }
}

/** Throws TransportConfigError unless the id is 1–128 characters of letters, digits and `_ . : @ -`. */
export function checkWorkerId(workerId: string): void {
  if (!WORKER_ID.test(workerId)) {
    throw new TransportConfigError(
      `worker id "${printable(workerId, 40)}" is not allowed`,
      'use 1-128 characters from letters, digits and _ . : @ -',
    );
  }
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** The master's proof: HMAC-SHA256(secret, 'cicada/server' | clientNonce | serverNonce | workerId). */
export function serverProof(secret: Buffer, clientNonce: Uint8Array, serverNonce: Uint8Array, workerId: string): Buffer {
  return proof(secret, 'cicada/server', clientNonce, serverNonce, workerId);
}

/** The worker's proof: HMAC-SHA256(secret, 'cicada/client' | serverNonce | clientNonce | workerId). */
export function clientProof(secret: Buffer, serverNonce: Uint8Array, clientNonce: Uint8Array, workerId: string): Buffer {
  return proof(secret, 'cicada/client', serverNonce, clientNonce, workerId);
}

// Nonces have a fixed length and the worker id comes last, so plain concatenation is unambiguous.
function proof(secret: Buffer, label: string, first: Uint8Array, second: Uint8Array, workerId: string): Buffer {
  return createHmac('sha256', secret).update(label).update(first).update(second).update(workerId, 'utf8').digest();
}

/** Constant-time comparison of a received proof with the expected one (sameSecret: a length mismatch is just "false"). */
export function proofMatches(received: Uint8Array | undefined, expected: Buffer): boolean {
  if (received === undefined) return false;
  return sameSecret(Buffer.from(received.buffer, received.byteOffset, received.byteLength), expected);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** True when `value` is a plain object whose keys are all in `allowed` and include every one of `required`. */
function hasShape(value: unknown, required: readonly string[], optional: readonly string[] = []): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  if (!required.every((k) => keys.includes(k))) return false;
  return keys.every((k) => required.includes(k) || optional.includes(k));
}

function isNonce(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.byteLength === NONCE_BYTES;
}

const isVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The message type of an unvalidated message, for log lines (`?` when there is none). */
export function typeOf(message: unknown): string {
  if (isRecord(message) && typeof message.t === 'string') return printable(message.t, 32);
  return '?';
}

export function parseHello(m: unknown): HelloMessage | undefined {
  if (!hasShape(m, ['t', 'v', 'workerId', 'nonce']) || m.t !== 'hello' || !isVersion(m.v)) return undefined;
  if (typeof m.workerId !== 'string' || !WORKER_ID.test(m.workerId) || !isNonce(m.nonce)) return undefined;
  return { t: 'hello', v: m.v, workerId: m.workerId, nonce: m.nonce };
}

/** A hello's version, even when the rest is invalid, so a version mismatch can be named in the refusal. */
export function helloVersion(m: unknown): number | undefined {
  return isRecord(m) && m.t === 'hello' && isVersion(m.v) ? m.v : undefined;
}

export function parseChallenge(m: unknown): ChallengeMessage | undefined {
  if (!hasShape(m, ['t', 'v', 'nonce'], ['proof']) || m.t !== 'challenge' || !isVersion(m.v) || !isNonce(m.nonce)) {
    return undefined;
  }
  if (m.proof !== undefined && !isNonce(m.proof)) return undefined;
  return m.proof === undefined ? { t: 'challenge', v: m.v, nonce: m.nonce } : { t: 'challenge', v: m.v, nonce: m.nonce, proof: m.proof };
}

export function parseAuth(m: unknown): AuthMessage | undefined {
  if (!hasShape(m, ['t', 'meta'], ['proof']) || m.t !== 'auth' || !isRecord(m.meta)) return undefined;
  if (m.proof !== undefined && !(m.proof instanceof Uint8Array)) return undefined;
  return m.proof === undefined ? { t: 'auth', meta: m.meta } : { t: 'auth', proof: m.proof, meta: m.meta };
}

export function parseRefused(m: unknown): RefusedMessage | undefined {
  if (!hasShape(m, ['t', 'code', 'reason']) || m.t !== 'refused' || typeof m.reason !== 'string') return undefined;
  if (m.code !== 'auth' && m.code !== 'version' && m.code !== 'refused') return undefined;
  return { t: 'refused', code: m.code, reason: m.reason };
}

export function isWelcome(m: unknown): m is WelcomeMessage {
  return hasShape(m, ['t']) && m.t === 'welcome';
}

/** One log-safe line for a framing error, with its stable code (e.g. CICADA_ERR_TRANSPORT_FRAME_TOO_LARGE). */
export function describeFrameError(error: unknown): string {
  const text = printable(error instanceof Error ? error.message : String(error), 200);
  return error instanceof CicadaError ? `${text} [${error.code}]` : text;
}
