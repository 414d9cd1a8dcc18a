// Test helper: a real OpenID provider (oidc-provider, dev interactions) on 127.0.0.1 with a cookie-keeping "browser" of
// fetch calls that logs a user in through it; and a scripted provider (an injected fetch) that sends forged tokens.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { CompactSign, UnsecuredJWT, type CompactJWSHeaderParameters, type SignOptions } from 'jose';

/** The part of oidc-provider's API used here (the package ships no type declarations). */
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

export interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  /** Default RS256. */
  id_token_signed_response_alg?: string;
}

export interface TestProviderOptions {
  clients: TestClient[];
  /** accountId -> claims (sub is the accountId). */
  accounts: Record<string, Record<string, unknown>>;
  /** oidc-provider's default (true) puts scope-requested claims in the userinfo response only; false puts them in the ID token too. */
  conformIdTokenClaims?: boolean;
}

export interface TestProvider {
  issuer: string;
  /** Requests made to the token endpoint so far. */
  readonly tokenRequests: number;
  /** Requests made to the userinfo endpoint so far. */
  readonly userinfoRequests: number;
  close(): Promise<void>;
}

function signingKeys(): JsonWebKey[] {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [{ ...rsa, kid: 'test-rsa' }, { ...ec, kid: 'test-ec' }];
}

