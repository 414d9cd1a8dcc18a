// HTTP to the OpenID provider: the fetch openid-client uses (timeout, no redirects, size cap), the JWKS load at startup,
// and what the library throws in words a person can act on (never a token, code or secret: its errors may hold them).
import { AuthorizationResponseError, ResponseBodyError, WWWAuthenticateChallengeError, setJwksCache, type Configuration, type CustomFetch } from 'openid-client';
import { UsageError } from '../core/errors.ts';
import { printable } from '../core/printable.ts';

/** How long one request to the provider may take. */
export const FETCH_TIMEOUT_MS = 10_000;
/** Responses from the provider larger than this are refused. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Statuses a Response may not be built with a body for. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** No usable HTTP answer from the provider: a network error, a timeout, a redirect or too large a body. */
export class ProviderUnreachable extends Error {
  readonly url: string;
  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'ProviderUnreachable';
    this.url = url;
  }
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return `no answer within ${FETCH_TIMEOUT_MS / 1000} s`;
  const cause: unknown = error.cause;
  if (!(cause instanceof Error)) return printable(error.message, 200);
  const code = (cause as Error & { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${printable(cause.message, 200)}` : printable(cause.message, 200);
}

async function readBody(url: string, response: Response): Promise<Uint8Array> {
  const tooLarge = (): ProviderUnreachable => new ProviderUnreachable(url, `the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
  if (Number(response.headers.get('content-length') ?? '0') > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (response.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * `fetchFn` as openid-client's `customFetch`: every request gets a timeout (the library's signal, else ours) and
 * follows no redirect, and the body is read here under a size cap before the library parses it. Any failure to
 * get an answer becomes a ProviderUnreachable naming the URL.
 */
export function providerFetch(fetchFn: typeof fetch): CustomFetch {
  return async (url, options) => {
    let response: Response;
    try {
      response = await fetchFn(url, { ...options, redirect: 'manual', signal: options.signal ?? AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (error) {
      throw new ProviderUnreachable(url, describeFetchError(error), { cause: error });
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new ProviderUnreachable(url, 'it answered with a redirect (not followed)');
    }
    let body: Uint8Array;
    try {
      body = await readBody(url, response);
    } catch (error) {
      if (error instanceof ProviderUnreachable) throw error;
      throw new ProviderUnreachable(url, describeFetchError(error), { cause: error });
    }
    return new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

export const ISSUER_HINT = 'check the OpenID Connect issuer setting (--web-oidc-issuer): it must be the provider\'s issuer URL exactly, e.g. https://login.example.com/realms/main';

/** What a library error says, read through its cause chain (openid-client wraps oauth4webapi's errors). */
export interface Failure {
  /** The first ProviderUnreachable in the chain: the request itself failed. */
  unreachable: ProviderUnreachable | undefined;
  /** The provider's HTTP answer the library refused, when it kept one. */
  status: number | undefined;
  /** The innermost error's code (`OAUTH_…`) and message: the check that failed. */
  code: string | undefined;
  message: string;
  /** The innermost error's structured cause (`claim`, `attribute`, `header`, `body`, …), or {}. */
  info: Record<string, unknown>;
}

export function readFailure(error: unknown): Failure {
  const failure: Failure = { unreachable: undefined, status: undefined, code: undefined, message: 'unknown error', info: {} };
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    if (current instanceof ProviderUnreachable) failure.unreachable ??= current;
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string') failure.code = code;
    const status = (current as Error & { status?: unknown }).status;
    if (typeof status === 'number') failure.status ??= status;
    failure.message = current.message;
    const cause: unknown = current.cause;
    if (cause instanceof Response) failure.status = cause.status;
    else if (isObject(cause)) failure.info = cause;
    current = cause;
  }
  return failure;
}

/** The attribute of a JSON answer that did not have the expected value (`issuer` of discovery, `sub` of userinfo). */
export function mismatchedAttribute(failure: Failure): string | undefined {
  return failure.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' && typeof failure.info.attribute === 'string' ? failure.info.attribute : undefined;
}

export interface Explained {
  /** Safe to show the user: says what is wrong and what to do. */
  message: string;
  /** For the server's log. */
  detail: string | undefined;
}

const CLOCKS = 'check the clocks of this host and the provider';
/** The ID token's claim checks that failed, by claim (the library names the claim it compared). */
const CLAIM_CHECKS: Record<string, string> = {
  iss: 'the ID token was issued by another issuer',
  aud: 'the ID token is not meant for this client (aud)',
  azp: 'the ID token was issued to another client (azp)',
  nonce: 'the ID token\'s nonce does not match this login',
  exp: `the ID token has expired (${CLOCKS})`,
  nbf: `the ID token is not valid yet (nbf; ${CLOCKS})`,
};

function header(failure: Failure): Record<string, unknown> {
  return isObject(failure.info.header) ? failure.info.header : failure.info;
}

/** Why openid-client refused the ID token, or undefined when the failure is not about the ID token. */
function idTokenProblem(failure: Failure): string | undefined {
  const { message, info } = failure;
  if (/additional untrusted audiences/.test(message)) return 'the ID token has several audiences but no azp claim';
  if (typeof info.claim === 'string' && Object.hasOwn(CLAIM_CHECKS, info.claim)) return CLAIM_CHECKS[info.claim];
  const claim = /^(?:unexpected )?JWT "(\w+)" .*claim (missing|type)/.exec(message);
  if (claim !== null) return claim[2] === 'missing' ? `the ID token has no ${claim[1]} claim` : `the ID token's ${claim[1]} claim is not of the right type`;
  const alg = header(failure).alg;
  const algText = JSON.stringify(typeof alg === 'string' ? alg.slice(0, 20) : alg);
  if (failure.code === 'OAUTH_UNSUPPORTED_OPERATION' && /alg|JWS algorithm/.test(message)) {
    if (alg === 'none' || alg === undefined) return 'unsigned tokens (alg none) are refused';
    if (typeof alg === 'string' && /^HS\d+$/.test(alg)) return `symmetric signatures (${alg}) are refused`;
    return `unsupported signature algorithm ${algText}`;
  }
  if (/"alg" header parameter/.test(message)) return `signature algorithm ${algText} is not one the provider announced for ID tokens`;
  if (failure.code === 'OAUTH_KEY_SELECTION_FAILED') {
    const kid = header(failure).kid;
    if (/multiple applicable keys/.test(message)) return 'several of the provider\'s keys could have signed the token and it names none (kid)';
    return typeof kid === 'string' ? `the token's signing key (kid ${JSON.stringify(kid.slice(0, 64))}) is not in the provider's JWKS` : `no ${algText} key in the provider's JWKS`;
  }
  if (/signature verification failed/.test(message)) return 'the token\'s signature is not valid';
  if (/modulusLength/.test(message)) return 'the provider signs with an RSA key shorter than 2048 bits';
  if (/"crit" header/.test(message)) return 'the token has critical header extensions this client does not understand';
  if (/Invalid JWT|JWT Header|JWT Payload/.test(message)) return 'the ID token is not a well-formed signed JWT';
  return undefined;
}

function tokenEndpointRefusal(error: string, description: string | undefined): Explained {
  const err = printable(error, 100);
  const detail = `token endpoint: ${err}${description === undefined || description === '' ? '' : ` (${printable(description)})`}`;
  if (err === 'invalid_client' || err === 'unauthorized_client') {
    return { message: `the identity provider refused Cicada's client credentials (${err}): an administrator must check the client id and secret`, detail };
  }
  return { message: `the identity provider did not accept the login code (${err}): start the login again`, detail };
}

/** A failed authorizationCodeGrant, in words for the user (and details for the log). */
export function explainLoginError(error: unknown): Explained {
  if (error instanceof AuthorizationResponseError) {
    const description = error.error_description !== undefined && error.error_description !== '' ? printable(error.error_description) : printable(error.error, 100);
    return { message: `the identity provider refused the login: ${description}`, detail: `authorization error ${printable(error.error, 100)}` };
  }
  if (error instanceof ResponseBodyError) return tokenEndpointRefusal(error.error, error.error_description);
  if (error instanceof WWWAuthenticateChallengeError) {
    const parameters = error.cause[0]?.parameters;
    return tokenEndpointRefusal(parameters?.error ?? `HTTP ${error.status}`, parameters?.error_description);
  }
  const failure = readFailure(error);
  if (failure.unreachable !== undefined) {
    return { message: 'the identity provider could not be reached to finish the login: try again later', detail: `${failure.unreachable.url}: ${failure.unreachable.message}` };
  }
  const message = failure.message;
  if (/"state"/.test(message)) return { message: 'this login response does not belong to the login started in this browser (state mismatch): start the login again', detail: undefined };
  if (/"iss" \(issuer\) response parameter|parameter "iss"/.test(message)) {
    return { message: 'the login response came from another identity provider (iss mismatch): start the login again', detail: 'callback iss parameter missing or not the configured issuer (RFC 9207)' };
  }
  if (/no authorization code/.test(message)) return { message: 'the login response has no authorization code: start the login again', detail: undefined };
  if (/"id_token" property/.test(message)) {
    return { message: 'the identity provider returned no ID token: an administrator must check that the client may use the openid scope', detail: 'token response without id_token' };
  }
  const problem = idTokenProblem(failure);
  if (problem !== undefined) return { message: `the identity provider's ID token was refused: ${problem}`, detail: failure.code };
  const status = failure.status === undefined ? '' : ` (HTTP ${failure.status})`;
  return { message: `the identity provider's answer could not be used${status}: start the login again`, detail: `${failure.code ?? 'error'}: ${printable(message, 200)}` };
}

/** Why openid-client could not discover the provider, as a UsageError naming the document's URL. */
export function discoveryError(error: unknown, where: string, issuer: string): UsageError {
  const failure = readFailure(error);
  if (failure.unreachable !== undefined) {
    return new UsageError(
      `OpenID Connect: cannot reach the provider's discovery document at ${where} (${failure.unreachable.message})`,
      `check the issuer URL (${issuer}) and that this host can reach it (DNS, proxy, firewall)`,
    );
  }
  if (mismatchedAttribute(failure) === 'issuer' && isObject(failure.info.body)) return wrongIssuer(failure.info.body.issuer, where, issuer);
  if (failure.status !== undefined) return new UsageError(`OpenID Connect: the discovery document at ${where} answered HTTP ${failure.status}`, ISSUER_HINT);
  if (failure.code === 'OAUTH_PARSE_ERROR' || failure.code === 'OAUTH_RESPONSE_IS_NOT_JSON') return new UsageError(`OpenID Connect: the discovery document at ${where} is not JSON`, ISSUER_HINT);
  return new UsageError(`OpenID Connect: the discovery document at ${where} cannot be used (${printable(failure.message, 200)})`, ISSUER_HINT);
}

export function wrongIssuer(named: unknown, where: string, issuer: string): UsageError {
  return new UsageError(
    `OpenID Connect: the discovery document at ${where} names the issuer ${JSON.stringify(typeof named === 'string' ? named.slice(0, 300) : named)}, not ${JSON.stringify(issuer)}`,
    typeof named === 'string' ? `set the issuer to exactly ${named} if that is the provider you mean (a trailing slash matters)` : ISSUER_HINT,
  );
}

/** Loads the provider's JWKS at startup, so that an unreachable jwks_uri is found now, and hands it to openid-client's cache. */
export async function loadKeys(configuration: Configuration, fetchFn: CustomFetch, jwksUri: string): Promise<void> {
  const fail = (reason: string): never => {
    throw new UsageError(`OpenID Connect: cannot load the provider's signing keys from ${jwksUri} (${reason})`, 'check that this host can reach the provider\'s jwks_uri');
  };
  let response: Response;
  try {
    response = await fetchFn(jwksUri, { method: 'GET', headers: { accept: 'application/json, application/jwk-set+json' }, body: undefined, redirect: 'manual' });
  } catch (error) {
    return fail(readFailure(error).message);
  }
  if (response.status !== 200) fail(`HTTP ${response.status}`);
  let doc: unknown;
  try {
    doc = JSON.parse(await response.text());
  } catch {
    fail('not JSON');
  }
  if (!isObject(doc) || !Array.isArray(doc.keys) || !doc.keys.every(isObject)) return fail('not a JSON object with a "keys" array');
  // uat is on the library's clock (the system clock): it refetches after 5 minutes, or after 60 s for an unknown kid.
  setJwksCache(configuration, { jwks: { keys: doc.keys }, uat: Math.floor(Date.now() / 1000) });
}
