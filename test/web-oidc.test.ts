// Single sign-on end to end: a real oidc-provider on 127.0.0.1 and the real Cicada web server over HTTP, driven by
// fetch without a browser (redirects not followed, cookies carried by hand).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OidcClient } from '../src/web/oidc.ts';
import { browserLogin, startTestProvider, type TestProvider } from '../src/web/oidc-provider.test-helper.ts';
import { startTestServer, type TestServer } from './web-helpers.ts';
import { freePort } from './helpers.ts';

const SECRET = 'web-oidc-client-secret';
const ROLE_MAP = { 'load-testers': 'operator', staff: 'viewer' } as const;
const accounts = {
  alice: { preferred_username: 'alice', email: 'alice@example.com', groups: ['load-testers', 'staff'] },
  vera: { preferred_username: 'vera', groups: ['staff'] },
  bob: { preferred_username: 'bob', groups: ['marketing'] },
};

/** A parsed Set-Cookie line: its value and attributes (names lower-cased; flags map to ''). */
interface SetCookie {
  value: string;
  attributes: Map<string, string>;
}

function setCookies(response: Response): Map<string, SetCookie> {
  const out = new Map<string, SetCookie>();
  for (const line of response.headers.getSetCookie()) {
    const [pair = '', ...rest] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const attributes = new Map<string, string>();
    for (const attribute of rest) {
      const i = attribute.indexOf('=');
      attributes.set((i === -1 ? attribute : attribute.slice(0, i)).toLowerCase(), i === -1 ? '' : attribute.slice(i + 1));
    }
    out.set(pair.slice(0, eq), { value: pair.slice(eq + 1), attributes });
  }
  return out;
}

/** True when the Set-Cookie removes the cookie (empty value, Max-Age 0 or an Expires in the past). */
function isCleared(cookie: SetCookie | undefined): boolean {
  if (cookie === undefined) return false;
  const maxAge = cookie.attributes.get('max-age');
  const expires = cookie.attributes.get('expires');
  return cookie.value === '' || (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) < Date.now());
}

/** GET without following redirects, with a time limit. */
function get(url: string, cookie?: string): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie }, signal: AbortSignal.timeout(10_000) });
}

