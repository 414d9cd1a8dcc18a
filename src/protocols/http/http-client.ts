// The per-user HTTP client: undici connections per origin, cookies, redirects, and one request event per call.
import type { Dispatcher } from 'undici';
import { UserStopped } from '../../core/control-flow.ts';
import { CancelledAtStop, type InFlight } from '../../core/in-flight.ts';
import type { ClientDefaults } from '../../core/environment.ts';
import type { Events, RequestEvent } from '../../core/events.ts';
import { Connections } from './connections.ts';
import { CookieJar } from './cookie-jar.ts';
import { Exchange, isRedirect, type ExchangeRequest } from './exchange.ts';
import {
  HttpRequestError,
  httpStatusError,
  normaliseError,
  tooManyRedirectsError,
  validationError,
} from './normalise-error.ts';
import { BaseUrl, defaultName, redirectTarget, urlOf, type Query, type Target } from './request-target.ts';
import { encodeBody, type EncodedBody, type FormFields, type RequestBody } from './request-body.ts';
import { HttpResponse } from './response.ts';

/** Request headers: names are case-insensitive; undefined values are left out. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/**
 * Options of one request. All are optional.
 * @example
 * ```ts
 * await this.client.get(`/items/${id}`, { name: '/items/[id]', query: { full: true }, timeoutMs: 2000 });
 * ```
 */
export interface HttpRequestOptions {
  /** The name statistics group by, e.g. `/items/[id]`. Default: the path without its query string. */
  name?: string;
  headers?: RequestHeaders;
  /** A value sent as JSON; sets `content-type: application/json` unless you set one. */
  json?: unknown;
  /**
   * The body, as fetch takes it: a string (sent as `text/plain;charset=UTF-8` unless you set a
   * content-type), bytes, `URLSearchParams` (form-urlencoded), `FormData` (multipart) or a `Blob`.
   * Anything else is refused with a TypeError before the request is sent. Ignored when `json` is given.
   * @example
   * ```ts
   * await this.client.post('/search', { body: new URLSearchParams({ q: 'shoes' }) });
   * ```
   */
  body?: RequestBody;
  /**
   * Form fields sent as `application/x-www-form-urlencoded` (Locust's `data=`); arrays repeat the key.
   * @example
   * ```ts
   * await this.client.post('/login', { form: { user: 'ann', password: secret('PASSWORD') } });
   * ```
   */
  form?: FormFields;
  /** Appended as a query string, e.g. `{ page: 2, tag: ['a', 'b'] }`. */
  query?: Query;
  /** Whole-request timeout in ms, redirects included. Default: the run's `timeoutMs`. */
  timeoutMs?: number;
  /**
   * Checks a response that arrived without transport or status failure. Return (or resolve to) `true`
   * to accept, `false` to fail with `validation failed`, or a string to fail with that message. A
   * validate that throws fails the request and is also reported as an exception (a bug in the script).
   * @example
   * ```ts
   * await this.client.get('/cart', { validate: async (res) => (await res.json()).items.length > 0 || 'empty cart' });
   * ```
   */
  validate?: (response: HttpResponse) => boolean | string | Promise<boolean | string>;
  /** Follow 301/302/303/307/308 redirects (default true). Otherwise the 3xx response is returned as is. */
  allowRedirects?: boolean;
  /** Statuses of 400 or more that count as success for this request, e.g. `[404]` for a delete that may miss. */
  okStatuses?: readonly number[];
}

/**
 * How to build an HttpClient (HttpUser does it for you).
 * @example
 * ```ts
 * new HttpClient({ baseUrl: 'http://127.0.0.1:8080', events, signal, defaults: defaultClientDefaults, dispatcher: new Agent() });
 * ```
 */
export interface HttpClientOptions {
  /** Absolute http(s) URL that relative paths are joined to. */
  baseUrl: string;
  /** Where every request is reported (`events.request`). */
  events: Events;
  /** Aborted when the run stops: no new request is sent after that. */
  signal: AbortSignal;
  defaults: ClientDefaults;
  /** Extra context for every request event (the user's `context()`). */
  context?: () => Record<string, unknown> | undefined;
  /**
   * A dispatcher shared by many clients (e.g. an undici `Agent`) for raw throughput. The client
   * does not close it. Default: the client opens its own connections, like a browser per user.
   */
  dispatcher?: Dispatcher;
  /** Aborts when requests still on the wire must be cut (the stop's drain ran out): they end as failed `cancelled at stop`. */
  cancelSignal?: AbortSignal;
  /** The process's count of requests on the wire (the runner's), kept up to date by this client. */
  inFlight?: InFlight;
  /** Who `events.userError` names when a `validate` throws (the HttpUser). */
  owner?: object;
  /** The scenario put on every request event (the owner's). */
  scenario?: string;
  /** The owner's pacing interval, ms, read per request (its wait time may be set after the client is made). */
  expectedIntervalMs?: () => number | undefined;
}

