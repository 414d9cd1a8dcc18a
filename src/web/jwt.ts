// ID-token verification with node:crypto: compact JWS, asymmetric algorithms only, keys from the provider's JWKS.
// Error messages never contain the token or its claims' values (they may be shown to the user or logged).
import { constants, createHash, createPublicKey, timingSafeEqual, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The signature algorithms accepted; `none` and the HMAC ones (HS*) never are. */
export const SUPPORTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type JwsAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

export function isSupportedAlgorithm(value: unknown): value is JwsAlgorithm {
  return typeof value === 'string' && (SUPPORTED_ALGORITHMS as readonly string[]).includes(value);
}

/** A token refused (or keys that could not be had); the message is safe to show and to log. */
export class JwtError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwtError';
  }
}

/** One key of a JWKS, as published (only the members looked at are typed). */
export interface Jwk {
  kty?: unknown;
  kid?: unknown;
  use?: unknown;
  alg?: unknown;
  key_ops?: unknown;
  crv?: unknown;
  [member: string]: unknown;
}

/** The largest token accepted (ID tokens with many groups can be big, but not this big). */
const MAX_TOKEN_LENGTH = 64 * 1024;
/** RSA keys shorter than this are refused. */
const MIN_RSA_BITS = 2048;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

interface AlgorithmSpec {
  kty: 'RSA' | 'EC' | 'OKP';
  curves?: readonly string[];
  hash: string | null;
  pss?: boolean;
  /** ECDSA: the length of the raw r||s signature. */
  signatureLength?: number;
}

const ALGORITHMS: Record<JwsAlgorithm, AlgorithmSpec> = {
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { kty: 'RSA', hash: 'sha512', pss: true },
  ES256: { kty: 'EC', curves: ['P-256'], hash: 'sha256', signatureLength: 64 },
  ES384: { kty: 'EC', curves: ['P-384'], hash: 'sha384', signatureLength: 96 },
  ES512: { kty: 'EC', curves: ['P-521'], hash: 'sha512', signatureLength: 132 },
  EdDSA: { kty: 'OKP', curves: ['Ed25519', 'Ed448'], hash: null },
  Ed25519: { kty: 'OKP', curves: ['Ed25519'], hash: null },
};

/** The protected header of a JWS, after the checks of {@link decodeJws}. */
export interface JwsHeader {
  alg: JwsAlgorithm;
  kid: string | undefined;
  [member: string]: unknown;
}

export interface DecodedJws {
  header: JwsHeader;
  payload: Record<string, unknown>;
  signingInput: Buffer;
  signature: Buffer;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((x) => typeof x === 'string');
}

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError(`the token's ${what} is not valid JSON`);
  }
  if (!isObject(parsed)) throw new JwtError(`the token's ${what} is not a JSON object`);
  return parsed;
}

/** Splits and decodes a compact JWS; refuses `alg: none`, HMAC and unknown algorithms, and unknown `crit` extensions. */
export function decodeJws(token: string): DecodedJws {
  if (typeof token !== 'string' || token.length === 0) throw new JwtError('no token');
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtError('the token is too large');
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('the token is not a compact JWS (three dot-separated parts)');
  const [h, p, s] = parts as [string, string, string];
  if (!BASE64URL.test(h) || !BASE64URL.test(p) || !BASE64URL.test(s)) throw new JwtError('the token is not base64url-encoded');
  const header = decodeJsonPart(h, 'header');
  const alg = header.alg;
  if (alg === 'none' || typeof alg !== 'string') throw new JwtError('unsigned tokens (alg none) are refused');
  if (/^HS\d+$/.test(alg)) throw new JwtError(`symmetric signatures (${alg}) are refused`);
  if (!isSupportedAlgorithm(alg)) throw new JwtError(`unsupported signature algorithm ${JSON.stringify(alg).slice(0, 40)}`);
  if (header.crit !== undefined) throw new JwtError('the token has critical header extensions this verifier does not understand');
  if (header.kid !== undefined && typeof header.kid !== 'string') throw new JwtError('the token header has a non-string kid');
  // Another token type (an access token `at+jwt`, a logout token) must not pass as an ID token.
  if (header.typ !== undefined && (typeof header.typ !== 'string' || !['jwt', 'application/jwt'].includes(header.typ.toLowerCase()))) {
    throw new JwtError('the token is not an ID token (wrong typ header)');
  }
  if (s.length === 0) throw new JwtError('the token has no signature');
  const payload = decodeJsonPart(p, 'payload');
  return {
    header: { ...header, alg, kid: header.kid },
    payload,
    signingInput: Buffer.from(`${h}.${p}`, 'ascii'),
    signature: Buffer.from(s, 'base64url'),
  };
}