function post(url: string, cookie: string, csrfToken: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

interface SessionJson {
  user: string;
  role: string;
  csrfToken: string;
  authMode: string;
}

describe('web: OpenID Connect login against a real provider, over HTTP', () => {
  let provider: TestProvider;
  let server: TestServer;
  let base: string;
  let redirectUri: string;

  before(async () => {
    // The provider must know the callback URL before the server listens: take a free port first.
    const port = await freePort();
    redirectUri = `http://127.0.0.1:${port}/auth/oidc/callback`;
    provider = await startTestProvider({ clients: [{ client_id: 'cicada', client_secret: SECRET, redirect_uris: [redirectUri] }], accounts });
    const oidc = await OidcClient.discover({ issuer: provider.issuer, clientId: 'cicada', clientSecret: SECRET, redirectUri, roleClaim: 'groups', roleMap: { ...ROLE_MAP } });
    server = await startTestServer({ oidc, port });
    base = await server.listen();
    assert.equal(`${base}/auth/oidc/callback`, redirectUri);
  });
  after(async () => {
    await server?.runner.stop();
    await server?.close();
    await provider?.close();
  });

  /** GET /auth/oidc/login: the provider URL to go to and the pending-login cookie (`name=value`). */
  async function startLogin(): Promise<{ location: string; pendingCookie: string; response: Response }> {
    const response = await get(`${base}/auth/oidc/login`);
    assert.equal(response.status, 302);
    await response.body?.cancel();
    const location = response.headers.get('location');
    assert.ok(location !== null, 'a Location header');
    const pending = setCookies(response).get('cicada_oidc');
    assert.ok(pending !== undefined && pending.value !== '', 'the pending-login cookie is set');
    return { location, pendingCookie: `cicada_oidc=${pending.value}`, response };
  }

  /** The whole login up to (not including) the callback: the callback URL the provider sent the browser to. */
  async function loginAtProvider(login: string): Promise<{ callbackUrl: string; pendingCookie: string; query: Record<string, string> }> {
    const { location, pendingCookie } = await startLogin();
    const query = await browserLogin(location, redirectUri, { login });
    return { callbackUrl: `${redirectUri}?${new URLSearchParams(query).toString()}`, pendingCookie, query };
  }

  /** Asserts a refused callback: a 401 HTML page, no session cookie, the pending cookie cleared; returns the page. */
  async function refusedPage(response: Response): Promise<string> {
    const html = await response.text();
    assert.equal(response.status, 401, html);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const cookies = setCookies(response);
    assert.equal(cookies.get('cicada_session'), undefined, 'no session cookie on a refused login');
    assert.ok(isCleared(cookies.get('cicada_oidc')), 'the pending-login cookie is cleared');
    assert.ok(!html.includes('http-equiv="refresh"'), 'no redirect into the UI');
    return html;
  }

  /** A completed login: the session cookie (`name=value`) and the session document. */
  async function logIn(login: string): Promise<{ cookie: string; session: SessionJson }> {
    const { callbackUrl, pendingCookie } = await loginAtProvider(login);
    const response = await get(callbackUrl, pendingCookie);
    const html = await response.text();
    assert.equal(response.status, 200, html);
    const sessionCookie = setCookies(response).get('cicada_session');
    assert.ok(sessionCookie !== undefined);
    const cookie = `cicada_session=${sessionCookie.value}`;
    const res = await get(`${base}/session`, cookie);
    assert.equal(res.status, 200);
    return { cookie, session: (await res.json()) as SessionJson };
  }

  it('logs an operator in: provider round trip, Strict HttpOnly session cookie, /session, then /swarm and /stop with the CSRF token', async () => {
    const { location, pendingCookie, response: loginResponse } = await startLogin();
    const pending = setCookies(loginResponse).get('cicada_oidc')!;
    assert.equal(pending.attributes.get('samesite')?.toLowerCase(), 'lax', 'Lax: the provider sends the browser back cross-site');
    assert.ok(pending.attributes.has('httponly'));
    assert.equal(pending.attributes.get('path'), '/');
    const auth = new URL(location);
    assert.equal(`${auth.origin}${auth.pathname}`, `${provider.issuer}/auth`);
    assert.equal(auth.searchParams.get('redirect_uri'), redirectUri);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(!location.includes(SECRET));

    const query = await browserLogin(location, redirectUri, { login: 'alice' });
    assert.equal(query.state, auth.searchParams.get('state'));
    assert.ok(query.code !== undefined && query.code !== '');
    const tokens = provider.tokenRequests;
    const callback = await get(`${redirectUri}?${new URLSearchParams(query).toString()}`, pendingCookie);
    const html = await callback.text();
    assert.equal(callback.status, 200, html);
    assert.equal(provider.tokenRequests, tokens + 1, 'the code was exchanged once');
    assert.match(callback.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(html, /<meta http-equiv="refresh" content="0;url=\/">/);
    assert.equal(callback.headers.get('cache-control'), 'no-store');
    const cookies = setCookies(callback);
    const session = cookies.get('cicada_session');
    assert.ok(session !== undefined && session.value.length >= 43, 'a session cookie with a long random id');
    assert.ok(session.attributes.has('httponly'));
    assert.equal(session.attributes.get('samesite')?.toLowerCase(), 'strict');
    assert.equal(session.attributes.get('path'), '/');
    assert.ok(!session.attributes.has('secure'), 'plain HTTP: no Secure flag');
    assert.ok(isCleared(cookies.get('cicada_oidc')), 'the pending-login cookie is cleared');
    assert.ok(!html.includes(session.value) && !html.includes(query.code), 'the page shows neither the session id nor the code');

    const cookie = `cicada_session=${session.value}`;
    const me = await get(`${base}/session`, cookie);
    assert.equal(me.status, 200);
    const body = (await me.json()) as SessionJson;
    assert.equal(body.user, 'alice');
    assert.equal(body.role, 'operator');
    assert.equal(body.authMode, 'oidc');
    assert.match(body.csrfToken, /^[A-Za-z0-9_-]{43,}$/);

    const swarm = await post(`${base}/swarm`, cookie, body.csrfToken, { user_count: 1, spawn_rate: 1 });
    assert.equal(swarm.status, 200, await swarm.clone().text());
    assert.equal(((await swarm.json()) as { success: boolean }).success, true);
    assert.equal(server.runner.targetUserCount, 1);
    const stop = await post(`${base}/stop`, cookie, body.csrfToken, {});
    assert.equal(stop.status, 200, await stop.clone().text());
    assert.deepEqual(await stop.json(), { success: true, message: 'Test stopped' });

    const anonymous = await get(`${base}/session`);
    assert.equal(anonymous.status, 401);
    const refused = (await anonymous.json()) as { login: unknown };
    assert.deepEqual(refused.login, { password: false, oidc: true });
  });

  it('refuses the callback replayed after a successful login (same URL, same pending cookie), without exchanging the code again', async () => {
    const { callbackUrl, pendingCookie } = await loginAtProvider('alice');
    const first = await get(callbackUrl, pendingCookie);
    await first.body?.cancel();
    assert.equal(first.status, 200);
    const firstSession = setCookies(first).get('cicada_session')!;
    const tokens = provider.tokenRequests;

    const html = await refusedPage(await get(callbackUrl, pendingCookie));
    assert.match(html, /unknown, expired or was already completed/);
    assert.equal(provider.tokenRequests, tokens, 'the code was not sent to the provider again');
    // The first session is unharmed.
    const me = await get(`${base}/session`, `cicada_session=${firstSession.value}`);
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as SessionJson).user, 'alice');
  });

  it('lets only one of two simultaneous callbacks for the same login through', async () => {
    const { callbackUrl, pendingCookie } = await loginAtProvider('alice');
    const responses = await Promise.all([get(callbackUrl, pendingCookie), get(callbackUrl, pendingCookie)]);
    const statuses = await Promise.all(responses.map(async (r) => { await r.body?.cancel(); return r.status; }));
    assert.deepEqual(statuses.sort(), [200, 401]);
    assert.equal(responses.filter((r) => setCookies(r).has('cicada_session')).length, 1);
  });

  it('refuses a callback with a tampered state (and that login is then spent), and a callback without the pending cookie', async () => {
    const { query, pendingCookie } = await loginAtProvider('alice');
    const tokens = provider.tokenRequests;
    const state = query.state!;
    const tampered = `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`;
    const html = await refusedPage(await get(`${redirectUri}?${new URLSearchParams({ ...query, state: tampered }).toString()}`, pendingCookie));
    assert.match(html, /state mismatch/);
    // One use only: the right state cannot be tried after a wrong one.
    await refusedPage(await get(`${redirectUri}?${new URLSearchParams(query).toString()}`, pendingCookie));
    assert.equal(provider.tokenRequests, tokens, 'no code was exchanged');

    const fresh = await loginAtProvider('alice');
    const noCookie = await refusedPage(await get(fresh.callbackUrl));
    assert.match(noCookie, /unknown, expired or was already completed/);
    const wrongCookie = await refusedPage(await get(fresh.callbackUrl, 'cicada_oidc=not-a-pending-login'));
    assert.match(wrongCookie, /unknown, expired or was already completed/);
    assert.equal(provider.tokenRequests, tokens, 'no code was exchanged');
  });

  it('refuses a user whose groups map to no role: 401 page saying so, no session', async () => {
    const { callbackUrl, pendingCookie } = await loginAtProvider('bob');
    const response = await get(callbackUrl, pendingCookie);
    const html = await refusedPage(response);
    assert.match(html, /no Cicada role/);
    assert.match(html, /load-testers, staff/, 'names the groups that would do');
    assert.ok(!html.includes(SECRET));
  });

  it('shows the provider\'s error as escaped text, under a Content-Security-Policy', async () => {
    // Through the provider: the user cancels at the login page, the provider answers access_denied.
    const { location, pendingCookie } = await startLogin();
    const query = await browserLogin(location, redirectUri, { login: 'alice', abort: true });
    assert.equal(query.error, 'access_denied');
    const cancelled = await refusedPage(await get(`${redirectUri}?${new URLSearchParams(query).toString()}`, pendingCookie));
    assert.match(cancelled, /the identity provider refused the login: End-User aborted interaction/);

    // The provider cannot be made to send markup, so the callback is called as a hostile provider would send it,
    // for a real pending login (its state, its cookie).
    const start = await startLogin();
    const state = new URL(start.location).searchParams.get('state')!;
    const hostile = new URLSearchParams({
      error: 'access_denied',
      error_description: 'denied <script>alert(1)</script> "quoted" \'single\' & more',
      state,
      iss: provider.issuer,
    });
    const response = await get(`${redirectUri}?${hostile.toString()}`, start.pendingCookie);
    const csp = response.headers.get('content-security-policy');
    const html = await refusedPage(response);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), html);
    assert.ok(!html.includes('<script'), 'no markup from the provider');
    assert.ok(html.includes('&quot;quoted&quot; &#39;single&#39; &amp; more'), html);
    assert.ok(csp !== null, 'a Content-Security-Policy header');
    assert.match(csp, /script-src 'self'/);
    assert.ok(!csp.includes('unsafe-inline'), csp);
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });

  it('gives a viewer a session but refuses it POST /swarm (403), and the run is unchanged', async () => {
    const { cookie, session } = await logIn('vera');
    assert.deepEqual({ user: session.user, role: session.role, authMode: session.authMode }, { user: 'vera', role: 'viewer', authMode: 'oidc' });
    const stats = await get(`${base}/stats/requests`, cookie);
    assert.equal(stats.status, 200, 'a viewer reads statistics');
    await stats.body?.cancel();
    const state = server.runner.state;
    const target = server.runner.targetUserCount;
    const swarm = await post(`${base}/swarm`, cookie, session.csrfToken, { user_count: 1, spawn_rate: 1 });
    assert.equal(swarm.status, 403);
    assert.match(((await swarm.json()) as { message: string }).message, /your role \(viewer\) may not do this; it needs operator/);
    const stop = await post(`${base}/stop`, cookie, session.csrfToken, {});
    assert.equal(stop.status, 403);
    await stop.body?.cancel();
    assert.equal(server.runner.state, state);
    assert.equal(server.runner.targetUserCount, target);
  });
});
