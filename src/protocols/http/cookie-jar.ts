// A per-user cookie jar (RFC 6265 storage and matching rules), so each HttpUser logs in like its own browser.
import { isIP } from 'node:net';

/** One stored cookie. Times are ms since the epoch. */
export interface Cookie {
  readonly name: string;
  readonly value: string;
  /** Lower-case host or domain, without a leading dot. */
  readonly domain: string;
  readonly path: string;
  /** When the cookie expires; undefined for a session cookie (kept for the whole run). */
  readonly expires: number | undefined;
  readonly secure: boolean;
  readonly httpOnly: boolean;
  /** True when the cookie had no Domain attribute: it goes back to exactly that host only. */
  readonly hostOnly: boolean;
}

/** Where a request goes, as cookie matching sees it: host without port, path without query. */
export interface CookieTarget {
  hostname: string;
  path: string;
  secure: boolean;
}

// Browsers treat loopback as a secure context, so Secure cookies still work against a local target.
function isSecureContext(target: CookieTarget): boolean {
  return target.secure || target.hostname === 'localhost' || target.hostname === '127.0.0.1' || target.hostname === '[::1]';
}

function isIpAddress(hostname: string): boolean {
  return hostname.startsWith('[') || isIP(hostname) !== 0;
}

/** RFC 6265 §5.1.3: the host is the domain, or a subdomain of it (never for IP addresses). */
function domainMatches(hostname: string, domain: string): boolean {
  if (hostname === domain) return true;
  return hostname.endsWith(domain) && hostname.charCodeAt(hostname.length - domain.length - 1) === 46 /* . */ && !isIpAddress(hostname);
}

/** RFC 6265 §5.1.4. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charCodeAt(cookiePath.length) === 47 /* / */;
}

/** RFC 6265 §5.1.4: the "directory" of the request path. */
function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const last = requestPath.lastIndexOf('/');
  return last <= 0 ? '/' : requestPath.slice(0, last);
}

/** Strips the query string: cookie paths match the path only. */
function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/**
 * Holds the cookies one user received and picks the ones each request should send (domain, path,
 * Secure and expiry rules). `HttpClient` fills it from `Set-Cookie`; read it through `client.cookies`.
 * @example
 * ```ts
 * await this.client.post('/login', { json: { name: 'ann' } });
 * if (this.client.cookies.get('session') === undefined) throw new StopUser();
 * ```
 */
export class CookieJar {
  private cookies: Cookie[] = [];
  private readonly now: () => number;

  /** `now` returns ms since the epoch; tests pass a fake clock. */
  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Number of stored cookies, expired ones included until they are next looked at. */
  get size(): number {
    return this.cookies.length;
  }

  /** Stores every `Set-Cookie` value of a response from `target`. */
  storeFromResponse(setCookie: string | readonly string[] | undefined, target: CookieTarget): void {
    if (setCookie === undefined) return;
    if (typeof setCookie === 'string') this.store(setCookie, target);
    else for (const line of setCookie) this.store(line, target);
  }

  /**
   * Stores one `Set-Cookie` line as if `url` had sent it. Invalid lines and cookies for a domain
   * the URL may not set are ignored, as a browser does.
   */
  setCookie(line: string, url: string): void {
    const parsed = new URL(url);
    this.store(line, { hostname: parsed.hostname, path: parsed.pathname, secure: parsed.protocol === 'https:' });
  }

  /** The `Cookie` header value for a request to `target`, or undefined when no cookie applies. */
  headerFor(target: CookieTarget): string | undefined {
    if (this.cookies.length === 0) return undefined;
    const now = this.now();
    const path = pathOnly(target.path);
    const secureOk = isSecureContext(target);
    let matches: Cookie[] | undefined;
    let expired = false;
    for (const cookie of this.cookies) {
      if (cookie.expires !== undefined && cookie.expires <= now) {
        expired = true;
        continue;
      }
      if (cookie.secure && !secureOk) continue;
      if (cookie.hostOnly ? cookie.domain !== target.hostname : !domainMatches(target.hostname, cookie.domain)) continue;
      if (!pathMatches(path, cookie.path)) continue;
      (matches ??= []).push(cookie);
    }
    if (expired) this.removeExpired(now);
    if (matches === undefined) return undefined;
    // RFC 6265 §5.4: longer paths first; the sort is stable, so older cookies stay first among equals.
    if (matches.length > 1) matches.sort((a, b) => b.path.length - a.path.length);
    let header = '';
    for (let i = 0; i < matches.length; i++) {
      const cookie = matches[i]!;
      header += (i === 0 ? '' : '; ') + cookie.name + '=' + cookie.value;
    }
    return header;
  }

