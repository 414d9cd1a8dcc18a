// Server-side sessions: random ids, a CSRF token each, idle and absolute timeouts, revocable at logout.
import { randomBytes } from 'node:crypto';
import type { Role } from './roles.ts';

export type AuthMode = 'none' | 'users' | 'oidc';

export interface Session {
  readonly id: string;
  readonly user: string;
  readonly role: Role;
  readonly authMode: AuthMode;
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeen: number;
}

export interface SessionTimeouts {
  /** Ends a session unused for this long (ms). */
  idleMs: number;
  /** Ends a session this long after login, used or not (ms). */
  absoluteMs: number;
}

export const DEFAULT_TIMEOUTS: SessionTimeouts = { idleMs: 30 * 60_000, absoluteMs: 12 * 3600_000 };
/** More live sessions than this and the oldest is dropped: memory stays bounded whatever clients do. */
const MAX_SESSIONS = 10_000;

/** 256 random bits, URL-safe (ASVS 7.2.3 asks for ≥ 128). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly timeouts: SessionTimeouts = DEFAULT_TIMEOUTS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session with a fresh id and CSRF token (callers delete the old one: a new id at every login). */
  create(user: string, role: Role, authMode: AuthMode): Session {
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const t = this.now();
    const session: Session = { id: randomToken(), user, role, authMode, csrfToken: randomToken(), createdAt: t, lastSeen: t };
    this.sessions.set(session.id, session);
    return session;
  }

  /**
   * The live session with this id; undefined (and forgotten) when unknown or expired. A request touches it;
   * `touch: false` only looks (the live stream checks each second, which must not count as activity).
   */
  get(id: string | undefined, touch = true): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const t = this.now();
    if (t - session.lastSeen > this.timeouts.idleMs || t - session.createdAt > this.timeouts.absoluteMs) {
      this.sessions.delete(id);
      return undefined;
    }
    if (touch) session.lastSeen = t;
    return session;
  }

  delete(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}