async function loadProvider(): Promise<ProviderConstructor> {
  const specifier: string = 'oidc-provider';
  const mod = (await import(specifier)) as { Provider: ProviderConstructor };
  return mod.Provider;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Starts an oidc-provider on a free port of 127.0.0.1. */
export async function startTestProvider(options: TestProviderOptions): Promise<TestProvider> {
  const Provider = await loadProvider();
  const route: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  let tokenRequests = 0;
  let userinfoRequests = 0;
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method === 'POST' && path === '/token') tokenRequests += 1;
    if (path === '/me') userinfoRequests += 1;
    if (route.handler === undefined) {
      res.statusCode = 503;
      res.end();
      return;
    }
    route.handler(req, res);
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({ ...c, grant_types: ['authorization_code'], response_types: ['code'] })),
    jwks: { keys: signingKeys() },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    conformIdTokenClaims: options.conformIdTokenClaims ?? true,
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    features: { devInteractions: { enabled: true } },
    findAccount: (_ctx: unknown, id: string) => {
      const claims = Object.hasOwn(options.accounts, id) ? options.accounts[id] : undefined;
      if (claims === undefined) return undefined;
      return { accountId: id, claims: () => ({ ...claims, sub: id }) };
    },
  });
  route.handler = provider.callback();
  return {
    issuer,
    get tokenRequests() {
      return tokenRequests;
    },
    get userinfoRequests() {
      return userinfoRequests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Cookies by name and path, enough for one origin. */
class CookieJar {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  store(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', v = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = v;
        if (key.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
        if (key.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
      }
      const id = `${name};${path}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path });
    }
  }

  header(url: URL): string {
    return [...this.#cookies.values()]
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

export interface BrowserLoginOptions {
  /** The account to log in as (dev interactions accept any password). */
  login: string;
  /** Cancel at the provider's login page instead (the provider then answers access_denied). */
  abort?: boolean;
}

/**
 * Follows `authUrl` like a browser: keeps the provider's cookies, submits the dev login and consent forms, and
 * stops at the first redirect to `redirectUri`, returning that URL's query.
 */
export async function browserLogin(authUrl: string, redirectUri: string, options: BrowserLoginOptions): Promise<Record<string, string>> {
  const jar = new CookieJar();
  let url = new URL(authUrl);
  let method = 'GET';
  let body: string | undefined;
  for (let step = 0; step < 20; step += 1) {
    if (`${url.origin}${url.pathname}` === redirectUri) return Object.fromEntries(url.searchParams);
    const headers: Record<string, string> = { cookie: jar.header(url) };
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(5000) });
    jar.store(response.headers.getSetCookie());
    method = 'GET';
    body = undefined;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      url = new URL(location, url);
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`the provider answered ${response.status} at ${url.pathname}: ${html.slice(0, 500)}`);
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    const action = /<form[^>]* action="([^"]+)"/.exec(html)?.[1];
    if (prompt === undefined || action === undefined) throw new Error(`no interaction form at ${url.pathname}`);
    if (prompt === 'login' && options.abort === true) {
      url = new URL(`${url.pathname}/abort`, url);
      continue;
    }
    const form = new URLSearchParams({ prompt });
    if (prompt === 'login') {
      form.set('login', options.login);
      form.set('password', 'any');
    }
    url = new URL(action.replace(/&amp;/g, '&'), url);
    method = 'POST';
    body = form.toString();
  }
  throw new Error('too many steps before the redirect to the client');
}

/** A port of 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A 127.0.0.1 server answering every request with `respond`'s status and body. */
export async function startStaticServer(respond: (url: string) => { status: number; body: string; contentType?: string }): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const { status, body, contentType } = respond(req.url ?? '/');
    res.writeHead(status, { 'content-type': contentType ?? 'application/json' });
    res.end(body);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A compact JWS of `claims` signed as a provider signs ID tokens (with jose), under `header` (alg, kid, anything else). */
export function signToken(claims: Record<string, unknown>, key: KeyObject | Uint8Array, header: CompactJWSHeaderParameters, options?: SignOptions): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(header).sign(key, options);
}

/** An unsigned token (`alg: none`), as a forger would send one. */
export function unsignedToken(claims: Record<string, unknown>): string {
  return new UnsecuredJWT(claims).encode();
}

/** A compact JWS whose signature `sign` makes from the signing input: for what jose will not produce (short keys, DER signatures). */
export function rawToken(header: Record<string, unknown>, claims: Record<string, unknown>, sign: (input: Buffer) => Buffer): string {
  const encode = (part: Record<string, unknown>): string => Buffer.from(JSON.stringify(part)).toString('base64url');
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${sign(Buffer.from(input)).toString('base64url')}`;
}

export const SCRIPTED_ISSUER = 'https://login.example.com/realms/main';

export interface Script {
  /** The ID token the token endpoint answers with, for the nonce of the login under way. */
  idToken: (nonce: string) => string | Promise<string>;
  /** The keys the JWKS endpoint serves, read at each request (so a test can rotate them). */
  jwks: () => unknown[];
  /** The userinfo answer; default 401 invalid_token. */
  userinfo?: Record<string, unknown>;
  /** Changes to the discovery document (undefined removes a member). */
  discovery?: Record<string, unknown>;
  /** The token endpoint's raw body instead of a token response. */
  tokenBody?: string;
}

export interface ScriptedProvider {
  /** Plays the provider at SCRIPTED_ISSUER (discovery, JWKS, token and userinfo endpoints), with no network at all. */
  fetch: typeof fetch;
  requests: { url: string; init: RequestInit | undefined }[];
  /** Set by the test to the pending login's nonce before the callback. */
  nonce: { value: string };
}

/** An injected fetch playing a provider whose every answer the test writes: the way to send forged or broken tokens. */
export function scriptedProvider(script: Script): ScriptedProvider {
  const requests: ScriptedProvider['requests'] = [];
  const nonce = { value: '' };
  const json = (body: unknown, status = 200): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetchFn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    requests.push({ url, init });
    switch (url) {
      case `${SCRIPTED_ISSUER}/.well-known/openid-configuration`:
        return json({
          issuer: SCRIPTED_ISSUER,
          authorization_endpoint: `${SCRIPTED_ISSUER}/auth`,
          token_endpoint: `${SCRIPTED_ISSUER}/token`,
          jwks_uri: `${SCRIPTED_ISSUER}/jwks`,
          userinfo_endpoint: `${SCRIPTED_ISSUER}/userinfo`,
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
          scopes_supported: ['openid', 'profile', 'email', 'roles'],
          ...script.discovery,
        });
      case `${SCRIPTED_ISSUER}/jwks`:
        return json({ keys: script.jwks() });
      case `${SCRIPTED_ISSUER}/token`:
        if (script.tokenBody !== undefined) return new Response(script.tokenBody, { headers: { 'content-type': 'application/json' } });
        return json({ access_token: 'at-secret-value', token_type: 'Bearer', id_token: await script.idToken(nonce.value) });
      case `${SCRIPTED_ISSUER}/userinfo`:
        return script.userinfo === undefined ? json({ error: 'invalid_token' }, 401) : json(script.userinfo);
      default:
        return json({}, 404);
    }
  };
  return { fetch: fetchFn, requests, nonce };
}
