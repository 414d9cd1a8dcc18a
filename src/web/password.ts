// Password hashes for the users file: scrypt (OWASP parameters), in a PHC-style string that names its own parameters.
import { randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { UsageError } from '../core/errors.ts';
import { sameSecret } from '../core/same-secret.ts';

/** OWASP's scrypt choice N=2^15, r=8, p=3: ~32 MiB and a few tens of ms per check. */
const DEFAULT = { ln: 15, r: 8, p: 3 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Passwords shorter than this are refused when hashing (ASVS 6.2.1); no composition rules. */
export const MIN_PASSWORD_LENGTH = 8;
/** Longer input is refused rather than truncated (ASVS 6.2.9 asks that 64 be allowed). */
export const MAX_PASSWORD_LENGTH = 1024;

const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,}={0,2})\$([A-Za-z0-9+/]{32,}={0,2})$/;

interface Parsed {
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function derive(password: string, salt: Buffer, ln: number, r: number, p: number, length: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** ln, r, p, maxmem: 2 ** ln * r * 128 * 2 + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Parses a stored hash; returns a reason (for the users-file error) when it is not one. */
export function parsePasswordHash(text: string): Parsed | string {
  const m = FORMAT.exec(text.trim());
  if (!m) return 'is not a Cicada password hash (make one with: echo -n \'secret\' | cicada hash-password)';
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds keep a hand-edited file from making every login take seconds or gigabytes.
  if (ln < 14 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16) return 'has scrypt parameters outside the accepted range (ln 14–20, r 1–32, p 1–16)';
  return { ln, r, p, salt: Buffer.from(m[4] ?? '', 'base64'), hash: Buffer.from(m[5] ?? '', 'base64') };
}

/** Hashes a new password; refuses one that is too short or too long. */
export async function hashPassword(password: string): Promise<string> {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new UsageError(`the password is too short (${[...password].length} characters; at least ${MIN_PASSWORD_LENGTH})`, 'use a longer passphrase: length matters more than symbols');
  }
  if (password.length > MAX_PASSWORD_LENGTH) throw new UsageError(`the password is too long (at most ${MAX_PASSWORD_LENGTH} characters)`);
  const salt = randomBytes(SALT_LENGTH);
  const hash = await derive(password, salt, DEFAULT.ln, DEFAULT.r, DEFAULT.p, KEY_LENGTH);
  return `$scrypt$ln=${DEFAULT.ln},r=${DEFAULT.r},p=${DEFAULT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Checks a password against a parsed hash in constant time. */
export async function verifyPassword(password: string, stored: Parsed): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  const candidate = await derive(password, stored.salt, stored.ln, stored.r, stored.p, stored.hash.length);
  return sameSecret(candidate, stored.hash);
}

export type PasswordHash = Parsed;
