// Where a request goes: the base URL parsed once, paths joined to it, query strings and redirect targets.

/** One value of the `query` option; arrays repeat the key (`?tag=a&tag=b`). */
export type QueryValue = string | number | boolean;
/** The `query` option: undefined values are left out. */
export type Query = Readonly<Record<string, QueryValue | readonly QueryValue[] | undefined>>;

/** A request target split the way undici and the cookie jar need it. */
export interface Target {
  /** `http://host:port`, no trailing slash. */
  origin: string;
  /** Path and query string, starting with `/`. */
  path: string;
  /** Host without port, lower case (cookie matching ignores ports). */
  hostname: string;
  secure: boolean;
}

/** The base URL of a client, parsed once so the hot path is string concatenation. */
export class BaseUrl {
  readonly origin: string;
  /** The base URL's path without a trailing slash (`''` for `http://host/`). */
  readonly basePath: string;
  readonly hostname: string;
  readonly secure: boolean;

  /** Throws a TypeError when `url` is not an absolute http(s) URL. */
  constructor(url: string) {
    const parsed = parseHttpUrl(url);
    this.origin = parsed.origin;
    this.basePath = parsed.pathname.endsWith('/') ? parsed.pathname.slice(0, -1) : parsed.pathname;
    this.hostname = parsed.hostname;
    this.secure = parsed.protocol === 'https:';
  }

  /**
   * Resolves a request path: `/items` and `items` are joined to the base path (like Locust, a base
   * of `http://h/api` sends `/items` to `/api/items`); an absolute `http(s)://` URL is used as is.
   */
  resolve(path: string, query: Query | undefined): Target {
    let target: Target;
    if (path.charCodeAt(0) === 47 /* / */ && path.charCodeAt(1) !== 47) {
      target = { origin: this.origin, path: this.basePath + path, hostname: this.hostname, secure: this.secure };
    } else if (/^https?:\/\//i.test(path)) {
      target = targetOf(parseHttpUrl(path));
    } else {
      target = { origin: this.origin, path: this.basePath + '/' + path, hostname: this.hostname, secure: this.secure };
    }
    if (query !== undefined) target.path = appendQuery(target.path, query);
    return target;
  }
}

function parseHttpUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`not a valid URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`not an http(s) URL: ${JSON.stringify(url)}`);
  }
  return parsed;
}

function targetOf(url: URL): Target {
  return { origin: url.origin, path: url.pathname + url.search, hostname: url.hostname, secure: url.protocol === 'https:' };
}

/** The full URL of a target, for events and `HttpResponse.url`. */
export function urlOf(target: Target): string {
  return target.origin + target.path;
}

/**
 * Where a redirect's `Location` points, resolved against the URL that sent it, or undefined when
 * it is not a valid http(s) URL (the redirect is then not followed).
 */
export function redirectTarget(location: string, from: Target): Target | undefined {
  try {
    const url = new URL(location, urlOf(from));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return targetOf(url);
  } catch {
    return undefined;
  }
}

/** Appends `query` to a path that may already carry a query string. Keys and values are percent-encoded. */
export function appendQuery(path: string, query: Query): string {
  let out = path;
  let separator = path.includes('?') ? '&' : '?';
  for (const key in query) {
    const value = query[key];
    if (value === undefined) continue;
    const encodedKey = encodeURIComponent(key);
    if (typeof value === 'object') {
      for (const item of value) {
        out += separator + encodedKey + '=' + encodeURIComponent(item);
        separator = '&';
      }
    } else {
      out += separator + encodedKey + '=' + encodeURIComponent(value);
      separator = '&';
    }
  }
  return out;
}

/** The default stats name of a request: the path as written, without its query string. */
export function defaultName(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}