const noOptions: HttpRequestOptions = Object.freeze({});

/**
 * Sends HTTP requests for one user and reports each to `events.request` exactly once (redirect
 * chains included, as one request). It never throws for HTTP failures — check `res.ok` — but throws
 * `UserStopped` when the run is stopping before a request is sent. A request already sent is not
 * aborted by the stop signal: it completes and is recorded, unless the stop's drain time runs out
 * (`cancelSignal`), which cuts it and records it as failed with `cancelled at stop`.
 * @example
 * ```ts
 * const client = new HttpClient({ baseUrl: 'http://127.0.0.1:8080', events, signal, defaults: defaultClientDefaults });
 * const res = await client.post('/cart', { json: { id: 1 }, validate: (r) => r.status === 201 || 'expected 201' });
 * await client.close();
 * ```
 */
export class HttpClient {
  /** Headers sent with every request (lower-case names). Set e.g. `authorization` after a login. */
  readonly headers: Record<string, string> = { 'user-agent': 'cicada', accept: '*/*' };
  /** This user's cookies. */
  readonly cookies = new CookieJar();
  readonly baseUrl: string;

  private readonly base: BaseUrl;
  private readonly events: Events;
  private readonly signal: AbortSignal;
  private readonly defaults: ClientDefaults;
  private readonly contextOf: (() => Record<string, unknown> | undefined) | undefined;
  private readonly connections: Connections;
  private readonly inFlight: InFlight | undefined;
  private readonly owner: object;
  private readonly scenario: string | undefined;
  private readonly expectedInterval: (() => number | undefined) | undefined;
  /** The exchange on the wire, and any more when requests run concurrently: a cut at stop ends them. */
  private activeOne: Exchange | undefined = undefined;
  private activeMore: Set<Exchange> | undefined = undefined;
  /** Set by `cancelInFlight()`: an exchange that starts after the cut is cut too. */
  private cut = false;

