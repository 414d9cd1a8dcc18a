// The response an HttpClient call resolves with: status, headers, kept body bytes, timing and error.
import type { HttpRequestError } from './normalise-error.ts';

/** Response headers with lower-case names; repeated headers (e.g. `set-cookie`) are arrays. */
export type HttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

const emptyHeaders: HttpHeaders = Object.freeze({});
const emptyBody = Buffer.alloc(0);

/**
 * What a request resolved with. It never throws for HTTP failures: check `ok` or `error`.
 * When the request failed before a response arrived (refused, timeout), `status` is 0.
 * @example
 * ```ts
 * const res = await this.client.get('/items', { query: { page: 2 } });
 * if (res.ok) this.items = res.json<{ id: number }[]>();
 * else console.log(res.error?.message); // e.g. 'HTTP 503'
 * ```
 */
export class HttpResponse {
  /** The HTTP method of the original request. */
  readonly method: string;
  /** The stats name the request was recorded under. */
  readonly name: string;
  /** Final status after redirects; 0 when no response arrived. */
  readonly status: number;
  readonly headers: HttpHeaders;
  /** Final URL, after redirects. */
  readonly url: string;
  /** The kept body: at most `maxBodyBytes` bytes (the rest was read and counted, not kept). */
  readonly bodyBytes: Buffer;
  /** Body bytes actually read from the wire, including any past the `maxBodyBytes` cap. */
  readonly contentLength: number;
  /** Time from sending to the end of the body, redirects included, in ms (sub-ms precision). */
  readonly elapsedMs: number;
  /** The normalised failure, or null when the request succeeded. */
  error: HttpRequestError | null;
  private decoded: string | undefined = undefined;

  constructor(
    method: string,
    name: string,
    status: number,
    headers: HttpHeaders | undefined,
    url: string,
    bodyBytes: Buffer | undefined,
    contentLength: number,
    elapsedMs: number,
    error: HttpRequestError | null,
  ) {
    this.method = method;
    this.name = name;
    this.status = status;
    this.headers = headers ?? emptyHeaders;
    this.url = url;
    this.bodyBytes = bodyBytes ?? emptyBody;
    this.contentLength = contentLength;
    this.elapsedMs = elapsedMs;
    this.error = error;
  }

  /** True when the request succeeded (no transport error, status below 400 or allowed, validation passed). */
  get ok(): boolean {
    return this.error === null;
  }

  /** True when the body was longer than `maxBodyBytes`, so `text()`/`json()` see only its start. */
  get truncated(): boolean {
    return this.contentLength > this.bodyBytes.length;
  }

  /** The kept body decoded as UTF-8 (decoded once, then cached). */
  text(): string {
    return (this.decoded ??= this.bodyBytes.toString('utf8'));
  }

  /**
   * The kept body parsed as JSON. Throws a SyntaxError when it is not JSON (a truncated body is not).
   * The type parameter is not checked at run time.
   */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}
