// OpenID Connect login (authorization code flow with PKCE, client_secret_basic) for the web UI.
// The server keeps each PendingLogin server-side, keyed by a cookie, and deletes it after one use.
import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors.ts';
import { ROLES, isRole, type Role } from './roles.ts';
import { JwksCache, JwtError, SUPPORTED_ALGORITHMS, constantTimeEqual, verifyIdToken, type JwsAlgorithm } from './jwt.ts';
import { claimValues, mapRole, usableUsername } from './oidc-claims.ts';
import { describeFetchError, isObject, printable, request, type JsonResponse } from './oidc-http.ts';
import { randomToken } from './sessions.ts';

export { claimValues, mapRole } from './oidc-claims.ts';
export { FETCH_TIMEOUT_MS } from './oidc-http.ts';

export interface OidcConfig {
  /** e.g. https://login.example.com/realms/x; https unless the host is loopback (127.0.0.1, ::1, localhost). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Absolute URL of GET /auth/oidc/callback on the Cicada server. */
  redirectUri: string;
  /** Default: openid, profile, email, plus the role claim's name when the provider lists it as a scope (e.g. `groups`). */
  scopes?: string[];
  /** The claim holding roles or groups (a string or an array of strings); a dotted path such as `realm_access.roles` is allowed. */
  roleClaim: string;
  /** Claim value -> role; only these entries count, and the highest role matched wins. */
  roleMap: Record<string, Role>;
  /** Default `preferred_username`, falling back to `email`, then `sub`. A configured claim falls back to `sub`. */
  usernameClaim?: string;
  /** Injectable for tests; default the global fetch. */
  fetch?: typeof fetch;
  /** Epoch ms, injectable for tests. */
  now?: () => number;
}

export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  createdAt: number;
}

/** Any login failure. The message is safe to show the user (never a token or secret); `detail`, when set, is for the server's log. */
export class OidcLoginError extends Error {
  readonly detail: string | undefined;
  constructor(message: string, detail?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OidcLoginError';
    this.detail = detail;
  }
}

/** How long a login may take between beginLogin and the callback. */
export const PENDING_LOGIN_MAX_AGE_MS = 10 * 60_000;
const DEFAULT_SCOPES = ['openid', 'profile', 'email'];
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

const ISSUER_HINT = 'check the OpenID Connect issuer setting (--web-oidc-issuer): it must be the provider\'s issuer URL exactly, e.g. https://login.example.com/realms/main';

/** The part of the provider's discovery document this client uses. */
interface ProviderMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  userinfoEndpoint: string | undefined;
  algorithms: JwsAlgorithm[];
  tokenAuth: 'client_secret_basic' | 'client_secret_post';
  /** The provider says it sends `iss` in authorization responses (RFC 9207): then it must be there. */
  issParameter: boolean;
  scopesSupported: string[] | undefined;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((x) => typeof x === 'string');
}

