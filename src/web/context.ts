// What the route modules share: the server's options and the context built from them (sessions, auth mode, live numbers).
import type { FastifyReply } from 'fastify';
import type { Logger } from '../core/logger.ts';
import type { ConnectionLimits } from './connection-guard.ts';
import type { LiveNumbers } from './live-numbers.ts';
import type { LoginBackoff } from './login-throttle.ts';
import type { OidcClient } from './oidc.ts';
import type { Role } from './roles.ts';
import type { AuthMode, Session, SessionStore, SessionTimeouts } from './sessions.ts';
import type { WebUser } from './users-file.ts';
import type { WebRun } from './web-run.ts';

export interface WebServerOptions {
  host: string;
  port: number;
  /** PEM certificate and key: serve HTTPS (then cookies get `Secure` and `__Host-`, and HSTS is sent). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Users who may log in with a password; with neither this nor `oidc`, auth mode is none (loopback only). */
  users?: ReadonlyMap<string, WebUser>;
  oidc?: OidcClient;
  run: WebRun;
  /** Folder of the built UI (index.html and assets/). */
  uiDir: string;
  logger: Logger;
  sessionTimeouts?: SessionTimeouts;
  now?: () => number;
  /** Login attempts per client address per window (default 10 per minute). */
  loginRateLimit?: { max: number; windowMs: number };
  /** The wait after failed logins per user name, from any address (default: 3 free, then 1 s doubling up to 5 min). */
  loginBackoff?: LoginBackoff;
  /** Idle timeout and connection caps (default: 10 s, 1000 in all, 100 per client address). */
  connectionLimits?: Partial<ConnectionLimits>;
  /** Reverse proxies (addresses or CIDRs, --web-trust-proxy) whose X-Forwarded-For names the client. */
  trustProxy?: readonly string[];
  /** Interval of the live stream's events (default 1 s). */
  streamIntervalMs?: number;
  /** Open live streams at most, in all and per session (default 100 and 10). */
  streamLimits?: { total: number; perSession: number };
  /** The bearer token GET /metrics accepts instead of a session (--metrics-token-file). */
  metricsToken?: string;
}

/** Shared by the route modules. */
export interface WebContext {
  options: WebServerOptions;
  sessions: SessionStore;
  authMode: AuthMode;
  secure: boolean;
  cookieName: string;
  logger: Logger;
  /** Starts a session for a logged-in user (a new id every time) and sets its cookie. */
  login(reply: FastifyReply, previous: Session | undefined, user: string, role: Role, mode: AuthMode): Session;
  sessionJson(session: Session): { user: string; role: Role; csrfToken: string; authMode: AuthMode };
  /** Numbers derived across reports (the current arrival rate) and what /swarm last started: shared by /stats/requests and /stream. */
  live: LiveNumbers;
}