/** True when this JWK may verify a signature made with `alg` (and carries `kid`, when one is asked for). */
export function keyMatches(jwk: Jwk, alg: JwsAlgorithm, kid: string | undefined): boolean {
  const spec = ALGORITHMS[alg];
  if (kid !== undefined && jwk.kid !== kid) return false;
  if (jwk.kty !== spec.kty) return false;
  if (spec.curves !== undefined && (typeof jwk.crv !== 'string' || !spec.curves.includes(jwk.crv))) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('verify'))) return false;
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  return true;
}

const imported = new WeakMap<Jwk, KeyObject | null>();

function importKey(jwk: Jwk): KeyObject | null {
  const cached = imported.get(jwk);
  if (cached !== undefined) return cached;
  let key: KeyObject | null = null;
  try {
    // Only the public members: a JWKS that (wrongly) carries private ones must not make us hold them.
    const publicMembers = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;
    const pub: Record<string, unknown> = {};
    for (const m of publicMembers) if (jwk[m] !== undefined) pub[m] = jwk[m];
    key = createPublicKey({ key: pub as JsonWebKey, format: 'jwk' });
    if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) key = null;
  } catch {
    key = null;
  }
  imported.set(jwk, key);
  return key;
}

function signatureValid(alg: JwsAlgorithm, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const spec = ALGORITHMS[alg];
  try {
    switch (spec.kty) {
      case 'RSA':
        return spec.pss === true
          ? verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature)
          : verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'EC':
        // JWS carries ECDSA signatures as raw r||s (IEEE P1363), not DER.
        if (signature.length !== spec.signatureLength) return false;
        return verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'OKP':
        return verify(null, data, key, signature);
    }
  } catch {
    return false;
  }
}

/** Gives the keys that may have signed a token with this `alg` and `kid` (a {@link JwksCache}, or a fixed set in tests). */
export interface KeySource {
  keysFor(alg: JwsAlgorithm, kid: string | undefined): Promise<readonly Jwk[]>;
}

/** A fixed key set. */
export function staticKeys(jwks: { keys: readonly Jwk[] }): KeySource {
  return { keysFor: (alg, kid) => Promise.resolve(jwks.keys.filter((k) => keyMatches(k, alg, kid))) };
}

/** Parses a JWKS document, keeping the entries that are objects. */
export function parseJwks(doc: unknown): Jwk[] {
  if (!isObject(doc) || !Array.isArray(doc.keys)) throw new JwtError('the provider\'s JWKS is not a JSON object with a "keys" array');
  return doc.keys.filter((k): k is Jwk => isObject(k));
}

/**
 * The provider's signing keys: fetched on first use, kept for `maxAgeMs`; a token whose key is not in the set
 * (key rotation) causes one refetch, but not more than once per `cooldownMs`.
 */
export class JwksCache implements KeySource {
  readonly #load: () => Promise<unknown>;
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  #keys: Jwk[] | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;

  constructor(load: () => Promise<unknown>, options: { now?: () => number; maxAgeMs?: number; cooldownMs?: number } = {}) {
    this.#load = load;
    this.#now = options.now ?? Date.now;
    this.#maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
    this.#cooldownMs = options.cooldownMs ?? 60_000;
  }

