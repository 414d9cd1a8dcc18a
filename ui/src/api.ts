// Same-origin fetch helpers for the REST API (docs/web-api.md): JSON in and out,
// the session cookie, and the CSRF token on every POST.

import type {
  Config,
  ExceptionEntry,
  LoginOptions,
  Session,
  StatsSnapshot,
  StreamEvent,
  TaskRatioNode,
  TaskRatios,
} from './types';

/** A failed call; `message`/`field` come from the server's `{success:false, message, field?}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly field: string | undefined;
  readonly retryAfter: number | undefined;
  /** The parsed body (the 401 of /session says which login methods exist). */
  readonly body: unknown;

  constructor(status: number, message: string, opts: { field?: string; retryAfter?: number; body?: unknown } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.field = opts.field;
    this.retryAfter = opts.retryAfter;
    this.body = opts.body;
  }
}

let csrfToken = '';
let sessionListener: ((result: SessionResult) => void) | null = null;
let sessionCheck: Promise<SessionResult> | null = null;

/** Remember the token of the current session (from /session or /login). */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/**
 * Told every answer of a session re-check (see refreshSession): a fresh session (a new CSRF token,
 * e.g. after the server restarted in auth mode none) or the login options (the session is gone).
 */
export function onSessionResult(listener: ((result: SessionResult) => void) | null): void {
  sessionListener = listener;
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // e.g. `ok` from /stats/reset if the server answers plain text
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface RequestOptions {
  body?: unknown;
  /** The caller deals with 401 itself (/session, /login, /logout): no session re-check, no retry. */
  own401?: boolean;
}

async function send(method: 'GET' | 'POST', path: string, opts: RequestOptions): Promise<unknown> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method === 'POST') {
    headers['Content-Type'] = 'application/json';
    // /login has no session yet, so there may be no token to send.
    if (csrfToken !== '') headers['X-CSRF-Token'] = csrfToken;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: method === 'POST' ? JSON.stringify(opts.body ?? {}) : null,
    });
  } catch {
    throw new ApiError(0, 'Cannot reach the Cicada server.');
  }
  const body = parseBody(await res.text());
  if (res.ok) return body;

  const message =
    isRecord(body) && typeof body.message === 'string' && body.message !== ''
      ? body.message
      : `Request failed (HTTP ${res.status}).`;
  const field = isRecord(body) && typeof body.field === 'string' ? body.field : undefined;
  const retry = Number(res.headers.get('Retry-After'));
  throw new ApiError(res.status, message, {
    ...(field !== undefined ? { field } : {}),
    ...(Number.isFinite(retry) && retry > 0 ? { retryAfter: retry } : {}),
    body,
  });
}

/**
 * A refusal that a fresh session may cure: any 401, and a 403 about the session or its CSRF token
 * (the cookie of a process that has since restarted, a token from before a re-login). Not a 403 for
 * the role ("your role … may not do this") or a foreign origin: asking again would change nothing.
 */
export function isSessionProblem(e: unknown): boolean {
  if (!(e instanceof ApiError)) return false;
  if (e.status === 401) return true;
  return e.status === 403 && /csrf|session|log ?in/i.test(e.message) && !/\brole\b/i.test(e.message);
}

async function request(method: 'GET' | 'POST', path: string, opts: RequestOptions = {}): Promise<unknown> {
  try {
    return await send(method, path, opts);
  } catch (e) {
    if (opts.own401 || !isSessionProblem(e)) throw e;
    // Ask GET /session again: in auth mode none that makes a new session (and token); otherwise a
    // 401 there means "log in", which the listener shows. Then try the call once more. Retrying a
    // POST is safe: the server refused it before doing anything.
    const r = await refreshSession().catch(() => null);
    if (r?.kind !== 'session') throw e;
    return await send(method, path, opts);
  }
}

export type SessionResult =
  | { kind: 'session'; session: Session }
  | { kind: 'login'; login: LoginOptions; message: string };

function toSession(body: unknown): Session {
  if (!isRecord(body) || typeof body.csrfToken !== 'string') {
    throw new ApiError(500, 'The server sent an unexpected session.');
  }
  const role = body.role === 'admin' || body.role === 'operator' ? body.role : 'viewer';
  return {
    user: typeof body.user === 'string' ? body.user : '',
    role,
    csrfToken: body.csrfToken,
    authMode: typeof body.authMode === 'string' ? body.authMode : 'users',
  };
}

