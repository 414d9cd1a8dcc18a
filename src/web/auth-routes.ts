// Sessions over HTTP: password login, the session document, logout, and the OpenID Connect round trip.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { escapeHtml } from '../exporters/escape-html.ts';
import { HttpError } from './http-error.ts';
import { OidcLoginError, type PendingLogin } from './oidc.ts';
import { MAX_PASSWORD_LENGTH, verifyPassword, type PasswordHash } from './password.ts';
import { DEFAULT_LOGIN_BACKOFF, LoginThrottle } from './login-throttle.ts';
import { randomToken } from './sessions.ts';
import type { WebContext } from './context.ts';

/** Checked for unknown names too, so a wrong name takes as long as a wrong password. */
const DUMMY_HASH: PasswordHash = {
  ln: 15, r: 8, p: 3,
  salt: Buffer.alloc(16, 7),
  hash: Buffer.alloc(32, 0),
};
const PENDING_TTL_MS = 10 * 60_000;
const MAX_PENDING = 1000;

function credentials(body: unknown): { username: string; password: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'expected JSON {"username": "...", "password": "..."}', 'body');
  const { username, password, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest).find((k) => k !== '_csrf');
  if (extra !== undefined) throw new HttpError(400, `${extra.slice(0, 100)}: unknown field; /login accepts username and password`, extra.slice(0, 100));
  if (typeof username !== 'string' || username === '' || username.length > 64) throw new HttpError(400, 'username: required (text, at most 64 characters)', 'username');
  if (typeof password !== 'string' || password === '' || password.length > MAX_PASSWORD_LENGTH) throw new HttpError(400, 'password: required (text)', 'password');
  return { username, password };
}

/** A tiny page for the browser after the provider's redirect (no script: the CSP forbids inline code). */
function page(reply: FastifyReply, status: number, title: string, text: string, refresh: boolean): FastifyReply {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${refresh ? '<meta http-equiv="refresh" content="0;url=/">' : ''}</head>`
    + `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p><p><a href="/">Back to Cicada</a></p></body></html>`;
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

export function registerAuth(app: FastifyInstance, ctx: WebContext): void {
  const { options, sessions, authMode, logger } = ctx;
  const limit = options.loginRateLimit ?? { max: 10, windowMs: 60_000 };
  // Per address (the rate limit, keyed on request.ip: the real client behind a trusted proxy) and per name
  // (this throttle): many addresses cannot share out the guesses at one account.
  const throttle = new LoginThrottle(options.loginBackoff ?? DEFAULT_LOGIN_BACKOFF, options.now ?? Date.now);

  app.post('/login', {
    config: { access: 'public', noCsrf: true, rateLimit: { max: limit.max, timeWindow: limit.windowMs } },
  }, async (request, reply) => {
    if (!options.users) {
      throw new HttpError(400, authMode === 'none' ? 'no login is needed here (no users file): GET /session gives you a session' : 'password login is not enabled: log in with single sign-on (/auth/oidc/login)');
    }
    const { username, password } = credentials(request.body);
    const wait = throttle.attempt(username);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      reply.header('retry-after', seconds);
      throw new HttpError(429, `too many failed logins for this user name: try again in ${seconds} s`);
    }
    const user = options.users.get(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      const next = throttle.wait(username);
      const locked = next > 0 ? `; the name now waits ${Math.ceil(next / 1000)} s (${throttle.failures(username)} failures in a row)` : '';
      logger.warning(`web: failed login as ${JSON.stringify(username)} from ${request.ip}${locked}`);
      throw new HttpError(401, 'wrong user name or password');
    }
    throttle.succeeded(username);
    const session = ctx.login(reply, request.session, user.name, user.role, 'users');
    logger.info(`web: ${user.name} logged in (${user.role}) from ${request.ip}`);
    if (request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) return reply.code(303).header('location', '/').send();
    return ctx.sessionJson(session);
  });

  app.get('/session', { config: { access: 'public' } }, (request, reply) => {
    if (request.session) return ctx.sessionJson(request.session);
    if (authMode === 'none') return ctx.sessionJson(ctx.login(reply, undefined, 'local', 'admin', 'none'));
    return reply.code(401).send({ success: false, message: 'log in first', login: { password: options.users !== undefined, oidc: options.oidc !== undefined } });
  });

  app.post('/logout', { config: { access: 'viewer' } }, (request, reply) => {
    const session = request.session!;
    sessions.delete(session.id);
    logger.info(`web: ${session.user} logged out`);
    reply.clearCookie(ctx.cookieName, { path: '/', httpOnly: true, sameSite: 'strict', secure: ctx.secure });
    return { success: true, message: 'logged out' };
  });

  const oidc = options.oidc;
  if (!oidc) return;
  // The login in progress waits here, keyed by a random id in a short-lived cookie; one use only.
  const pending = new Map<string, { login: PendingLogin; expires: number }>();
  const now = options.now ?? Date.now;
  const pendingCookie = ctx.secure ? '__Host-cicada_oidc' : 'cicada_oidc';
  // Lax, not Strict: the provider sends the browser back with a cross-site top-level navigation.
  const pendingCookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure };

  app.get('/auth/oidc/login', { exposeHeadRoute: false, config: { access: 'public', rateLimit: { max: limit.max * 3, timeWindow: limit.windowMs } } }, (_request, reply) => {
    for (const [id, entry] of pending) if (entry.expires < now()) pending.delete(id);
    if (pending.size >= MAX_PENDING) {
      const oldest = pending.keys().next().value;
      if (oldest !== undefined) pending.delete(oldest);
    }
    const { url, pending: login } = oidc.beginLogin();
    const id = randomToken();
    pending.set(id, { login, expires: now() + PENDING_TTL_MS });
    reply.setCookie(pendingCookie, id, { ...pendingCookieOptions, maxAge: PENDING_TTL_MS / 1000 });
    return reply.redirect(url, 302);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/auth/oidc/callback', { exposeHeadRoute: false, config: { access: 'public' } }, async (request, reply) => {
    const id = request.cookies[pendingCookie];
    const entry = id !== undefined ? pending.get(id) : undefined;
    if (id !== undefined) pending.delete(id);
    reply.clearCookie(pendingCookie, pendingCookieOptions);
    const query: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(request.query)) if (typeof v === 'string') query[k] = v;
    try {
      const { username, role } = await oidc.completeLogin(query, entry && entry.expires >= now() ? entry.login : undefined);
      ctx.login(reply, request.session, username, role, 'oidc');
      logger.info(`web: ${username} logged in with single sign-on (${role})`);
      return page(reply, 200, 'Logged in', 'Opening Cicada…', true);
    } catch (error) {
      if (!(error instanceof OidcLoginError)) throw error;
      logger.warning(`web: single sign-on refused: ${error.message}${error.detail ? ` (${error.detail})` : ""}`);
      return page(reply, 401, 'Login refused', error.message, false);
    }
  });
}
