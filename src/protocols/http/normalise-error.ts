// Turns whatever undici or Node throws into a short, stable failure message statistics can group by.
import { CANCELLED_AT_STOP } from '../../core/in-flight.ts';

/**
 * A failed HTTP request, as recorded in statistics and set on `HttpResponse.error`.
 * `message` is normalised (`HTTP 503`, `timeout after 10000 ms`, `ECONNREFUSED`) so failures of the
 * same kind group under one row; `code` is stable for programs.
 * @example
 * ```ts
 * const res = await this.client.get('/health');
 * if (res.error instanceof HttpRequestError && res.error.code === 'TIMEOUT') console.log('slow target');
 * ```
 */
export class HttpRequestError extends Error {
  /** `HTTP_STATUS`, `TIMEOUT`, `CONNECT_TIMEOUT`, `TOO_MANY_REDIRECTS`, `VALIDATION`, `CANCELLED_AT_STOP`, or a socket code such as `ECONNREFUSED`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpRequestError';
    this.code = code;
  }
}

// Messages for the common statuses are made once: a failing target produces them at full rate.
const statusErrorMessages: string[] = [];
for (let status = 100; status < 600; status++) statusErrorMessages[status] = `HTTP ${status}`;

/** The failure for a response status of 400 or more: message exactly `HTTP <status>`. */
export function httpStatusError(status: number): HttpRequestError {
  return new HttpRequestError('HTTP_STATUS', statusErrorMessages[status] ?? `HTTP ${status}`);
}

/** The failure for a request that did not complete within `timeoutMs` (whole request, redirects included). */
export function timeoutError(timeoutMs: number): HttpRequestError {
  return new HttpRequestError('TIMEOUT', `timeout after ${timeoutMs} ms`);
}

/** The failure for a redirect chain longer than `maxRedirects` (loops end here too). */
export function tooManyRedirectsError(maxRedirects: number): HttpRequestError {
  return new HttpRequestError('TOO_MANY_REDIRECTS', `too many redirects (max ${maxRedirects})`);
}

/** The failure for a `validate` callback that returned false (no message) or a string (the message). */
export function validationError(message: string | undefined): HttpRequestError {
  return new HttpRequestError('VALIDATION', message === undefined || message === '' ? 'validation failed' : message);
}

/** Timeouts the normaliser needs to word timeout messages. Milliseconds. */
export interface TimeoutContext {
  timeoutMs: number;
  connectTimeoutMs: number;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/**
 * Normalises an error from undici or Node into an `HttpRequestError`. Socket errors keep their code
 * as the message (`ECONNRESET`); undici's own codes become words a user understands.
 * @example
 * ```ts
 * normaliseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
 *   { timeoutMs: 1000, connectTimeoutMs: 500 }).message; // 'ECONNREFUSED'
 * ```
 */
export function normaliseError(error: unknown, timeouts: TimeoutContext): HttpRequestError {
  if (error instanceof HttpRequestError) return error;
  // Happy-eyeballs connects (Node 20 `autoSelectFamily`) fail with an AggregateError of each attempt.
  if (error instanceof AggregateError && codeOf(error) === undefined && error.errors.length > 0) {
    return normaliseError(error.errors[0], timeouts);
  }
  const code = codeOf(error);
  switch (code) {
    case undefined: {
      const message = error instanceof Error ? error.message : String(error);
      return new HttpRequestError('UNKNOWN', message === '' ? 'unknown error' : message, { cause: error });
    }
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new HttpRequestError('TIMEOUT', `timeout after ${timeouts.timeoutMs} ms`, { cause: error });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new HttpRequestError('CONNECT_TIMEOUT', `connect timeout after ${timeouts.connectTimeoutMs} ms`, { cause: error });
    case 'UND_ERR_SOCKET': {
      // undici reports a peer that closed mid-response as "other side closed"; a reset is its usual cause.
      const causeCode = codeOf((error as { cause?: unknown }).cause);
      return new HttpRequestError(causeCode ?? 'ECONNRESET', causeCode ?? 'ECONNRESET', { cause: error });
    }
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return new HttpRequestError('CLIENT_CLOSED', 'client closed', { cause: error });
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return new HttpRequestError('CONTENT_LENGTH_MISMATCH', 'response content-length mismatch', { cause: error });
    case 'CANCELLED_AT_STOP':
      return new HttpRequestError('CANCELLED_AT_STOP', CANCELLED_AT_STOP, { cause: error });
    case 'UND_ERR_INVALID_ARG':
      return new HttpRequestError('INVALID_REQUEST', `invalid request: ${(error as Error).message}`, { cause: error });
    default:
      if (code.startsWith('HPE_')) return new HttpRequestError(code, `invalid HTTP response (${code})`, { cause: error });
      // Node system and TLS errors: ECONNREFUSED, ECONNRESET, ENOTFOUND, EAI_AGAIN, CERT_HAS_EXPIRED, …
      return new HttpRequestError(code, code, { cause: error });
  }
}
