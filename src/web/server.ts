// The web server: security headers, host/origin checks, sessions and roles (deny by default), then the routes.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import { isLoopback } from '../core/loopback.ts';
import { sameSecret } from '../core/same-secret.ts';
import { HttpError } from './http-error.ts';
import { roleAllows, type Access } from './roles.ts';
import { DEFAULT_TIMEOUTS, SessionStore, type AuthMode, type Session } from './sessions.ts';
import { loadUi, registerUi } from './static-ui.ts';
import type { WebContext, WebServerOptions } from './context.ts';
import { LiveNumbers } from './live-numbers.ts';
import { registerApi } from './api-routes.ts';
import { registerAuth } from './auth-routes.ts';
import { registerStream } from './stream.ts';
import { registerMetrics } from './metrics-route.ts';
import { redactResponses } from './redact-hook.ts';
import { bearerOf } from './bearer.ts';
import { DEFAULT_CONNECTION_LIMITS, effectiveLimits, fileDescriptorLimit, guardConnections } from './connection-guard.ts';
import { trustedProxies } from './trust-proxy.ts';

export type { WebContext, WebServerOptions } from './context.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route. Every route must say (deny by default): registration fails otherwise. */
    access?: Access;
    /** A POST route that needs no CSRF token (only login, which has no session yet). */
    noCsrf?: boolean;
    /** A GET route a machine may call with `Authorization: Bearer` (the metrics token) instead of a session. */
    bearer?: boolean;
  }
  interface FastifyRequest {
    session: Session | undefined;
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BODY_LIMIT = 64 * 1024;

/** The host part of a Host header (`[::1]:8089` → `[::1]`, `a:80` → `a`). */
function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return colon === -1 ? hostHeader : hostHeader.slice(0, colon);
}

function contentSecurityPolicy(secure: boolean): Record<string, string[]> {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    frameAncestors: ["'none'"],
    formAction: ["'self'"],
    ...(secure ? { upgradeInsecureRequests: [] } : {}),
  };
}

