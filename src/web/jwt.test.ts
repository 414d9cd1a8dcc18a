// ID tokens (JWTs) a forged provider sends, through OidcClient: signatures, algorithms and claims are openid-client's
// checks now (src/web/jwt.ts is gone); these tests pin that Cicada still refuses what it refused before.
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { OidcClient, OidcLoginError, type OidcConfig } from './oidc.ts';
import { SCRIPTED_ISSUER, rawToken, scriptedProvider, signToken, unsignedToken, type Script } from './oidc-provider.test-helper.ts';

const CLIENT = 'cicada';

interface TestKey {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

function keyPair(kind: 'rsa' | 'rsa1024' | 'ec' | 'ed25519', kid: string): TestKey {
  const { privateKey, publicKey } =
    kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : kind === 'rsa1024' ? generateKeyPairSync('rsa', { modulusLength: 1024 })
    : kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('ed25519');
  return { privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid } };
}

const rsa = keyPair('rsa', 'rsa-1');
const ec = keyPair('ec', 'ec-1');
const ed = keyPair('ed25519', 'ed-1');

function claims(nonce: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: SCRIPTED_ISSUER, aud: CLIENT, sub: 'user-1', nonce, iat: now - 5, exp: now + 300, groups: ['staff'], ...overrides };
}

/** ID tokens signed with `key` under `header`, with these claims changed. */
function signed(key: TestKey, header: Record<string, unknown>, overrides: Record<string, unknown> = {}): Script['idToken'] {
  return (nonce) => signToken(claims(nonce, overrides), key.privateKey, { alg: 'RS256', kid: key.jwk.kid as string, ...header });
}

type Forged = Partial<Omit<Script, 'idToken'>> & { idToken: Script['idToken'] };

/** A client of a scripted provider (by default its JWKS holds the RSA, EC and Ed25519 keys); `attempt` runs one login. */
async function forgedProvider(script: Forged, overrides: Partial<OidcConfig> = {}): Promise<{ attempt: () => Promise<{ username: string; role: string }>; jwksRequests: () => number }> {
  const s = scriptedProvider({ jwks: () => [rsa.jwk, ec.jwk, ed.jwk], ...script });
  const client = await OidcClient.discover({
    issuer: SCRIPTED_ISSUER, clientId: CLIENT, clientSecret: 'secret', redirectUri: 'http://127.0.0.1:8089/auth/oidc/callback',
    roleClaim: 'groups', roleMap: { staff: 'viewer' }, fetch: s.fetch, ...overrides,
  });
  return {
    attempt: () => {
      const { pending } = client.beginLogin();
      s.nonce.value = pending.nonce;
      return client.completeLogin({ code: 'the-code', state: pending.state }, pending);
    },
    jwksRequests: () => s.requests.filter((r) => r.url.endsWith('/jwks')).length,
  };
}

async function accepted(script: Forged): Promise<void> {
  assert.deepEqual(await (await forgedProvider(script)).attempt(), { username: 'user-1', role: 'viewer' });
}

