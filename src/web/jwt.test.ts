import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { JwksCache, JwtError, checkIdTokenClaims, constantTimeEqual, decodeJws, staticKeys, verifyIdToken, type Jwk } from './jwt.ts';
import { signJwt } from './oidc-provider.test-helper.ts';

const ISSUER = 'https://login.example.com/realms/main';
const CLIENT = 'cicada';
const NONCE = 'n-0S6_WzA2Mj';
const NOW = Date.UTC(2030, 0, 1);
const nowS = NOW / 1000;

interface TestKey {
  privateKey: KeyObject;
  jwk: Jwk;
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
const jwks = staticKeys({ keys: [rsa.jwk, ec.jwk, ed.jwk] });

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISSUER, aud: CLIENT, sub: 'user-1', nonce: NONCE, iat: nowS - 5, exp: nowS + 300, ...overrides };
}

const expected = { issuer: ISSUER, clientId: CLIENT, nonce: NONCE, now: NOW };

function verify(token: string, keys = jwks): Promise<Record<string, unknown>> {
  return verifyIdToken(token, keys, expected);
}

async function refused(token: string, pattern: RegExp, keys = jwks): Promise<void> {
  await assert.rejects(verify(token, keys), (e: unknown) => e instanceof JwtError && pattern.test(e.message));
}

function b64(part: unknown): string {
  return Buffer.from(JSON.stringify(part)).toString('base64url');
}

describe('ID token verification', () => {
  it('accepts good RS256, PS256, ES256 and EdDSA tokens and returns the claims', async () => {
    for (const [alg, key] of [['RS256', rsa], ['PS256', rsa], ['ES256', ec], ['EdDSA', ed]] as const) {
      const token = signJwt({ alg, kid: key.jwk.kid, typ: 'JWT' }, claims({ groups: ['a'] }), key.privateKey);
      const payload = await verify(token);
      assert.equal(payload.sub, 'user-1', alg);
      assert.deepEqual(payload.groups, ['a']);
    }
  });

  it('accepts a token without kid when a key of the right type matches', async () => {
    assert.equal((await verify(signJwt({ alg: 'ES256' }, claims(), ec.privateKey))).sub, 'user-1');
  });

  it('refuses a token for another audience, from another issuer, or for another client (azp)', async () => {
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims({ aud: 'other-client' }), rsa.privateKey), /aud/);
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims({ aud: ['other-client'] }), rsa.privateKey), /aud/);
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims({ iss: 'https://evil.example.com' }), rsa.privateKey), /another issuer/);
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims({ aud: [CLIENT, 'api'] }), rsa.privateKey), /several audiences but no azp/);
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims({ aud: [CLIENT, 'api'], azp: 'api' }), rsa.privateKey), /azp/);
    const ok = await verify(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims({ aud: [CLIENT, 'api'], azp: CLIENT }), rsa.privateKey));
    assert.equal(ok.azp, CLIENT);
  });

  it('checks exp, iat and nbf with 60 s of skew', async () => {
    const t = (c: Record<string, unknown>): string => signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims(c), rsa.privateKey);
    await refused(t({ exp: nowS - 61 }), /expired/);
    await verify(t({ exp: nowS - 59 }));
    await refused(t({ nbf: nowS + 120 }), /not valid yet/);
    await verify(t({ nbf: nowS + 30 }));
    await refused(t({ iat: nowS + 120 }), /issued in the future/);
    await refused(t({ exp: undefined }), /exp claim is missing/);
    await refused(t({ exp: '2030' }), /exp claim is missing or not a number/);
    await refused(t({ iat: undefined }), /iat claim/);
  });

  it('refuses a nonce that is not the login\'s, or none, and a token without sub', async () => {
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims({ nonce: 'another' }), rsa.privateKey), /nonce/);
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims({ nonce: undefined }), rsa.privateKey), /nonce/);
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims({ sub: '' }), rsa.privateKey), /sub/);
  });

  it('refuses alg none, HS256 (even keyed with the provider\'s public key) and unknown algorithms', async () => {
    await refused(`${b64({ alg: 'none' })}.${b64(claims())}.`, /alg none/);
    await refused(`${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(claims())}.c2ln`, /alg none/);
    const input = `${b64({ alg: 'HS256', kid: 'rsa-1' })}.${b64(claims())}`;
    const pem = (rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string);
    const mac = createHmac('sha256', pem).update(input).digest('base64url');
    await refused(`${input}.${mac}`, /symmetric/);
    await refused(`${b64({ alg: 'HS512' })}.${b64(claims())}.${mac}`, /symmetric/);
    await refused(`${b64({ alg: 'XY256' })}.${b64(claims())}.${mac}`, /unsupported signature algorithm/);
  });

  it('refuses a bad signature: tampered payload, another key with the same kid, a DER-encoded ECDSA signature', async () => {
    const good = signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims(), rsa.privateKey);
    const [h, , s] = good.split('.');
    await refused(`${h}.${b64(claims({ sub: 'admin' }))}.${s}`, /signature is not valid/);
    const impostor = keyPair('rsa', 'rsa-1');
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims(), impostor.privateKey), /signature is not valid/);
    const input = `${b64({ alg: 'ES256', kid: 'ec-1' })}.${b64(claims())}`;
    const der = sign('sha256', Buffer.from(input), ec.privateKey).toString('base64url');
    await refused(`${input}.${der}`, /signature is not valid/);
    // An RS256 token that names the EC key's kid finds no usable key.
    await refused(signJwt({ alg: 'RS256', kid: 'ec-1' }, claims(), rsa.privateKey), /not in the provider's JWKS/);
  });

  it('refuses an unknown kid, keys for encryption, and short RSA keys', async () => {
    const other = keyPair('rsa', 'rotated-2');
    await refused(signJwt({ alg: 'RS256', kid: 'rotated-2' }, claims(), other.privateKey), /not in the provider's JWKS/);
    const enc = staticKeys({ keys: [{ ...rsa.jwk, use: 'enc' }] });
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims(), rsa.privateKey), /not in the provider's JWKS/, enc);
    const pinned = staticKeys({ keys: [{ ...rsa.jwk, alg: 'PS256' }] });
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims(), rsa.privateKey), /not in the provider's JWKS/, pinned);
    const weak = keyPair('rsa1024', 'weak');
    await refused(signJwt({ alg: 'RS256', kid: 'weak' }, claims(), weak.privateKey), /signature is not valid/, staticKeys({ keys: [weak.jwk] }));
  });

  it('refuses malformed tokens, other token types and critical extensions', async () => {
    for (const bad of ['', 'abc', 'a.b', 'a.b.c.d', '!!.e30.e30', `${b64([1])}.${b64(claims())}.c2ln`, `e30.${b64(claims())}.c2ln`]) {
      await assert.rejects(verify(bad), JwtError, JSON.stringify(bad));
    }
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1', typ: 'at+jwt' }, claims(), rsa.privateKey), /not an ID token/);
    await refused(signJwt({ alg: 'RS256', kid: 'rsa-1', crit: ['b64'], b64: false }, claims(), rsa.privateKey), /critical/);
    await refused(`${b64({ alg: 'RS256' })}.${'A'.repeat(70_000)}.c2ln`, /too large/);
  });

  it('refuses an algorithm the provider did not announce', async () => {
    const token = signJwt({ alg: 'ES256', kid: 'ec-1' }, claims(), ec.privateKey);
    await assert.rejects(verifyIdToken(token, jwks, { ...expected, algorithms: ['RS256'] }), /not one the provider announced/);
  });

  it('errors never quote the token', async () => {
    const token = signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims({ aud: 'x' }), rsa.privateKey);
    await assert.rejects(verify(token), (e: Error) => !e.message.includes(token.split('.')[2]!) && !e.message.includes(NONCE));
  });

  it('checkIdTokenClaims and decodeJws work on their own; constantTimeEqual compares', () => {
    assert.equal(checkIdTokenClaims(claims(), expected).sub, 'user-1');
    assert.equal(decodeJws(signJwt({ alg: 'ES256', kid: 'ec-1' }, claims(), ec.privateKey)).header.kid, 'ec-1');
    assert.ok(constantTimeEqual('abc', 'abc'));
    assert.ok(!constantTimeEqual('abc', 'abd'));
    assert.ok(!constantTimeEqual('abc', 'abcd'));
  });
});

