// OidcClient against a real oidc-provider, a scripted provider and broken discovery documents; the role claim mapping.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { UsageError } from '../core/errors.ts';
import { decodeProtectedHeader } from 'jose';
import { OidcClient, OidcLoginError, claimValues, mapRole, type OidcConfig, type PendingLogin } from './oidc.ts';
import {
  SCRIPTED_ISSUER, browserLogin, closedPort, scriptedProvider, signToken, startStaticServer, startTestProvider,
  type Script, type ScriptedProvider, type TestProvider,
} from './oidc-provider.test-helper.ts';

const REDIRECT_URI = 'http://127.0.0.1:8089/auth/oidc/callback';
const SECRET = 'client-secret-that-must-never-be-shown';
const ROLE_MAP = { 'load-testers': 'operator', 'cicada-admins': 'admin', staff: 'viewer' } as const;

const accounts = {
  alice: { preferred_username: 'alice', email: 'alice@example.com', groups: ['load-testers', 'staff'] },
  bob: { preferred_username: 'bob', email: 'bob@example.com', groups: ['marketing'] },
  carol: { preferred_username: 'carol', groups: ['staff', 'cicada-admins', 'load-testers'] },
  dave: { email: 'dave@example.com', groups: ['staff'] },
};

const clients = [
  { client_id: 'cicada', client_secret: SECRET, redirect_uris: [REDIRECT_URI] },
  { client_id: 'cicada-es', client_secret: SECRET, redirect_uris: [REDIRECT_URI], id_token_signed_response_alg: 'ES256' },
  { client_id: 'cicada-ps', client_secret: SECRET, redirect_uris: [REDIRECT_URI], id_token_signed_response_alg: 'PS256' },
];

function config(issuer: string, overrides: Partial<OidcConfig> = {}): OidcConfig {
  return { issuer, clientId: 'cicada', clientSecret: SECRET, redirectUri: REDIRECT_URI, roleClaim: 'groups', roleMap: { ...ROLE_MAP }, ...overrides };
}

