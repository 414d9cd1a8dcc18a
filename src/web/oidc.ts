// OpenID Connect login for the web UI: the authorization code flow with PKCE, done by openid-client (discovery, the
// code exchange, ID token signature and claims, userinfo); Cicada adds its configuration rules, the role mapping and
// messages that say what to fix. The server keeps each PendingLogin server-side, keyed by a cookie, and uses it once.
import { createHash } from 'node:crypto';
import {
  ClientSecretBasic, ClientSecretPost, allowInsecureRequests, authorizationCodeGrant, buildAuthorizationUrl, clockTolerance, customFetch,
  discovery, enableNonRepudiationChecks, fetchUserInfo, randomNonce, randomPKCECodeVerifier, randomState,
  type ClientAuth, type Configuration,
} from 'openid-client';
import { UsageError } from '../core/errors.ts';
import { isLoopback } from '../core/loopback.ts';
import { printable } from '../core/printable.ts';
import { ROLES, isRole, type Role } from './roles.ts';
import { claimValues, mapRole, usableUsername } from './oidc-claims.ts';
import {
  FETCH_TIMEOUT_MS, ISSUER_HINT, discoveryError, explainLoginError, isObject, loadKeys, mismatchedAttribute, providerFetch, readFailure, wrongIssuer,
} from './oidc-http.ts';

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
  /** Epoch ms for the age of a pending login, injectable for tests (token times are checked against the system clock). */
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
/** The signature algorithms accepted for ID tokens: openid-client's asymmetric ones (never `none` or HS*). */
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** Clock skew tolerated on the ID token's exp and nbf, in seconds. */
const CLOCK_TOLERANCE_S = 60;

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
  if (url.protocol === 'http:') return isLoopback(url.hostname) ? url : `uses http on a non-loopback host (${url.origin}): https is required so that codes and tokens are not sent in the clear`;
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
  // No query: the callback's own parameters are appended to it, and the code exchange sends it back without them.
  if (redirect !== undefined && ((redirect.protocol !== 'https:' && redirect.protocol !== 'http:') || redirect.hash !== '' || redirect.search !== '')) {
    fail('the redirect URI must be an http(s) URL without a query or fragment');
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

/**
 * What openid-client does not check in the discovery document: the exact issuer (the library compares URLs
 * normalised, so a trailing slash passes), https endpoints (for a loopback issuer the library allows http to any
 * host), and support for what Cicada uses (the code flow, PKCE S256, asymmetric ID token signatures, a client secret).
 */
function checkMetadata(doc: Record<string, unknown>, config: OidcConfig, where: string): void {
  const fail = (message: string, hint?: string): never => {
    throw new UsageError(`OpenID Connect: the discovery document at ${where} ${message}`, hint);
  };
  if (doc.issuer !== config.issuer) throw wrongIssuer(doc.issuer, where, config.issuer);
  for (const [name, required] of [['authorization_endpoint', true], ['token_endpoint', true], ['jwks_uri', true], ['userinfo_endpoint', false]] as const) {
    if (doc[name] === undefined && !required) continue;
    const url = secureUrl(doc[name]);
    if (typeof url === 'string') fail(`has an unusable ${name}: it ${url}`);
  }
  const list = (name: string): string[] | undefined => {
    const v = doc[name];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return fail(`has a ${name} that is not a list of strings`);
    return v;
  };
  if (list('response_types_supported')?.includes('code') === false) fail('does not support the authorization code flow (response_types_supported has no "code")');
  if (list('grant_types_supported')?.includes('authorization_code') === false) fail('does not support the authorization_code grant');
  // Providers that do not announce PKCE methods (some do not) still get an S256 challenge; one that lists methods must list S256.
  if (list('code_challenge_methods_supported')?.includes('S256') === false) fail('does not support PKCE with S256 (code_challenge_methods_supported)', 'enable PKCE (S256) for the provider or the client');
  const announced = list('id_token_signing_alg_values_supported') ?? ['RS256'];
  if (!announced.some((a) => ID_TOKEN_ALGORITHMS.includes(a))) {
    fail(`announces only ID-token signature algorithms Cicada does not accept (${announced.join(', ').slice(0, 200)})`, `configure the client to sign ID tokens with one of ${ID_TOKEN_ALGORITHMS.join(', ')}`);
  }
  const methods = list('token_endpoint_auth_methods_supported') ?? ['client_secret_basic'];
  if (!methods.includes('client_secret_basic') && !methods.includes('client_secret_post')) fail('supports neither client_secret_basic nor client_secret_post client authentication');
}

/** client_secret_basic when the provider supports it (its default), else client_secret_post; decided per request from the metadata. */
function clientSecretAuth(secret: string): ClientAuth {
  const basic = ClientSecretBasic(secret);
  const post = ClientSecretPost(secret);
  return (as, client, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    (methods.includes('client_secret_basic') ? basic : post)(as, client, body, headers);
  };
}

export class OidcClient {
  readonly #config: Omit<OidcConfig, 'clientSecret' | 'fetch'>;
  readonly #configuration: Configuration;
  readonly #redirectUri: string;
  readonly #now: () => number;
  readonly #scopes: string[];

  private constructor(config: OidcConfig, configuration: Configuration) {
    // The secret lives in the library's client authentication only, so that logging this client does not show it.
    const { clientSecret: _secret, fetch: _fetch, ...rest } = config;
    this.#config = rest;
    this.#configuration = configuration;
    // Normalised once: the authorization request and the code exchange must send the very same string.
    this.#redirectUri = new URL(config.redirectUri).href;
    this.#now = config.now ?? Date.now;
    const scopes = [...(config.scopes ?? DEFAULT_SCOPES)];
    const claimScope = config.roleClaim.split('.')[0];
    if (config.scopes === undefined && claimScope !== undefined && configuration.serverMetadata().scopes_supported?.includes(claimScope) === true) scopes.push(claimScope);
    if (!scopes.includes('openid')) scopes.unshift('openid');
    this.#scopes = [...new Set(scopes)];
  }

  /** The scopes asked for at login. */
  get scopes(): readonly string[] {
    return this.#scopes;
  }

  /** The issuer this client logs in with. */
  get issuer(): string {
    return this.#configuration.serverMetadata().issuer;
  }

  /**
   * Discovers the provider (<issuer>/.well-known/openid-configuration) and loads its JWKS, and checks both. Throws a
   * UsageError with an actionable message for a bad configuration (checked before any request), an unreachable
   * provider, a document that is not JSON or names another issuer, a provider without the code flow or PKCE S256, ...
   */
  static async discover(config: OidcConfig): Promise<OidcClient> {
    validateConfig(config);
    const issuer = new URL(config.issuer);
    const where = `${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const fetchFn = providerFetch(config.fetch ?? globalThis.fetch);
    let configuration: Configuration;
    try {
      configuration = await discovery(issuer, config.clientId, { [clockTolerance]: CLOCK_TOLERANCE_S }, clientSecretAuth(config.clientSecret), {
        [customFetch]: fetchFn,
        timeout: FETCH_TIMEOUT_MS / 1000,
        // openid-client refuses http; the tests' provider and a local one run on http://127.0.0.1, where nothing crosses a network.
        execute: isLoopback(issuer.hostname) ? [allowInsecureRequests] : [],
      });
    } catch (error) {
      throw discoveryError(error, where, config.issuer);
    }
    const metadata = configuration.serverMetadata();
    checkMetadata(metadata, config, where);
    // Without this the library checks an ID token's claims but not its signature (it relies on TLS to the token endpoint).
    enableNonRepudiationChecks(configuration);
    await loadKeys(configuration, fetchFn, metadata.jwks_uri as string);
    return new OidcClient(config, configuration);
  }

  /** A fresh login: random state, nonce and PKCE verifier; `url` is where to send the browser. */
  beginLogin(): { url: string; pending: PendingLogin } {
    const pending: PendingLogin = { state: randomState(), nonce: randomNonce(), codeVerifier: randomPKCECodeVerifier(), createdAt: this.#now() };
    const url = buildAuthorizationUrl(this.#configuration, {
      redirect_uri: this.#redirectUri,
      scope: this.#scopes.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      // RFC 7636 S256, computed here rather than with the library's async calculatePKCECodeChallenge so that this stays synchronous.
      code_challenge: createHash('sha256').update(pending.codeVerifier, 'ascii').digest('base64url'),
      code_challenge_method: 'S256',
    });
    return { url: url.href, pending };
  }

  /**
   * Handles the callback's query (code, state, error, error_description, iss) for the login `pending` (undefined:
   * unknown or already used -> refused). openid-client checks the response (state, iss, error), exchanges the code
   * with the PKCE verifier and verifies the ID token (signature, issuer, audience, times, nonce); the role claim
   * (from the ID token, else from the userinfo endpoint) is then mapped to a role. Throws OidcLoginError for every failure.
   */
  async completeLogin(query: Record<string, string | undefined>, pending: PendingLogin | undefined): Promise<{ username: string; role: Role }> {
    if (pending === undefined) throw new OidcLoginError('this login is unknown, expired or was already completed: start the login again');
    const age = this.#now() - pending.createdAt;
    if (!(age <= PENDING_LOGIN_MAX_AGE_MS && age >= -60_000)) throw new OidcLoginError('the login took too long (more than 10 minutes): start the login again');
    const callback = new URL(this.#redirectUri);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) callback.searchParams.append(name, value);

    let tokens: Awaited<ReturnType<typeof authorizationCodeGrant>>;
    try {
      tokens = await authorizationCodeGrant(this.#configuration, callback, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      // No `cause`: the library's errors can hold the token response, which must not reach a log.
      const { message, detail } = explainLoginError(error);
      throw new OidcLoginError(message, detail);
    }
    const claims: Record<string, unknown> = tokens.claims() ?? {};
    const sub = claims.sub;
    if (typeof sub !== 'string' || sub === '') throw new OidcLoginError('the identity provider\'s ID token was refused: the ID token has no sub claim');

    const usernameClaims = this.#config.usernameClaim !== undefined ? [this.#config.usernameClaim, 'sub'] : ['preferred_username', 'email', 'sub'];
    let values = claimValues(claims, this.#config.roleClaim);
    let userinfo: Record<string, unknown> | undefined;
    const needUserinfo = values === undefined || usableUsername(claims[usernameClaims[0] as string]) === undefined;
    if (needUserinfo && this.#configuration.serverMetadata().userinfo_endpoint !== undefined && tokens.token_type === 'bearer') {
      userinfo = await this.#userinfo(tokens.access_token, sub, values === undefined);
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
    return { username: username ?? sub, role };
  }

  /** The userinfo response (openid-client checks its sub against the ID token's); undefined when it cannot be had and is only nice to have. */
  async #userinfo(accessToken: string, sub: string, needed: boolean): Promise<Record<string, unknown> | undefined> {
    try {
      return await fetchUserInfo(this.#configuration, accessToken, sub);
    } catch (error) {
      const failure = readFailure(error);
      // OpenID Connect Core §5.3.2: a userinfo response for another subject must not be used, needed or not.
      if (mismatchedAttribute(failure) === 'sub') throw new OidcLoginError('the identity provider\'s user information is for another user', 'userinfo sub differs from the ID token sub');
      if (!needed) return undefined;
      if (failure.unreachable !== undefined) {
        throw new OidcLoginError('the identity provider could not be reached to read your groups: try again later', `userinfo endpoint: ${failure.unreachable.message}`);
      }
      const reason = failure.status !== undefined ? `HTTP ${failure.status}` : printable(failure.message, 200);
      throw new OidcLoginError('the identity provider\'s user information could not be read: try again later', `userinfo endpoint: ${reason}`);
    }
  }

  /** For logs and debugging: no secrets. */
  toJSON(): { issuer: string; clientId: string; redirectUri: string; scopes: readonly string[] } {
    return { issuer: this.issuer, clientId: this.#config.clientId, redirectUri: this.#redirectUri, scopes: this.#scopes };
  }
}
