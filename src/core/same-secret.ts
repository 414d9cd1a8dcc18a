// The one constant-time comparison of secrets (tokens, CSRF tokens, HMACs given as text).
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * True when `given` equals `expected`. Both are hashed first, so neither the time taken nor an early
 * length mismatch tells an attacker anything about the expected value.
 */
export function sameSecret(given: string | Buffer, expected: string | Buffer): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && Buffer.byteLength(given) === Buffer.byteLength(expected);
}