  /** The value of the first unexpired cookie called `name`, whatever its domain or path. */
  get(name: string): string | undefined {
    const now = this.now();
    for (const cookie of this.cookies) {
      if (cookie.name === name && (cookie.expires === undefined || cookie.expires > now)) return cookie.value;
    }
    return undefined;
  }

  /** Every unexpired cookie, oldest first. */
  list(): readonly Cookie[] {
    this.removeExpired(this.now());
    return [...this.cookies];
  }

  /** Forgets every cookie (a user "logging out" or starting afresh). */
  clear(): void {
    this.cookies = [];
  }

  private removeExpired(now: number): void {
    this.cookies = this.cookies.filter((c) => c.expires === undefined || c.expires > now);
  }

  private store(line: string, target: CookieTarget): void {
    const cookie = parseSetCookie(line, target, this.now());
    if (cookie === undefined) return;
    const index = this.cookies.findIndex((c) => c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path);
    const expired = cookie.expires !== undefined && cookie.expires <= this.now();
    if (expired) {
      // A past expiry (or Max-Age=0) is how servers delete a cookie.
      if (index !== -1) this.cookies.splice(index, 1);
      return;
    }
    if (index === -1) this.cookies.push(cookie);
    else this.cookies[index] = cookie;
  }
}

/**
 * Parses one `Set-Cookie` line received from `target` (RFC 6265 §5.2–5.3), or undefined when the
 * line is invalid or names a domain the target may not set.
 */
export function parseSetCookie(line: string, target: CookieTarget, now: number): Cookie | undefined {
  const parts = line.split(';');
  const pair = parts[0] ?? '';
  const eq = pair.indexOf('=');
  if (eq === -1) return undefined;
  const name = pair.slice(0, eq).trim();
  if (name === '') return undefined;
  const value = pair.slice(eq + 1).trim();
  let domain: string | undefined;
  let path: string | undefined;
  let expires: number | undefined;
  let maxAge: number | undefined;
  let secure = false;
  let httpOnly = false;
  for (let i = 1; i < parts.length; i++) {
    const attribute = parts[i]!;
    const aeq = attribute.indexOf('=');
    const key = (aeq === -1 ? attribute : attribute.slice(0, aeq)).trim().toLowerCase();
    const attributeValue = aeq === -1 ? '' : attribute.slice(aeq + 1).trim();
    switch (key) {
      case 'domain': {
        const d = attributeValue.replace(/^\./, '').toLowerCase();
        if (d !== '') domain = d;
        break;
      }
      case 'path':
        path = attributeValue.startsWith('/') ? attributeValue : undefined;
        break;
      case 'expires': {
        const t = Date.parse(attributeValue);
        if (!Number.isNaN(t)) expires = t;
        break;
      }
      case 'max-age':
        // Max-Age is in seconds and wins over Expires (§5.3 step 3).
        if (/^-?\d+$/.test(attributeValue)) maxAge = Number(attributeValue);
        break;
      case 'secure':
        secure = true;
        break;
      case 'httponly':
        httpOnly = true;
        break;
      default:
        break; // SameSite, Priority, Partitioned …: nothing a load-test user enforces.
    }
  }
  const hostname = target.hostname.toLowerCase();
  if (domain !== undefined && !domainMatches(hostname, domain)) return undefined;
  return {
    name,
    value,
    domain: domain ?? hostname,
    path: path ?? defaultPath(pathOnly(target.path)),
    expires: maxAge !== undefined ? (maxAge <= 0 ? 0 : now + maxAge * 1000) : expires,
    secure,
    httpOnly,
    hostOnly: domain === undefined,
  };
}