/** Asserts an OidcLoginError whose message matches and shows no secret. */
async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<OidcLoginError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof OidcLoginError, `expected an OidcLoginError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes(SECRET) && !(caught.detail ?? '').includes(SECRET));
  return caught;
}

describe('OIDC login against oidc-provider', () => {
  // groups only in the userinfo response (oidc-provider's default) ...
  let provider: TestProvider;
  // ... and in the ID token too.
  let idTokenProvider: TestProvider;
  let client: OidcClient;
  const clock = { offset: 0 };

  before(async () => {
    provider = await startTestProvider({ clients, accounts });
    idTokenProvider = await startTestProvider({ clients, accounts, conformIdTokenClaims: false });
    client = await OidcClient.discover(config(provider.issuer, { now: () => Date.now() + clock.offset }));
  });
  after(async () => {
    await provider?.close();
    await idTokenProvider?.close();
  });

  async function authorize(c: OidcClient, login = 'alice'): Promise<{ query: Record<string, string>; pending: PendingLogin }> {
    const { url, pending } = c.beginLogin();
    return { query: await browserLogin(url, REDIRECT_URI, { login }), pending };
  }

  it('logs alice in as operator (groups from userinfo), with a code + PKCE S256 authorization URL', async () => {
    const { url, pending } = client.beginLogin();
    const u = new URL(url);
    assert.equal(`${u.origin}${u.pathname}`, `${provider.issuer}/auth`);
    const p = u.searchParams;
    assert.equal(p.get('response_type'), 'code');
    assert.equal(p.get('client_id'), 'cicada');
    assert.equal(p.get('redirect_uri'), REDIRECT_URI);
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.equal(p.get('code_challenge'), createHash('sha256').update(pending.codeVerifier).digest('base64url'));
    assert.equal(p.get('state'), pending.state);
    assert.equal(p.get('nonce'), pending.nonce);
    assert.deepEqual(p.get('scope')?.split(' '), ['openid', 'profile', 'email', 'groups']);
    assert.ok(!url.includes(SECRET) && !url.includes(pending.codeVerifier));
    assert.match(pending.codeVerifier, /^[A-Za-z0-9_-]{43,128}$/);
    assert.notEqual(pending.state, pending.nonce);
    const second = client.beginLogin().pending;
    assert.notEqual(second.state, pending.state);

    const query = await browserLogin(url, REDIRECT_URI, { login: 'alice' });
    assert.equal(query.state, pending.state);
    assert.equal(query.iss, provider.issuer);
    const tokens = provider.tokenRequests;
    const userinfo = provider.userinfoRequests;
    assert.deepEqual(await client.completeLogin(query, pending), { username: 'alice', role: 'operator' });
    assert.equal(provider.tokenRequests, tokens + 1);
    assert.equal(provider.userinfoRequests, userinfo + 1);
  });

  it('takes the role from the ID token when it is there (RS256, ES256, PS256 ID tokens), without userinfo', async () => {
    // A fetch that notes the algorithm of each ID token the token endpoint returns.
    const algs: string[] = [];
    const spy = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const response = await fetch(input, init);
      if (typeof input === 'string' && input.endsWith('/token') && response.status === 200) {
        const body = (await response.clone().json()) as { id_token: string };
        algs.push(decodeProtectedHeader(body.id_token).alg ?? '');
      }
      return response;
    };
    for (const clientId of ['cicada', 'cicada-es', 'cicada-ps']) {
      const c = await OidcClient.discover(config(idTokenProvider.issuer, { clientId, fetch: spy }));
      const { query, pending } = await authorize(c);
      const userinfo = idTokenProvider.userinfoRequests;
      assert.deepEqual(await c.completeLogin(query, pending), { username: 'alice', role: 'operator' }, clientId);
      assert.equal(idTokenProvider.userinfoRequests, userinfo, clientId);
    }
    assert.deepEqual(algs, ['RS256', 'ES256', 'PS256']);
  });

  it('gives the highest role matched; the username falls back to email, then sub', async () => {
    let { query, pending } = await authorize(client, 'carol');
    assert.deepEqual(await client.completeLogin(query, pending), { username: 'carol', role: 'admin' });
    ({ query, pending } = await authorize(client, 'dave'));
    assert.deepEqual(await client.completeLogin(query, pending), { username: 'dave@example.com', role: 'viewer' });
    const bySub = await OidcClient.discover(config(provider.issuer, { usernameClaim: 'nickname' }));
    ({ query, pending } = await authorize(bySub, 'alice'));
    assert.deepEqual(await bySub.completeLogin(query, pending), { username: 'alice', role: 'operator' });
  });

  it('refuses a wrong state without asking the token endpoint', async () => {
    const { query, pending } = await authorize(client);
    const before = provider.tokenRequests;
    await refused(client.completeLogin({ ...query, state: 'forged' }, pending), /state mismatch/);
    await refused(client.completeLogin({ ...query, state: undefined }, pending), /state mismatch/);
    await refused(client.completeLogin(query, { ...pending, state: `${pending.state.slice(0, -1)}x` }), /state mismatch/);
    assert.equal(provider.tokenRequests, before);
  });

  it('refuses a replayed callback (the pending login is gone), and the provider refuses a reused code', async () => {
    const { query, pending } = await authorize(client);
    assert.equal((await client.completeLogin(query, pending)).role, 'operator');
    const before = provider.tokenRequests;
    await refused(client.completeLogin(query, undefined), /unknown, expired or was already completed/);
    assert.equal(provider.tokenRequests, before);
    // Even if a server forgot to delete the pending login, the code is single-use.
    await refused(client.completeLogin(query, pending), /did not accept the login code \(invalid_grant\)/);
  });

  it('refuses an ID token whose nonce is not the pending login\'s', async () => {
    const { query, pending } = await authorize(client);
    await refused(client.completeLogin(query, { ...pending, nonce: 'another-nonce' }), /nonce does not match/);
  });

  it('refuses a wrong PKCE verifier (the provider refuses the code exchange)', async () => {
    const { query, pending } = await authorize(client);
    const before = provider.tokenRequests;
    const e = await refused(client.completeLogin(query, { ...pending, codeVerifier: 'x'.repeat(43) }), /did not accept the login code \(invalid_grant\)/);
    assert.equal(provider.tokenRequests, before + 1);
    assert.match(e.detail ?? '', /invalid_grant/);
    assert.ok(!e.message.includes(query.code!));
  });

  it('refuses a provider error with its description (the user cancelled at the provider)', async () => {
    const { url, pending } = client.beginLogin();
    const query = await browserLogin(url, REDIRECT_URI, { login: 'alice', abort: true });
    assert.equal(query.error, 'access_denied');
    const before = provider.tokenRequests;
    await refused(client.completeLogin(query, pending), /^the identity provider refused the login: End-User aborted interaction$/);
    assert.equal(provider.tokenRequests, before);
  });

  it('refuses a user none of whose groups is in the role map, naming the groups that would do', async () => {
    const { query, pending } = await authorize(client, 'bob');
    await refused(
      client.completeLogin(query, pending),
      /^your account has no Cicada role: ask an administrator to add you to one of: load-testers, cicada-admins, staff$/,
    );
  });

  it('refuses a pending login older than 10 minutes, a foreign or missing iss, a missing code', async () => {
    const { query, pending } = await authorize(client);
    const before = provider.tokenRequests;
    clock.offset = 10 * 60_000 + 1000;
    try {
      await refused(client.completeLogin(query, pending), /took too long/);
    } finally {
      clock.offset = 0;
    }
    await refused(client.completeLogin({ ...query, iss: 'https://evil.example.com' }, pending), /iss mismatch/);
    await refused(client.completeLogin({ ...query, iss: undefined }, pending), /iss mismatch/);
    await refused(client.completeLogin({ ...query, code: undefined }, pending), /no authorization code/);
    assert.equal(provider.tokenRequests, before);
    // The pending login itself still works.
    assert.equal((await client.completeLogin(query, pending)).role, 'operator');
  });

  it('refuses a wrong client secret with a message for the administrator', async () => {
    const c = await OidcClient.discover(config(provider.issuer, { clientSecret: 'wrong' }));
    const { query, pending } = await authorize(c);
    await refused(c.completeLogin(query, pending), /refused Cicada's client credentials \(invalid_client\)/);
  });
});

describe('OIDC discovery', () => {
  const servers: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  async function usageError(promise: Promise<unknown>, pattern: RegExp): Promise<UsageError> {
    let caught: unknown;
    try {
      await promise;
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof UsageError, `expected a UsageError, got ${String(caught)}`);
    assert.match(caught.message, pattern);
    assert.equal(caught.exitCode, 2);
    assert.ok(!caught.message.includes(SECRET) && !(caught.hint ?? '').includes(SECRET));
    return caught;
  }

  function noFetch(): { fetch: typeof fetch; calls: () => number } {
    let calls = 0;
    return {
      fetch: () => {
        calls += 1;
        return Promise.reject(new Error('no request expected'));
      },
      calls: () => calls,
    };
  }

  it('refuses an unreachable issuer, naming its URL', async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}/realms/x`;
    const e = await usageError(OidcClient.discover(config(issuer)), /cannot reach/);
    assert.ok(e.message.includes(`${issuer}/.well-known/openid-configuration`));
    assert.match(e.message, /ECONNREFUSED/);
    assert.ok(e.hint?.includes(issuer));
  });

  it('refuses an http issuer on a non-loopback host before any request', async () => {
    const f = noFetch();
    await usageError(OidcClient.discover(config('http://login.example.com/realms/x', { fetch: f.fetch })), /https is required/);
    assert.equal(f.calls(), 0);
  });

  it('refuses a bad configuration before any request', async () => {
    const f = noFetch();
    const issuer = 'https://login.example.com';
    await usageError(OidcClient.discover(config(issuer, { fetch: f.fetch, roleMap: {} })), /role map is empty/);
    await usageError(OidcClient.discover(config(issuer, { fetch: f.fetch, roleMap: { x: 'root' as 'admin' } })), /unknown role "root"/);
    await usageError(OidcClient.discover(config(issuer, { fetch: f.fetch, clientSecret: '' })), /client secret is missing/);
    await usageError(OidcClient.discover(config(issuer, { fetch: f.fetch, clientId: '' })), /client id is missing/);
    await usageError(OidcClient.discover(config(issuer, { fetch: f.fetch, redirectUri: '/auth/oidc/callback' })), /redirect URI is not an absolute URL/);
    await usageError(OidcClient.discover(config(issuer, { fetch: f.fetch, redirectUri: `${REDIRECT_URI}?next=/` })), /without a query or fragment/);
    await usageError(OidcClient.discover(config(issuer, { fetch: f.fetch, roleClaim: '' })), /role claim is missing/);
    await usageError(OidcClient.discover(config('not a url', { fetch: f.fetch })), /not a URL/);
    await usageError(OidcClient.discover(config('ftp://login.example.com', { fetch: f.fetch })), /not an http\(s\) URL/);
    await usageError(OidcClient.discover(config(`${issuer}?realm=x`, { fetch: f.fetch })), /query or fragment/);
    await usageError(OidcClient.discover(config(issuer, { fetch: f.fetch, scopes: ['openid', 'a b'] })), /scopes/);
    assert.equal(f.calls(), 0);
  });

  it('refuses a discovery document naming another issuer, or not JSON, or an HTTP error', async () => {
    let doc = '';
    let status = 200;
    const server = await startStaticServer(() => ({ status, body: doc }));
    servers.push(server);
    doc = JSON.stringify({ issuer: 'https://elsewhere.example.com', authorization_endpoint: `${server.url}/auth`, token_endpoint: `${server.url}/token`, jwks_uri: `${server.url}/jwks` });
    const e = await usageError(OidcClient.discover(config(server.url)), /names the issuer "https:\/\/elsewhere\.example\.com", not "http:\/\/127\.0\.0\.1:\d+"/);
    assert.match(e.hint ?? '', /set the issuer to exactly https:\/\/elsewhere\.example\.com/);
    doc = JSON.stringify({ issuer: server.url, authorization_endpoint: `${server.url}/auth`, token_endpoint: `${server.url}/token`, jwks_uri: `${server.url}/jwks` });
    await usageError(OidcClient.discover(config(`${server.url}/`)), /names the issuer/);
    doc = '<html>not json</html>';
    await usageError(OidcClient.discover(config(server.url)), /is not JSON/);
    status = 404;
    await usageError(OidcClient.discover(config(server.url)), /answered HTTP 404/);
  });

  it('refuses a provider without the code flow, PKCE S256, usable endpoints or algorithms', async () => {
    let doc: Record<string, unknown> = {};
    const server = await startStaticServer((path) =>
      path === '/jwks' ? { status: 200, body: JSON.stringify({ keys: [] }) } : { status: 200, body: JSON.stringify(doc) },
    );
    servers.push(server);
    const base = { issuer: server.url, authorization_endpoint: `${server.url}/auth`, token_endpoint: `${server.url}/token`, jwks_uri: `${server.url}/jwks` };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ code_challenge_methods_supported: ['plain'] }, /PKCE with S256/],
      [{ response_types_supported: ['id_token'] }, /authorization code flow/],
      [{ id_token_signing_alg_values_supported: ['HS256', 'none'] }, /algorithms Cicada does not accept \(HS256, none\)/],
      [{ token_endpoint: 'http://login.example.com/token' }, /unusable token_endpoint: it uses http on a non-loopback host/],
      [{ jwks_uri: undefined }, /unusable jwks_uri: it is missing/],
      [{ token_endpoint_auth_methods_supported: ['private_key_jwt'] }, /neither client_secret_basic nor client_secret_post/],
    ];
    for (const [change, pattern] of cases) {
      doc = { ...base, ...change };
      await usageError(OidcClient.discover(config(server.url)), pattern);
    }
    doc = { ...base, jwks_uri: `${server.url}/nojwks`, code_challenge_methods_supported: ['S256'] };
    await usageError(OidcClient.discover(config(server.url)), /signing keys/);
    doc = { ...base };
    assert.ok((await OidcClient.discover(config(server.url))) instanceof OidcClient, 'a minimal document is enough');
  });
});