/** GET /session: the current session, or which ways to log in. */
export async function getSession(): Promise<SessionResult> {
  try {
    const session = toSession(await request('GET', '/session', { own401: true }));
    setCsrfToken(session.csrfToken);
    return { kind: 'session', session };
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      const body = e.body;
      const login = isRecord(body) && isRecord(body.login) ? body.login : {};
      return {
        kind: 'login',
        // Default to the password form if the server doesn't say.
        login: { password: login.password !== false, oidc: login.oidc === true },
        message: '',
      };
    }
    throw e;
  }
}

/**
 * Check the session again (after a failed call or a broken live stream) and tell the listener.
 * Calls made at the same time share one request. Rejects when the server can't be reached.
 */
export function refreshSession(): Promise<SessionResult> {
  if (!sessionCheck) {
    sessionCheck = getSession()
      .then((r) => {
        sessionListener?.(r);
        return r;
      })
      .finally(() => {
        sessionCheck = null;
      });
  }
  return sessionCheck;
}

export async function login(username: string, password: string): Promise<Session> {
  setCsrfToken('');
  const session = toSession(await request('POST', '/login', { body: { username, password }, own401: true }));
  setCsrfToken(session.csrfToken);
  return session;
}

export async function logout(): Promise<void> {
  try {
    await request('POST', '/logout', { own401: true });
  } finally {
    setCsrfToken('');
  }
}

export interface SwarmRequest {
  user_count?: number;
  spawn_rate?: number;
  host?: string;
  run_time?: string;
  user_classes?: string[];
  /** The open model: iterations started per second (then no user_count/spawn_rate). */
  arrival_rate?: number;
  max_users?: number;
  /** Declared scenarios to start, or 'all'. */
  scenarios?: string[] | 'all';
}

export const swarm = (body: SwarmRequest): Promise<unknown> => request('POST', '/swarm', { body });
export const stop = (): Promise<unknown> => request('POST', '/stop');
export const resetStats = (): Promise<unknown> => request('POST', '/stats/reset');
export const getConfig = async (): Promise<Config> => (await request('GET', '/config')) as Config;
export const getStats = async (): Promise<StatsSnapshot> =>
  (await request('GET', '/stats/requests')) as StatsSnapshot;

/** GET /tasks: each task's share within its class and of the whole run. */
export async function getTasks(): Promise<TaskRatios> {
  const body = await request('GET', '/tasks');
  const part = (v: unknown): Record<string, TaskRatioNode> => (isRecord(v) ? (v as Record<string, TaskRatioNode>) : {});
  return isRecord(body) ? { per_class: part(body.per_class), total: part(body.total) } : { per_class: {}, total: {} };
}

export async function getExceptions(): Promise<ExceptionEntry[]> {
  const body = await request('GET', '/exceptions');
  return isRecord(body) && Array.isArray(body.exceptions) ? (body.exceptions as ExceptionEntry[]) : [];
}

export interface StreamHandlers {
  /** The connection (re)opened: the next event carries the full history. */
  onOpen(): void;
  onStats(event: StreamEvent): void;
  /** The connection failed; `closed` when EventSource gave up (a 401/403 answer, or `expired`). */
  onError(closed: boolean): void;
}

/** Subscribe to /stream. EventSource reconnects by itself after network errors. */
export function openStream(handlers: StreamHandlers): () => void {
  const es = new EventSource('/stream');
  es.addEventListener('open', () => handlers.onOpen());
  es.addEventListener('stats', (ev: MessageEvent<string>) => {
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return; // a torn or foreign message: wait for the next one
    }
    if (isRecord(data)) handlers.onStats(data as unknown as StreamEvent);
  });
  es.addEventListener('error', () => handlers.onError(es.readyState === EventSource.CLOSED));
  // The server ends the stream of a session that expired or logged out with an `expired`
  // event; EventSource would only reconnect into a 401, so stop here and let the caller check.
  es.addEventListener('expired', () => {
    es.close();
    handlers.onError(true);
  });
  return () => es.close();
}