/** Refused with an OidcLoginError matching `pattern` that quotes neither the token's signature nor the nonce. */
async function refused(script: Forged | Promise<unknown>, pattern: RegExp): Promise<void> {
  let token = '';
  let nonce = '';
  const run = script instanceof Promise ? script : forgedProvider({
    ...script,
    idToken: async (n) => {
      nonce = n;
      token = await script.idToken(n);
      return token;
    },
  }).then((p) => p.attempt());
  let caught: unknown;
  try {
    await run;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof OidcLoginError, `expected an OidcLoginError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  const signature = token.split('.')[2] ?? '';
  for (const text of [caught.message, caught.detail ?? '']) {
    assert.ok(signature.length < 8 || !text.includes(signature), 'no signature in the error');
    assert.ok(nonce === '' || !text.includes(nonce), 'no nonce in the error');
  }
}

const announcingAll = { id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA'] };

describe('ID tokens from a forged provider', () => {
  it('accepts good RS256, PS256, ES256 and EdDSA tokens, with or without kid', async () => {
    for (const [alg, key] of [['RS256', rsa], ['PS256', rsa], ['ES256', ec], ['EdDSA', ed]] as const) {
      await accepted({ idToken: signed(key, { alg, typ: 'JWT' }), discovery: announcingAll });
    }
    await accepted({ idToken: (n) => signToken(claims(n), ec.privateKey, { alg: 'ES256' }) });
  });

  it('refuses a token for another audience, from another issuer, or for another client (azp)', async () => {
    await refused({ idToken: signed(rsa, {}, { aud: 'other-client' }) }, /ID token was refused: the ID token is not meant for this client \(aud\)/);
    await refused({ idToken: signed(rsa, {}, { aud: ['other-client'] }) }, /\(aud\)/);
    await refused({ idToken: signed(rsa, {}, { iss: 'https://evil.example.com' }) }, /issued by another issuer/);
    await refused({ idToken: signed(rsa, {}, { aud: [CLIENT, 'api'] }) }, /several audiences but no azp/);
    await refused({ idToken: signed(rsa, {}, { aud: [CLIENT, 'api'], azp: 'api' }) }, /another client \(azp\)/);
    await accepted({ idToken: signed(rsa, {}, { aud: [CLIENT, 'api'], azp: CLIENT }) });
  });

  it('checks exp and nbf with 60 s of tolerance, and refuses tokens without exp or iat', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused({ idToken: signed(rsa, {}, { exp: now - 70 }) }, /expired \(check the clocks/);
    await accepted({ idToken: signed(rsa, {}, { exp: now - 45 }) });
    await refused({ idToken: signed(rsa, {}, { nbf: now + 120 }) }, /not valid yet/);
    await accepted({ idToken: signed(rsa, {}, { nbf: now + 30 }) });
    await refused({ idToken: signed(rsa, {}, { exp: undefined }) }, /has no exp claim/);
    await refused({ idToken: signed(rsa, {}, { exp: '2030' }) }, /exp claim is not of the right type/);
    await refused({ idToken: signed(rsa, {}, { iat: undefined }) }, /has no iat claim/);
  });

  it('refuses a nonce that is not the login\'s, or none, and a token without sub', async () => {
    await refused({ idToken: signed(rsa, {}, { nonce: 'another' }) }, /nonce does not match this login/);
    await refused({ idToken: signed(rsa, {}, { nonce: undefined }) }, /no nonce claim/);
    await refused({ idToken: signed(rsa, {}, { sub: '' }) }, /no sub claim/);
    await refused({ idToken: signed(rsa, {}, { sub: undefined }) }, /no sub claim/);
  });

  it('refuses alg none and HS256 (even keyed with the provider\'s public key) although the provider announces them', async () => {
    const discovery = { id_token_signing_alg_values_supported: ['RS256', 'none', 'HS256', 'HS512', 'XY256'] };
    await refused({ idToken: (n) => unsignedToken(claims(n)), discovery }, /ID token was refused: unsigned tokens \(alg none\) are refused/);
    const pem = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const publicPem = new TextEncoder().encode(pem);
    await refused({ idToken: (n) => signToken(claims(n), publicPem, { alg: 'HS256', kid: 'rsa-1' }), discovery }, /symmetric signatures \(HS256\) are refused/);
    await refused({ idToken: (n) => signToken(claims(n), publicPem, { alg: 'HS512' }), discovery }, /symmetric signatures \(HS512\) are refused/);
    await refused({ idToken: (n) => rawToken({ alg: 'XY256' }, claims(n), () => Buffer.from('sig')), discovery }, /unsupported signature algorithm "XY256"/);
    // Not announced: refused before the key is even looked for.
    await refused({ idToken: (n) => unsignedToken(claims(n)) }, /signature algorithm "none" is not one the provider announced/);
  });

  it('refuses an algorithm the provider did not announce', async () => {
    await refused({ idToken: signed(rsa, { alg: 'PS256' }) }, /signature algorithm "PS256" is not one the provider announced for ID tokens/);
  });

  it('refuses a bad signature: tampered payload, another key with the same kid, a DER-encoded ECDSA signature', async () => {
    await refused({
      idToken: async (n) => {
        const [h, , s] = (await signToken(claims(n), rsa.privateKey, { alg: 'RS256', kid: 'rsa-1' })).split('.');
        return `${h}.${Buffer.from(JSON.stringify(claims(n, { sub: 'admin' }))).toString('base64url')}.${s}`;
      },
    }, /signature is not valid/);
    await refused({ idToken: signed(keyPair('rsa', 'rsa-1'), {}) }, /signature is not valid/);
    await refused({ idToken: (n) => rawToken({ alg: 'ES256', kid: 'ec-1' }, claims(n), (input) => sign('sha256', input, ec.privateKey)) }, /signature is not valid/);
    // An RS256 token that names the EC key's kid finds no usable key.
    await refused({ idToken: (n) => signToken(claims(n), rsa.privateKey, { alg: 'RS256', kid: 'ec-1' }) }, /kid "ec-1"\) is not in the provider's JWKS/);
  });

  it('refuses an unknown kid, keys for encryption or another algorithm, and short RSA keys', async () => {
    await refused({ idToken: signed(keyPair('rsa', 'rotated-2'), {}) }, /kid "rotated-2"\) is not in the provider's JWKS/);
    await refused({ idToken: signed(rsa, {}), jwks: () => [{ ...rsa.jwk, use: 'enc' }] }, /not in the provider's JWKS/);
    await refused({ idToken: signed(rsa, {}), jwks: () => [{ ...rsa.jwk, alg: 'PS256' }] }, /not in the provider's JWKS/);
    const weak = keyPair('rsa1024', 'weak');
    await refused({ idToken: (n) => rawToken({ alg: 'RS256', kid: 'weak' }, claims(n), (input) => sign('sha256', input, weak.privateKey)), jwks: () => [weak.jwk] }, /RSA key shorter than 2048 bits/);
  });

  it('refuses malformed tokens and critical header extensions', async () => {
    const b64 = (part: unknown): string => Buffer.from(JSON.stringify(part)).toString('base64url');
    for (const bad of ['abc', 'a.b', 'a.b.c.d', '!!.e30.e30', `${b64([1])}.${b64(claims('n'))}.c2ln`, `e30.${b64(claims('n'))}.c2ln`]) {
      await refused({ idToken: () => bad }, /ID token was refused|could not be used/);
    }
    await refused({ idToken: (n) => signToken(claims(n), rsa.privateKey, { alg: 'RS256', kid: 'rsa-1', crit: ['urn:x'], 'urn:x': 1 }, { crit: { 'urn:x': true } }) }, /critical header extensions/);
  });
});

describe('the provider\'s signing keys (JWKS)', () => {
  /** Runs `body` with Date (only) under a mock clock: openid-client's key cache ages on the system clock. */
  async function withMockDate(body: (tick: (ms: number) => void) => Promise<void>): Promise<void> {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      await body((ms) => mock.timers.tick(ms));
    } finally {
      mock.timers.reset();
    }
  }

  it('are loaded at startup, and a token signed with a rotated key causes one refetch after 60 s', async () => {
    await withMockDate(async (tick) => {
      let rotatedIn = false;
      const rotated = keyPair('ec', 'ec-2');
      const p = await forgedProvider({ idToken: signed(rotated, { alg: 'ES256' }), jwks: () => [rsa.jwk, ...(rotatedIn ? [rotated.jwk] : [])] });
      assert.equal(p.jwksRequests(), 1, 'loaded by discovery');
      rotatedIn = true;
      tick(61_000);
      assert.equal((await p.attempt()).role, 'viewer');
      assert.equal(p.jwksRequests(), 2);
    });
  });

  it('are refetched for unknown kids at most once per 60 s, and after 5 minutes in any case', async () => {
    await withMockDate(async (tick) => {
      const stranger = keyPair('rsa', 'nobody');
      let key = stranger;
      const p = await forgedProvider({ idToken: (n) => signed(key, {})(n), jwks: () => [rsa.jwk] });
      await refused(p.attempt(), /kid "nobody"\) is not in the provider's JWKS/);
      await refused(p.attempt(), /not in the provider's JWKS/);
      assert.equal(p.jwksRequests(), 1, 'no refetch within 60 s of the last fetch');
      tick(60_000);
      await refused(p.attempt(), /not in the provider's JWKS/);
      await refused(p.attempt(), /not in the provider's JWKS/);
      assert.equal(p.jwksRequests(), 2);
      key = rsa;
      await p.attempt();
      assert.equal(p.jwksRequests(), 2, 'a known kid uses the cache');
      tick(5 * 60_000);
      await p.attempt();
      assert.equal(p.jwksRequests(), 3);
    });
  });

  it('without a keys array stop discovery with a message', async () => {
    await assert.rejects(forgedProvider({ idToken: signed(rsa, {}), jwks: () => ['not a key'] }), /cannot load the provider's signing keys from .*jwks \(not a JSON object with a "keys" array\)/);
  });
});