export interface WebServer {
  app: FastifyInstance;
  /** Every registered route and who may call it (for the deny-by-default test and the docs). */
  routes: readonly { method: string; url: string; access: Access }[];
  /** Listens; resolves with the URL to open. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createWebServer(options: WebServerOptions): Promise<WebServer> {
  const ui = await loadUi(options.uiDir);
  const secure = options.tls !== undefined;
  const authMode: AuthMode = options.oidc ? 'oidc' : options.users ? 'users' : 'none';
  // On a loopback bind the Host must be a loopback name too (DNS rebinding: a foreign page's name that
  // resolves to 127.0.0.1 is not one). A public bind is reached by whatever name the network gives it (and
  // needs a login, or --insecure).
  const loopbackOnly = isLoopback(options.host);
  const limits = effectiveLimits({ ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits }, fileDescriptorLimit());
  const proxies = trustedProxies(options.trustProxy ?? []);
  const app = Fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' as const, handshakeTimeout: limits.connectionTimeoutMs } } : {}),
    bodyLimit: BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Slow clients cannot hold the server: a silent connection goes after connectionTimeoutMs, headers must
    // arrive within 10 s, the whole request within 30 s.
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: 30_000,
    // Only the listed proxies are believed about the client (request.ip, which the rate limits key on);
    // X-Forwarded-For from anyone else is ignored.
    ...(proxies.cidrs.length > 0 ? { trustProxy: [...proxies.cidrs] } : {}),
    logger: false,
    return503OnClosing: true,
  });
  app.server.headersTimeout = 10_000;
  guardConnections(app.server, limits, (address) => proxies.includes(address), options.logger);
  const sessions = new SessionStore(options.sessionTimeouts ?? DEFAULT_TIMEOUTS, options.now ?? Date.now);
  const cookieName = secure ? '__Host-cicada_session' : 'cicada_session';
  const ctx: WebContext = {
    options,
    sessions,
    authMode,
    secure,
    cookieName,
    logger: options.logger,
    login(reply, previous, user, role, mode) {
      sessions.delete(previous?.id);
      const session = sessions.create(user, role, mode);
      reply.setCookie(cookieName, session.id, { path: '/', httpOnly: true, sameSite: 'strict', secure });
      return session;
    },
    sessionJson: (s) => ({ user: s.user, role: s.role, csrfToken: s.csrfToken, authMode: s.authMode }),
    live: new LiveNumbers(),
  };

  const postPaths = new Set<string>();
  const routes: { method: string; url: string; access: Access }[] = [];
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} has no access rule (config.access): every route must name who may call it`);
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('POST')) postPaths.add(route.url);
    for (const method of methods) routes.push({ method, url: route.url, access });
  });

  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy(secure) },
    hsts: secure ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
  });
  await app.register(cookie);
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, context) => new HttpError(429, `too many attempts; try again in ${context.after}`),
  });
  app.decorateRequest('session', undefined);
  // Only JSON and forms: a text/plain POST (a CORS "simple request" a foreign page could send) is refused with 415.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const fields = Object.create(null) as Record<string, string | string[]>;
    for (const [key, value] of new URLSearchParams(body as string)) {
      const seen = fields[key];
      fields[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
    done(null, fields);
  });

  // Before anything else: the Host (DNS rebinding), the Origin of unsafe requests, then session and role.
  app.addHook('onRequest', hook((request) => {
    if (loopbackOnly && !isLoopback(hostnameOf(request.headers.host ?? ''))) {
      throw new HttpError(403, `unexpected Host header: open the UI as http${secure ? 's' : ''}://127.0.0.1:${request.socket.localPort ?? options.port}/`);
    }
    const access = request.routeOptions.config?.access;
    if (UNSAFE_METHODS.has(request.method) || request.headers.accept === 'text/event-stream' || request.url.startsWith('/stream')) {
      checkSameOrigin(request, secure);
    }
    request.session = sessions.get(request.cookies[cookieName]);
    if (access === undefined || access === 'public') return;
    if (request.routeOptions.config?.bearer === true && options.metricsToken !== undefined) {
      const given = bearerOf(request.headers.authorization);
      if (given !== undefined) {
        if (sameSecret(given, options.metricsToken)) return;
        options.logger.warning(`web: refused ${request.method} ${request.url}: a wrong bearer token`);
        throw new HttpError(401, 'wrong bearer token: send the token of --metrics-token-file');
      }
    }
    const role = request.session?.role ?? (authMode === 'none' ? 'admin' : undefined);
    if (role === undefined) {
      throw new HttpError(401, options.users ? 'log in first: POST /login with JSON {"username": "...", "password": "..."} (keep the session cookie it sets)' : 'log in first: open /auth/oidc/login in a browser');
    }
    if (!roleAllows(role, access)) {
      options.logger.warning(`web: ${request.session?.user ?? 'anonymous'} (${role}) was refused ${request.method} ${request.url}: needs ${access}`);
      throw new HttpError(403, `your role (${role}) may not do this; it needs ${access}`);
    }
  }));
  // After the body is parsed: the CSRF token of every unsafe request (header, or the `_csrf` form field).
  app.addHook('preHandler', hook((request) => {
    if (!UNSAFE_METHODS.has(request.method) || request.routeOptions.config?.noCsrf) return;
    const body = request.body as Record<string, unknown> | undefined;
    const fromForm = body && typeof body === 'object' ? body._csrf : undefined;
    if (body && typeof body === 'object' && '_csrf' in body) delete body._csrf;
    const token = request.headers['x-csrf-token'] ?? fromForm;
    const session = request.session;
    if (!session) {
      throw new HttpError(403, authMode === 'none'
        ? 'no session: this request carried no valid session cookie (none, or one from before a restart). GET /session, keep its cookie (curl -c jar, then -b jar) and send its csrfToken in an X-CSRF-Token header'
        : 'no session: log in first (POST /login) and keep the session cookie');
    }
    if (typeof token !== 'string' || !sameSecret(token, session.csrfToken)) {
      options.logger.warning(`web: refused ${request.method} ${request.url} from ${session.user}: ${token === undefined ? 'no' : 'a wrong'} CSRF token`);
      throw new HttpError(403, `${token === undefined ? 'missing' : 'invalid'} CSRF token: send the session's csrfToken in an X-CSRF-Token header`);
    }
  }));

  app.setErrorHandler((error: Error & { statusCode?: number; field?: string }, request, reply) => {
    const status = error instanceof HttpError ? error.statusCode : (error.statusCode ?? 500);
    // An HttpError of 5xx is an answer the server chose (503: too many streams), not a failure.
    if (status >= 500 && !(error instanceof HttpError)) {
      options.logger.error(`web: ${request.method} ${request.url} failed: ${error.stack ?? error.message}`);
      return reply.code(500).send({ success: false, message: 'internal error (see the Cicada log)' });
    }
    if (status === 415) {
      return reply.code(415).send({ success: false, message: 'unsupported content type: send JSON (Content-Type: application/json) or form fields (curl -d, application/x-www-form-urlencoded); multipart (curl -F) and text/plain are not accepted' });
    }
    if ((error as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.name === 'SyntaxError') {
      return reply.code(400).send({ success: false, message: `the body is not valid JSON: ${error.message}`, field: 'body' });
    }
    if (status === 429) {
      const retry = reply.getHeader('retry-after');
      if (retry === undefined) reply.header('retry-after', 60);
    }
    return reply.code(status).send({ success: false, message: error.message, ...(error instanceof HttpError && error.field ? { field: error.field } : {}) });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (postPaths.has(path)) {
      return reply.code(405).header('allow', 'POST').send({ success: false, message: `${request.method} ${path} is not allowed: use POST (with the CSRF token)` });
    }
    return reply.code(404).send({ success: false, message: `no such page: ${path.slice(0, 200)}` });
  });

  redactResponses(app);
  registerUi(app, ui);
  registerAuth(app, ctx);
  registerApi(app, ctx);
  registerStream(app, ctx);
  registerMetrics(app, ctx);
  await app.ready();

  return {
    app,
    routes,
    async listen() {
      await app.listen({ host: options.host, port: options.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      const shown = options.host.includes(':') ? `[${options.host}]` : options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
      return `http${secure ? 's' : ''}://${shown}:${port}`;
    },
    close: () => app.close(),
  };
}

/** A synchronous check as a fastify hook: a thrown error goes to the error handler. */
function hook(check: (request: FastifyRequest) => void): (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void {
  return (request, _reply, done) => {
    try {
      check(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  };
}

/** Refuses a cross-origin unsafe request or live stream (CSRF defence in depth, and the stream's Origin check). */
function checkSameOrigin(request: FastifyRequest, secure: boolean): void {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw new HttpError(403, 'cross-site request refused');
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const expected = `http${secure ? 's' : ''}://${request.headers.host ?? ''}`;
  if (origin !== expected) throw new HttpError(403, `request from a foreign origin (${origin.slice(0, 100)}) refused`);
}