  /** Throws a TypeError when `baseUrl` is not an absolute http(s) URL. */
  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl;
    this.base = new BaseUrl(options.baseUrl);
    this.events = options.events;
    this.signal = options.signal;
    this.defaults = options.defaults;
    this.contextOf = options.context;
    this.connections = new Connections(this.base.origin, options.defaults, options.dispatcher);
    this.inFlight = options.inFlight;
    this.owner = options.owner ?? {};
    this.scenario = options.scenario;
    this.expectedInterval = options.expectedIntervalMs;
    // One listener per client, not per request (HttpUser calls cancelInFlight() instead: no listener at all).
    options.cancelSignal?.addEventListener('abort', () => this.cancelInFlight(), { once: true });
  }

  /** Ends every request of this client still on the wire, recorded as failed `cancelled at stop` (the stop's drain ran out). */
  cancelInFlight(): void {
    this.cut = true;
    const error = new CancelledAtStop();
    this.activeOne?.cancel(error);
    if (this.activeMore !== undefined) for (const exchange of this.activeMore) exchange.cancel(error);
  }

  /** Sends a GET. @example `await this.client.get('/items', { query: { page: 2 } })` */
  get(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('GET', path, options);
  }

  /** Sends a POST. @example `await this.client.post('/login', { json: { name: 'ann' } })` */
  post(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('POST', path, options);
  }

  /** Sends a PUT. @example `await this.client.put('/items/1', { json: { qty: 2 }, name: '/items/[id]' })` */
  put(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('PUT', path, options);
  }

  /** Sends a PATCH. @example `await this.client.patch('/items/1', { json: { qty: 3 } })` */
  patch(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('PATCH', path, options);
  }

  /** Sends a DELETE. @example `await this.client.delete('/items/1', { okStatuses: [404] })` */
  delete(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('DELETE', path, options);
  }

  /** Sends a HEAD. @example `await this.client.head('/health')` */
  head(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('HEAD', path, options);
  }

  /** Sends an OPTIONS. @example `await this.client.options('/items')` */
  options(path: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('OPTIONS', path, options);
  }

  /**
   * Sends a request with any method. `path` is joined to the base URL, or is an absolute URL.
   * @example
   * ```ts
   * const res = await this.client.request('PURGE', '/cache', { name: 'purge' });
   * ```
   */
  async request(method: string, path: string, options: HttpRequestOptions = noOptions): Promise<HttpResponse> {
    if (this.signal.aborted) throw new UserStopped();
    // Before anything is sent or recorded: a body that cannot be sent is the script's mistake (a TypeError at its line).
    const encoded = options.json === undefined && (options.body !== undefined || options.form !== undefined) ? encodeBody(options.body, options.form) : undefined;
    const inFlight = this.inFlight;
    inFlight?.enter();
    try {
      return await this.send(method, path, options, encoded instanceof Promise ? await encoded : encoded);
    } finally {
      inFlight?.leave();
    }
  }

  private async send(method: string, path: string, options: HttpRequestOptions, encoded: EncodedBody | undefined): Promise<HttpResponse> {
    const name = options.name ?? defaultName(path);
    const timeoutMs = options.timeoutMs ?? this.defaults.timeoutMs;
    const context = this.contextOf?.();
    const startTime = Date.now();
    const started = performance.now();
    const deadline = started + timeoutMs;

    let target: Target;
    try {
      target = this.base.resolve(path, options.query);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return this.record(method, name, path, new HttpResponse(method, name, 0, undefined, path, undefined, 0, 0,
        new HttpRequestError('INVALID_URL', message)), startTime, context, options);
    }
    const hop = this.prepare(method, target, options, encoded);
    const followRedirects = options.allowRedirects !== false;
    const maxRedirects = this.defaults.maxRedirects;
    let redirects = 0;
    const cookieHeader = hop.headers.cookie;
    const userCookie = Array.isArray(cookieHeader) ? cookieHeader.join('; ') : cookieHeader;
    let exchange: Exchange;
    for (;;) {
      hop.headers = this.withCookies(hop.headers, target, userCookie);
      exchange = new Exchange(this.defaults.maxBodyBytes, deadline - performance.now(), timeoutMs, followRedirects);
      await this.run(exchange, hop, target.origin);
      if (exchange.error !== null || !followRedirects || !isRedirect(exchange.status)) break;
      const headers = exchange.headers!;
      this.cookies.storeFromResponse(headers['set-cookie'], target);
      const location = headers.location;
      const next = typeof location === 'string' ? redirectTarget(location, target) : undefined;
      if (next === undefined) break;
      if (redirects === maxRedirects) {
        exchange.error = tooManyRedirectsError(maxRedirects);
        break;
      }
      redirects++;
      this.redirect(hop, exchange.status, target, next);
      target = next;
    }

    const headers = exchange.headers;
    if (headers !== undefined && exchange.error === null) this.cookies.storeFromResponse(headers['set-cookie'], target);
    const error = exchange.error === null ? null : normaliseError(exchange.error, { timeoutMs, connectTimeoutMs: this.defaults.connectTimeoutMs });
    const response = new HttpResponse(method, name, exchange.status, headers, urlOf(target), exchange.keptBody(),
      exchange.bytesRead, exchange.endedAt - started, error);
    return this.record(method, name, response.url, response, startTime, context, options);
  }

  /** Sends one hop, known to `cancelInFlight()` while it is on the wire. */
  private async run(exchange: Exchange, hop: ExchangeRequest, origin: string): Promise<void> {
    const single = this.activeOne === undefined;
    if (single) this.activeOne = exchange;
    else (this.activeMore ??= new Set()).add(exchange);
    if (this.cut) exchange.cancel(new CancelledAtStop());
    try {
      await exchange.start(this.connections.for(origin), hop);
    } finally {
      if (single) this.activeOne = undefined;
      else this.activeMore!.delete(exchange);
    }
  }

  /** Closes this client's own connections (a shared dispatcher stays open). Later requests fail with `client closed`. */
  async close(): Promise<void> {
    await this.connections.close();
  }

  /** Builds the first hop: method, body and the headers it needs beyond the client's defaults. */
  private prepare(method: string, target: Target, options: HttpRequestOptions, encoded: EncodedBody | undefined): ExchangeRequest {
    let body: string | Buffer | Uint8Array | undefined = encoded?.body;
    let headers: RequestHeaders = this.headers;
    const extra = options.headers;
    const contentType = encoded?.contentType;
    if (extra !== undefined || options.json !== undefined || contentType !== undefined) {
      // Own copy with lower-case names, so the per-request headers override the defaults by name.
      headers = {};
      for (const key in this.headers) headers[key.toLowerCase()] = this.headers[key];
      if (extra !== undefined) {
        for (const key in extra) {
          const value = extra[key];
          if (value !== undefined) headers[key.toLowerCase()] = value;
        }
      }
      if (options.json !== undefined) {
        body = JSON.stringify(options.json);
        headers['content-type'] ??= 'application/json';
      } else if (contentType !== undefined) headers['content-type'] ??= contentType;
    }
    return { origin: target.origin, path: target.path, method, headers, body };
  }

  /**
   * Adds the jar's cookies for `target` to the headers (copying the shared defaults first).
   * `userCookie` is the Cookie header the user set, kept in front of the jar's cookies on every hop.
   */
  private withCookies(headers: RequestHeaders, target: Target, userCookie: string | undefined): RequestHeaders {
    const jarCookies = this.cookies.headerFor(target);
    if (jarCookies === undefined && headers === this.headers) return headers;
    const own = this.ownHeaders(headers);
    if (jarCookies === undefined) {
      if (userCookie === undefined) delete own.cookie;
      else own.cookie = userCookie;
    } else {
      own.cookie = userCookie === undefined ? jarCookies : userCookie + '; ' + jarCookies;
    }
    return own;
  }

  /** Turns `hop` into the next hop of a redirect (fetch spec rules for method and body). */
  private redirect(hop: ExchangeRequest, status: number, from: Target, to: Target): void {
    if (((status === 301 || status === 302) && hop.method === 'POST') || (status === 303 && hop.method !== 'GET' && hop.method !== 'HEAD')) {
      hop.method = 'GET';
      hop.body = undefined;
      if (hop.headers['content-type'] !== undefined || hop.headers['content-length'] !== undefined) {
        hop.headers = this.ownHeaders(hop.headers);
        delete hop.headers['content-type'];
        delete hop.headers['content-length'];
      }
    }
    if (to.origin !== from.origin && hop.headers.authorization !== undefined) {
      // Credentials meant for one origin are not sent to another (as browsers and requests do).
      hop.headers = this.ownHeaders(hop.headers);
      delete hop.headers.authorization;
    }
    hop.origin = to.origin;
    hop.path = to.path;
  }

  /** `headers`, or a copy of it when it is the client's shared defaults (which must not change). */
  private ownHeaders(headers: RequestHeaders): RequestHeaders {
    return headers === this.headers ? { ...headers } : headers;
  }

  /** Validates (awaiting an async validate), fires the request event and returns the response. */
  private record(
    method: string,
    name: string,
    url: string,
    response: HttpResponse,
    startTime: number,
    context: Record<string, unknown> | undefined,
    options: HttpRequestOptions,
  ): HttpResponse | Promise<HttpResponse> {
    if (response.error === null) {
      const verdict = this.judge(response, options);
      if (verdict instanceof Promise) {
        return verdict.then((error) => {
          response.error = error;
          return this.fire(method, name, url, response, startTime, context);
        });
      }
      response.error = verdict;
    }
    return this.fire(method, name, url, response, startTime, context);
  }

  private fire(method: string, name: string, url: string, response: HttpResponse, startTime: number, context: Record<string, unknown> | undefined): HttpResponse {
    const event: RequestEvent = {
      requestType: method,
      name,
      responseTime: response.elapsedMs,
      responseLength: response.contentLength,
      error: response.error,
      startTime,
      url,
      response,
    };
    if (context !== undefined) event.context = context;
    if (this.scenario !== undefined) event.scenario = this.scenario;
    const interval = this.expectedInterval?.();
    if (interval !== undefined) event.expectedIntervalMs = interval;
    this.events.request.fire(event);
    return response;
  }

  /** The failure a response that arrived stands for: its status, or what `validate` says (a Promise for an async validate). */
  private judge(response: HttpResponse, options: HttpRequestOptions): HttpRequestError | null | Promise<HttpRequestError | null> {
    const status = response.status;
    if (status >= 400 && options.okStatuses?.includes(status) !== true) return httpStatusError(status);
    const validate = options.validate;
    if (validate === undefined) return null;
    let verdict: boolean | string | Promise<boolean | string>;
    try {
      verdict = validate(response);
    } catch (error) {
      return this.validateThrew(response, error);
    }
    if (verdict instanceof Promise) return verdict.then(verdictError, (error: unknown) => this.validateThrew(response, error));
    return verdictError(verdict);
  }

  /** A validate that throws is a bug in the script: the request fails, and the error is reported with its stack. */
  private validateThrew(response: HttpResponse, thrown: unknown): HttpRequestError {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    this.events.userError.fire({ user: this.owner, error, task: `validate ${response.method} ${response.name}` });
    return validationError(`validation failed: ${error.message}`);
  }
}

/** What a validate's answer means: `true` passes, a string fails with it, anything else fails with `validation failed`. */
function verdictError(verdict: boolean | string): HttpRequestError | null {
  if (verdict === true) return null;
  return validationError(typeof verdict === 'string' ? verdict : undefined);
}