describe('OIDC login against a scripted provider', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keys = (): Record<string, unknown>[] => [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }];

  function claims(nonce: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return { iss: SCRIPTED_ISSUER, aud: 'cicada', sub: 'u-1', nonce, iat: now, exp: now + 300, ...extra };
  }

  /** An ID token with these claims (and the login's nonce), signed with the provider's key. */
  function signed(extra: Record<string, unknown> = {}): (nonce: string) => Promise<string> {
    return (nonce) => signToken(claims(nonce, extra), rsa.privateKey, { alg: 'RS256', kid: 'k1' });
  }

  async function login(script: Omit<Script, 'jwks'>, overrides: Partial<OidcConfig> = {}): Promise<{ result: Promise<{ username: string; role: string }>; requests: ScriptedProvider['requests'] }> {
    const s = scriptedProvider({ jwks: keys, ...script });
    const c = await OidcClient.discover(config(SCRIPTED_ISSUER, { fetch: s.fetch, ...overrides }));
    const { url, pending } = c.beginLogin();
    s.nonce.value = pending.nonce;
    assert.ok(url.startsWith(`${SCRIPTED_ISSUER}/auth?`));
    return { result: c.completeLogin({ code: 'the-code', state: pending.state }, pending), requests: s.requests };
  }

  it('posts the code with client_secret_basic, the PKCE verifier and the redirect URI, with a timeout and no redirects', async () => {
    const secret = 'p@ss:w0rd/ with spaces+';
    const { result, requests } = await login({ idToken: signed({ groups: ['load-testers'], preferred_username: 'ann' }) }, { clientSecret: secret });
    assert.deepEqual(await result, { username: 'ann', role: 'operator' });
    const token = requests.find((r) => r.url.endsWith('/token'))!;
    const headers = token.init!.headers as Record<string, string>;
    const basic = Buffer.from(headers.authorization!.replace(/^Basic /, ''), 'base64').toString();
    assert.equal(basic, `cicada:${encodeURIComponent(secret).replace(/%20/g, '+')}`);
    const body = new URLSearchParams(token.init!.body as string);
    assert.equal(body.get('grant_type'), 'authorization_code');
    assert.equal(body.get('code'), 'the-code');
    assert.equal(body.get('redirect_uri'), REDIRECT_URI);
    assert.match(body.get('code_verifier')!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(body.get('client_secret'), null, 'the secret goes in the header only');
    for (const r of requests) {
      assert.ok(r.init?.signal instanceof AbortSignal, r.url);
      assert.equal(r.init?.redirect, 'manual', r.url);
    }
  });

  it('posts the secret in the body for a provider that supports only client_secret_post', async () => {
    const { result, requests } = await login({ idToken: signed({ groups: ['staff'] }), discovery: { token_endpoint_auth_methods_supported: ['client_secret_post'] } });
    assert.equal((await result).role, 'viewer');
    const token = requests.find((r) => r.url.endsWith('/token'))!;
    assert.equal((token.init!.headers as Record<string, string>).authorization, undefined);
    assert.equal(new URLSearchParams(token.init!.body as string).get('client_secret'), SECRET);
  });

  it('takes a dotted role claim from the ID token (realm_access.roles) and asks for its scope only if listed', async () => {
    const { result, requests } = await login(
      { idToken: signed({ realm_access: { roles: ['cicada-admins'] }, preferred_username: 'root' }) },
      { roleClaim: 'realm_access.roles' },
    );
    assert.deepEqual(await result, { username: 'root', role: 'admin' });
    assert.ok(!requests.some((r) => r.url.endsWith('/userinfo')));
    const rolesClient = await OidcClient.discover(config(SCRIPTED_ISSUER, { fetch: scriptedProvider({ idToken: signed(), jwks: keys }).fetch, roleClaim: 'roles' }));
    assert.deepEqual(rolesClient.scopes, ['openid', 'profile', 'email', 'roles']);
    const explicit = await OidcClient.discover(config(SCRIPTED_ISSUER, { fetch: scriptedProvider({ idToken: signed(), jwks: keys }).fetch, scopes: ['profile'] }));
    assert.deepEqual(explicit.scopes, ['openid', 'profile']);
  });

  it('refuses a userinfo response for another subject', async () => {
    const { result } = await login({ idToken: signed(), userinfo: { sub: 'someone-else', groups: ['cicada-admins'] } });
    await refused(result, /for another user/);
  });

  it('refuses when the claim is in neither the ID token nor userinfo', async () => {
    const { result } = await login({ idToken: signed(), userinfo: { sub: 'u-1' } });
    const e = await refused(result, /no Cicada role/);
    assert.match(e.detail ?? '', /neither the ID token nor the userinfo response/);
  });

  it('says so when the groups are needed and userinfo fails', async () => {
    const { result } = await login({ idToken: signed() });
    const e = await refused(result, /user information could not be read: try again later/);
    assert.match(e.detail ?? '', /userinfo endpoint/);
  });

  it('refuses a token response larger than 1 MiB without parsing it', async () => {
    const { result } = await login({ idToken: signed(), tokenBody: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) });
    const e = await refused(result, /could not be reached to finish the login/);
    assert.match(e.detail ?? '', /\/token: the response is larger than 1048576 bytes/);
  });

  it('does not put the client secret, tokens or code in its JSON form', async () => {
    const c = await OidcClient.discover(config(SCRIPTED_ISSUER, { fetch: scriptedProvider({ idToken: signed(), jwks: keys }).fetch }));
    const shown = JSON.stringify(c);
    assert.ok(!shown.includes(SECRET));
    assert.match(shown, /"clientId":"cicada"/);
  });
});