function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/** Parses `value` as an http(s) URL; https is required unless the host is loopback. Returns an error text, or the URL. */
function secureUrl(value: unknown): URL | string {
  if (typeof value !== 'string' || value.length === 0) return 'is missing';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL (${JSON.stringify(value.slice(0, 200))})`;
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:') return isLoopback(url) ? url : `uses http on a non-loopback host (${url.origin}): https is required so that codes and tokens are not sent in the clear`;
  return `is not an http(s) URL (${url.protocol})`;
}

function validateConfig(config: OidcConfig): void {
  const fail = (message: string, hint?: string): never => {
    throw new UsageError(`OpenID Connect: ${message}`, hint);
  };
  if (!isObject(config)) fail('no configuration');
  const issuer = secureUrl(config.issuer);
  if (typeof issuer === 'string') fail(`the issuer ${issuer}`, ISSUER_HINT);
  else if (issuer.search !== '' || issuer.hash !== '') fail(`the issuer ${config.issuer} must not have a query or fragment`, ISSUER_HINT);
  if (typeof config.clientId !== 'string' || config.clientId.length === 0) fail('the client id is missing', 'register Cicada as a confidential client at the provider and give its client id');
  if (typeof config.clientSecret !== 'string' || config.clientSecret.length === 0) fail('the client secret is missing', 'give the client secret the provider issued for Cicada\'s client id');
  let redirect: URL | undefined;
  try {
    redirect = new URL(config.redirectUri);
  } catch {
    fail('the redirect URI is not an absolute URL', 'it must be the address of /auth/oidc/callback as the browser sees it, e.g. https://cicada.example.com/auth/oidc/callback');
  }
  if (redirect !== undefined && ((redirect.protocol !== 'https:' && redirect.protocol !== 'http:') || redirect.hash !== '')) {
    fail('the redirect URI must be an http(s) URL without a fragment');
  }
  if (typeof config.roleClaim !== 'string' || config.roleClaim.length === 0) fail('the role claim is missing', 'name the claim that holds the user\'s groups or roles, e.g. groups or realm_access.roles');
  if (!isObject(config.roleMap) || Object.keys(config.roleMap).length === 0) fail('the role map is empty: nobody could log in', 'map at least one value of the role claim to viewer, operator or admin');
  for (const [value, role] of Object.entries(config.roleMap)) {
    if (!isRole(role)) fail(`the role map gives ${JSON.stringify(value)} the unknown role ${JSON.stringify(role)}`, `roles are ${ROLES.join(', ')}`);
  }
  if (config.scopes !== undefined && (!Array.isArray(config.scopes) || config.scopes.some((s) => typeof s !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)))) {
    fail('the scopes must be a list of scope names (no spaces or quotes)');
  }
  if (config.usernameClaim !== undefined && (typeof config.usernameClaim !== 'string' || config.usernameClaim.length === 0)) fail('the username claim is empty');
}

function parseMetadata(doc: unknown, config: OidcConfig, where: string): ProviderMetadata {
  const fail = (message: string, hint?: string): never => {
    throw new UsageError(`OpenID Connect: the discovery document at ${where} ${message}`, hint);
  };
  if (!isObject(doc)) return fail('is not a JSON object', ISSUER_HINT);
  if (doc.issuer !== config.issuer) {
    fail(
      `names the issuer ${JSON.stringify(typeof doc.issuer === 'string' ? doc.issuer.slice(0, 300) : doc.issuer)}, not ${JSON.stringify(config.issuer)}`,
      typeof doc.issuer === 'string' ? `set the issuer to exactly ${doc.issuer} if that is the provider you mean (a trailing slash matters)` : ISSUER_HINT,
    );
  }
  const endpoint = (name: string, required: boolean): string | undefined => {
    if (doc[name] === undefined && !required) return undefined;
    const url = secureUrl(doc[name]);
    if (typeof url === 'string') return fail(`has an unusable ${name}: it ${url}`);
    return url.href;
  };
  const list = (name: string): string[] | undefined => {
    const v = doc[name];
    if (v === undefined) return undefined;
    if (!isStringArray(v)) return fail(`has a ${name} that is not a list of strings`);
    return v;
  };
  const responseTypes = list('response_types_supported');
  if (responseTypes !== undefined && !responseTypes.includes('code')) fail('does not support the authorization code flow (response_types_supported has no "code")');
  const grantTypes = list('grant_types_supported');
  if (grantTypes !== undefined && !grantTypes.includes('authorization_code')) fail('does not support the authorization_code grant');
  // Providers that do not announce PKCE methods (some do not) still get an S256 challenge; one that lists methods must list S256.
  const pkce = list('code_challenge_methods_supported');
  if (pkce !== undefined && !pkce.includes('S256')) fail('does not support PKCE with S256 (code_challenge_methods_supported)', 'enable PKCE (S256) for the provider or the client');
  const announced = list('id_token_signing_alg_values_supported') ?? ['RS256'];
  const algorithms = SUPPORTED_ALGORITHMS.filter((a) => announced.includes(a));
  if (algorithms.length === 0) {
    fail(`announces only ID-token signature algorithms Cicada does not accept (${announced.join(', ').slice(0, 200)})`, `configure the client to sign ID tokens with one of ${SUPPORTED_ALGORITHMS.join(', ')}`);
  }
  const authMethods = list('token_endpoint_auth_methods_supported') ?? ['client_secret_basic'];
  const tokenAuth = authMethods.includes('client_secret_basic') ? 'client_secret_basic' : authMethods.includes('client_secret_post') ? 'client_secret_post' : undefined;
  if (tokenAuth === undefined) fail('supports neither client_secret_basic nor client_secret_post client authentication');
  return {
    issuer: config.issuer,
    authorizationEndpoint: endpoint('authorization_endpoint', true) as string,
    tokenEndpoint: endpoint('token_endpoint', true) as string,
    jwksUri: endpoint('jwks_uri', true) as string,
    userinfoEndpoint: endpoint('userinfo_endpoint', false),
    algorithms: [...algorithms],
    tokenAuth: tokenAuth as ProviderMetadata['tokenAuth'],
    issParameter: doc.authorization_response_iss_parameter_supported === true,
    scopesSupported: list('scopes_supported'),
  };
}

/** Form-urlencoding of client credentials for HTTP Basic (RFC 6749 §2.3.1). */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export class OidcClient {
  readonly #config: OidcConfig;
  readonly #clientSecret: string;
  readonly #metadata: ProviderMetadata;
  readonly #keys: JwksCache;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #scopes: string[];

  private constructor(config: OidcConfig, metadata: ProviderMetadata, keys: JwksCache) {
    // The secret lives in a private field only, so that logging the client or its config copy does not show it.
    const { clientSecret, ...rest } = config;
    this.#config = { ...rest, clientSecret: '(hidden)' };
    this.#clientSecret = clientSecret;
    this.#metadata = metadata;
    this.#keys = keys;
    this.#fetch = config.fetch ?? globalThis.fetch;
    this.#now = config.now ?? Date.now;
    this.#scopes = OidcClient.#chooseScopes(config, metadata);
  }

  static #chooseScopes(config: OidcConfig, metadata: ProviderMetadata): string[] {
    const scopes = [...(config.scopes ?? DEFAULT_SCOPES)];
    if (config.scopes === undefined) {
      const claimScope = config.roleClaim.split('.')[0];
      if (claimScope !== undefined && metadata.scopesSupported?.includes(claimScope) === true) scopes.push(claimScope);
    }
    if (!scopes.includes('openid')) scopes.unshift('openid');
    return [...new Set(scopes)];
  }

  /** The scopes asked for at login. */
  get scopes(): readonly string[] {
    return this.#scopes;
  }

  /** The issuer this client logs in with. */
  get issuer(): string {
    return this.#metadata.issuer;
  }

  /**
   * Fetches <issuer>/.well-known/openid-configuration and the provider's JWKS, and checks them. Throws a UsageError
   * with an actionable message for a bad configuration (checked before any request), an unreachable provider,
   * a document that is not JSON or names another issuer, a provider without the code flow or PKCE S256, ...
   */
  static async discover(config: OidcConfig): Promise<OidcClient> {
    validateConfig(config);
    const fetchFn = config.fetch ?? globalThis.fetch;
    const discoveryUrl = `${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let response: JsonResponse;
    try {
      response = await request(fetchFn, discoveryUrl, { headers: { accept: 'application/json' } });
    } catch (error) {
      throw new UsageError(
        `OpenID Connect: cannot reach the provider's discovery document at ${discoveryUrl} (${describeFetchError(error)})`,
        `check the issuer URL (${config.issuer}) and that this host can reach it (DNS, proxy, firewall)`,
      );
    }
    if (response.status !== 200) {
      throw new UsageError(`OpenID Connect: the discovery document at ${discoveryUrl} answered HTTP ${response.status}`, ISSUER_HINT);
    }
    if (response.json === undefined) {
      throw new UsageError(`OpenID Connect: the discovery document at ${discoveryUrl} is not JSON`, ISSUER_HINT);
    }
    const metadata = parseMetadata(response.json, config, discoveryUrl);
    const now = config.now ?? Date.now;
    const keys = new JwksCache(async () => {
      const r = await request(fetchFn, metadata.jwksUri, { headers: { accept: 'application/json, application/jwk-set+json' } });
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      if (r.json === undefined) throw new Error('not JSON');
      return r.json;
    }, { now });
    try {
      await keys.refresh();
    } catch (error) {
      throw new UsageError(
        `OpenID Connect: cannot load the provider's signing keys from ${metadata.jwksUri} (${describeFetchError(error)})`,
        'check that this host can reach the provider\'s jwks_uri',
      );
    }
    return new OidcClient(config, metadata, keys);
  }

  /** A fresh login: random state, nonce and PKCE verifier; `url` is where to send the browser. */
  beginLogin(): { url: string; pending: PendingLogin } {
    const pending: PendingLogin = { state: randomToken(), nonce: randomToken(), codeVerifier: randomToken(), createdAt: this.#now() };
    const url = new URL(this.#metadata.authorizationEndpoint);
    const params = url.searchParams;
    params.set('response_type', 'code');
    params.set('client_id', this.#config.clientId);
    params.set('redirect_uri', this.#config.redirectUri);
    params.set('scope', this.#scopes.join(' '));
    params.set('state', pending.state);
    params.set('nonce', pending.nonce);
    params.set('code_challenge', createHash('sha256').update(pending.codeVerifier, 'ascii').digest('base64url'));
    params.set('code_challenge_method', 'S256');
    return { url: url.href, pending };
  }

  /**
   * Handles the callback's query (code, state, error, error_description, iss) for the login `pending` (undefined:
   * unknown or already used -> refused). Exchanges the code, verifies the ID token, and maps the role claim (from
   * the ID token, else from the userinfo endpoint) to a role. Throws OidcLoginError for every failure.
   */
  async completeLogin(query: Record<string, string | undefined>, pending: PendingLogin | undefined): Promise<{ username: string; role: Role }> {
    if (pending === undefined) throw new OidcLoginError('this login is unknown, expired or was already completed: start the login again');
    const state = query.state;
    if (typeof state !== 'string' || !constantTimeEqual(state, pending.state)) {
      throw new OidcLoginError('this login response does not belong to the login started in this browser (state mismatch): start the login again');
    }
    const age = this.#now() - pending.createdAt;
    if (!(age <= PENDING_LOGIN_MAX_AGE_MS && age >= -60_000)) throw new OidcLoginError('the login took too long (more than 10 minutes): start the login again');
    const iss = query.iss;
    if (iss !== undefined ? iss !== this.#metadata.issuer : this.#metadata.issParameter) {
      throw new OidcLoginError('the login response came from another identity provider (iss mismatch): start the login again', 'callback iss parameter missing or not the configured issuer (RFC 9207)');
    }
    if (query.error !== undefined) {
      const description = query.error_description !== undefined && query.error_description !== '' ? printable(query.error_description) : printable(query.error, 100);
      throw new OidcLoginError(`the identity provider refused the login: ${description}`, `authorization error ${printable(query.error, 100)}`);
    }
    const code = query.code;
    if (typeof code !== 'string' || code.length === 0) throw new OidcLoginError('the login response has no authorization code: start the login again');

    const tokens = await this.#exchangeCode(code, pending.codeVerifier);
    let claims: Record<string, unknown>;
    try {
      claims = await verifyIdToken(tokens.idToken, this.#keys, {
        issuer: this.#metadata.issuer,
        clientId: this.#config.clientId,
        nonce: pending.nonce,
        now: this.#now(),
        algorithms: this.#metadata.algorithms,
      });
    } catch (error) {
      if (error instanceof JwtError) throw new OidcLoginError(`the identity provider's ID token was refused: ${error.message}`, undefined, { cause: error });
      throw new OidcLoginError('the identity provider\'s signing keys could not be loaded: try again later', describeFetchError(error));
    }

    const usernameClaims = this.#config.usernameClaim !== undefined ? [this.#config.usernameClaim, 'sub'] : ['preferred_username', 'email', 'sub'];
    let values = claimValues(claims, this.#config.roleClaim);
    let userinfo: Record<string, unknown> | undefined;
    const needUserinfo = values === undefined || usableUsername(claims[usernameClaims[0] as string]) === undefined;
    if (needUserinfo && this.#metadata.userinfoEndpoint !== undefined && tokens.accessToken !== undefined) {
      userinfo = await this.#userinfo(tokens.accessToken, claims.sub as string, values === undefined);
      if (values === undefined && userinfo !== undefined) values = claimValues(userinfo, this.#config.roleClaim);
    }
    const role = mapRole(values ?? [], this.#config.roleMap);
    if (role === undefined) {
      throw new OidcLoginError(
        `your account has no Cicada role: ask an administrator to add you to one of: ${Object.keys(this.#config.roleMap).join(', ')}`,
        values === undefined ? `the claim ${this.#config.roleClaim} is in neither the ID token nor the userinfo response` : `none of the ${values.length} value(s) of ${this.#config.roleClaim} is in the role map`,
      );
    }
    let username: string | undefined;
    for (const name of usernameClaims) {
      username = usableUsername(claims[name]) ?? (userinfo === undefined ? undefined : usableUsername(userinfo[name]));
      if (username !== undefined) break;
    }
    return { username: username ?? (claims.sub as string), role };
  }

  async #exchangeCode(code: string, codeVerifier: string): Promise<{ idToken: string; accessToken: string | undefined }> {
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: this.#config.redirectUri, code_verifier: codeVerifier });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.#metadata.tokenAuth === 'client_secret_basic') {
      headers.authorization = `Basic ${Buffer.from(`${formEncode(this.#config.clientId)}:${formEncode(this.#clientSecret)}`).toString('base64')}`;
    } else {
      body.set('client_id', this.#config.clientId);
      body.set('client_secret', this.#clientSecret);
    }
    let response: JsonResponse;
    try {
      response = await request(this.#fetch, this.#metadata.tokenEndpoint, { method: 'POST', headers, body: body.toString() });
    } catch (error) {
      throw new OidcLoginError('the identity provider could not be reached to finish the login: try again later', `token endpoint: ${describeFetchError(error)}`);
    }
    const json = isObject(response.json) ? response.json : {};
    if (response.status !== 200) {
      const error = typeof json.error === 'string' ? printable(json.error, 100) : `HTTP ${response.status}`;
      const description = typeof json.error_description === 'string' ? printable(json.error_description) : '';
      const detail = `token endpoint: ${error}${description === '' ? '' : ` (${description})`}`;
      if (error === 'invalid_client' || error === 'unauthorized_client') {
        throw new OidcLoginError(`the identity provider refused Cicada's client credentials (${error}): an administrator must check the client id and secret`, detail);
      }
      throw new OidcLoginError(`the identity provider did not accept the login code (${error}): start the login again`, detail);
    }
    if (typeof json.id_token !== 'string') {
      throw new OidcLoginError('the identity provider returned no ID token: an administrator must check that the client may use the openid scope', 'token response without id_token');
    }
    const tokenType = typeof json.token_type === 'string' ? json.token_type.toLowerCase() : undefined;
    const accessToken = typeof json.access_token === 'string' && tokenType === 'bearer' ? json.access_token : undefined;
    return { idToken: json.id_token, accessToken };
  }

  /** The userinfo response (its sub checked against the ID token's); undefined when it cannot be had and is only nice to have. */
  async #userinfo(accessToken: string, sub: string, needed: boolean): Promise<Record<string, unknown> | undefined> {
    const endpoint = this.#metadata.userinfoEndpoint as string;
    let response: JsonResponse;
    try {
      response = await request(this.#fetch, endpoint, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } });
    } catch (error) {
      if (!needed) return undefined;
      throw new OidcLoginError('the identity provider could not be reached to read your groups: try again later', `userinfo endpoint: ${describeFetchError(error)}`);
    }
    const fail = (detail: string): undefined => {
      if (!needed) return undefined;
      throw new OidcLoginError('the identity provider\'s user information could not be read: try again later', `userinfo endpoint: ${detail}`);
    };
    if (response.status !== 200) return fail(`HTTP ${response.status}`);
    if (!response.contentType.toLowerCase().startsWith('application/json') || !isObject(response.json)) {
      return fail('not a JSON object (signed or encrypted userinfo responses are not supported)');
    }
    // OpenID Connect Core §5.3.2: a userinfo response for another subject must not be used.
    if (response.json.sub !== sub) throw new OidcLoginError('the identity provider\'s user information is for another user', 'userinfo sub differs from the ID token sub');
    return response.json;
  }

  /** For logs and debugging: no secrets. */
  toJSON(): { issuer: string; clientId: string; redirectUri: string; scopes: readonly string[] } {
    return { issuer: this.#metadata.issuer, clientId: this.#config.clientId, redirectUri: this.#config.redirectUri, scopes: this.#scopes };
  }
}