  /** Fetches the key set now (concurrent callers share one request). */
  refresh(): Promise<void> {
    if (this.#inflight === undefined) {
      const loading = (async () => {
        const keys = parseJwks(await this.#load());
        this.#keys = keys;
        this.#fetchedAt = this.#now();
      })();
      this.#inflight = loading;
      const done = (): void => {
        if (this.#inflight === loading) this.#inflight = undefined;
      };
      loading.then(done, done);
    }
    return this.#inflight;
  }

  async keysFor(alg: JwsAlgorithm, kid: string | undefined): Promise<readonly Jwk[]> {
    if (this.#keys === undefined || this.#now() - this.#fetchedAt > this.#maxAgeMs) await this.refresh();
    let found = (this.#keys ?? []).filter((k) => keyMatches(k, alg, kid));
    if (found.length === 0 && this.#now() - this.#fetchedAt >= this.#cooldownMs) {
      await this.refresh();
      found = (this.#keys ?? []).filter((k) => keyMatches(k, alg, kid));
    }
    return found;
  }
}

/** Verifies the signature of a compact JWS against the keys of `keys`; returns the decoded token. */
export async function verifyJws(token: string, keys: KeySource, algorithms: readonly JwsAlgorithm[] = SUPPORTED_ALGORITHMS): Promise<DecodedJws> {
  const decoded = decodeJws(token);
  const { alg, kid } = decoded.header;
  if (!algorithms.includes(alg)) throw new JwtError(`signature algorithm ${alg} is not one the provider announced for ID tokens`);
  const candidates = await keys.keysFor(alg, kid);
  if (candidates.length === 0) {
    throw new JwtError(kid === undefined ? `no ${alg} key in the provider's JWKS` : `the token's signing key (kid ${JSON.stringify(kid.slice(0, 64))}) is not in the provider's JWKS`);
  }
  for (const jwk of candidates) {
    const key = importKey(jwk);
    if (key !== null && signatureValid(alg, key, decoded.signingInput, decoded.signature)) return decoded;
  }
  throw new JwtError('the token\'s signature is not valid');
}

/** Compares two secrets without leaking, through timing, where they differ (nor, much, their lengths). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

export interface IdTokenExpectations {
  issuer: string;
  clientId: string;
  /** The nonce sent in the authorization request. */
  nonce: string;
  /** Epoch milliseconds. */
  now: number;
  /** Clock skew tolerated on exp, iat and nbf, in seconds (default 60). */
  skewSeconds?: number;
}

function numericDate(payload: Record<string, unknown>, claim: string, required: boolean): number | undefined {
  const value = payload[claim];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new JwtError(`the ID token's ${claim} claim is missing or not a number`);
  return value;
}

/** Checks the claims of an ID token (OpenID Connect Core §3.1.3.7); returns the payload. */
export function checkIdTokenClaims(payload: Record<string, unknown>, expected: IdTokenExpectations): Record<string, unknown> {
  const skew = expected.skewSeconds ?? 60;
  const now = expected.now / 1000;
  if (payload.iss !== expected.issuer) throw new JwtError('the ID token was issued by another issuer');
  const aud = payload.aud;
  const audiences = typeof aud === 'string' ? [aud] : isStringArray(aud) ? aud : undefined;
  if (audiences === undefined || !audiences.includes(expected.clientId)) throw new JwtError('the ID token is not meant for this client (aud)');
  if (payload.azp !== undefined && payload.azp !== expected.clientId) throw new JwtError('the ID token was issued to another client (azp)');
  if (audiences.length > 1 && payload.azp === undefined) throw new JwtError('the ID token has several audiences but no azp claim');
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new JwtError('the ID token has no sub claim');
  const exp = numericDate(payload, 'exp', true) as number;
  const iat = numericDate(payload, 'iat', true) as number;
  const nbf = numericDate(payload, 'nbf', false);
  if (now >= exp + skew) throw new JwtError('the ID token has expired (check the clocks of this host and the provider)');
  if (iat > now + skew) throw new JwtError('the ID token was issued in the future (check the clocks of this host and the provider)');
  if (nbf !== undefined && nbf > now + skew) throw new JwtError('the ID token is not valid yet (nbf; check the clocks of this host and the provider)');
  if (typeof payload.nonce !== 'string' || !constantTimeEqual(payload.nonce, expected.nonce)) throw new JwtError('the ID token\'s nonce does not match this login');
  return payload;
}

/** Verifies an ID token's signature (keys from `keys`, one of `algorithms`) and its claims; returns its payload. */
export async function verifyIdToken(
  token: string,
  keys: KeySource,
  expected: IdTokenExpectations & { algorithms?: readonly JwsAlgorithm[] },
): Promise<Record<string, unknown>> {
  const { payload } = await verifyJws(token, keys, expected.algorithms);
  return checkIdTokenClaims(payload, expected);
}