describe('role claims', () => {
  it('reads strings, arrays and dotted paths, and ignores non-strings', () => {
    assert.deepEqual(claimValues({ groups: ['a', 1, 'b'] }, 'groups'), ['a', 'b']);
    assert.deepEqual(claimValues({ role: 'a' }, 'role'), ['a']);
    assert.deepEqual(claimValues({ realm_access: { roles: ['x'] } }, 'realm_access.roles'), ['x']);
    assert.deepEqual(claimValues({ 'https://example.com/roles': ['y'] }, 'https://example.com/roles'), ['y']);
    assert.equal(claimValues({}, 'groups'), undefined);
    assert.equal(claimValues({ a: 'x' }, 'a.b'), undefined);
    assert.equal(claimValues({}, '__proto__.polluted'), undefined);
    assert.deepEqual(claimValues({ groups: 7 }, 'groups'), []);
  });

  it('maps only roleMap entries, the highest role winning', () => {
    const map = { ops: 'operator', admins: 'admin', all: 'viewer' } as const;
    assert.equal(mapRole(['all', 'admins', 'ops'], map), 'admin');
    assert.equal(mapRole(['all'], map), 'viewer');
    assert.equal(mapRole(['admin', 'operator', 'toString', 'constructor'], map), undefined);
    assert.equal(mapRole([], map), undefined);
  });
});