describe('the JWKS cache', () => {
  function counting(sets: Jwk[][], clock: { now: number }): { cache: JwksCache; loads: () => number } {
    let loads = 0;
    const cache = new JwksCache(
      () => {
        const keys = sets[Math.min(loads, sets.length - 1)];
        loads += 1;
        return Promise.resolve({ keys });
      },
      { now: () => clock.now },
    );
    return { cache, loads: () => loads };
  }

  it('fetches once, and again once on an unknown kid (key rotation)', async () => {
    const clock = { now: NOW };
    const rotated = keyPair('ec', 'ec-2');
    const { cache, loads } = counting([[rsa.jwk], [rsa.jwk, rotated.jwk]], clock);
    const expectedNow = { ...expected, now: clock.now };
    await verifyIdToken(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims(), rsa.privateKey), cache, expectedNow);
    await verifyIdToken(signJwt({ alg: 'RS256', kid: 'rsa-1' }, claims(), rsa.privateKey), cache, expectedNow);
    assert.equal(loads(), 1);
    clock.now += 61_000;
    const payload = await verifyIdToken(signJwt({ alg: 'ES256', kid: 'ec-2' }, claims(), rotated.privateKey), cache, { ...expected, now: clock.now });
    assert.equal(payload.sub, 'user-1');
    assert.equal(loads(), 2);
  });

  it('refetches for unknown kids at most once per 60 s', async () => {
    const clock = { now: NOW };
    const { cache, loads } = counting([[rsa.jwk]], clock);
    await cache.refresh();
    assert.equal(loads(), 1);
    const stranger = keyPair('rsa', 'nobody');
    const token = signJwt({ alg: 'RS256', kid: 'nobody' }, claims(), stranger.privateKey);
    await assert.rejects(verifyIdToken(token, cache, expected), /not in the provider's JWKS/);
    await assert.rejects(verifyIdToken(token, cache, expected), /not in the provider's JWKS/);
    assert.equal(loads(), 1, 'no refetch within 60 s of the last fetch');
    clock.now += 60_000;
    await assert.rejects(verifyIdToken(token, cache, { ...expected, now: clock.now }), /not in the provider's JWKS/);
    await assert.rejects(verifyIdToken(token, cache, { ...expected, now: clock.now }), /not in the provider's JWKS/);
    assert.equal(loads(), 2);
  });

  it('shares one request between concurrent refreshes and refetches after 10 minutes', async () => {
    const clock = { now: NOW };
    const { cache, loads } = counting([[rsa.jwk]], clock);
    await Promise.all([cache.keysFor('RS256', 'rsa-1'), cache.keysFor('RS256', 'rsa-1'), cache.refresh()]);
    assert.equal(loads(), 1);
    clock.now += 10 * 60_000 + 1;
    await cache.keysFor('RS256', 'rsa-1');
    assert.equal(loads(), 2);
  });

  it('refuses a document without a keys array', async () => {
    const cache = new JwksCache(() => Promise.resolve({ nokeys: [] }));
    await assert.rejects(cache.refresh(), /"keys" array/);
  });
});
