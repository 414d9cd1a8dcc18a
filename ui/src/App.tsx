import { useCallback, useEffect, useState } from 'preact/hooks';
import { getSession, logout, onSessionResult, type SessionResult } from './api';
import { Dashboard } from './components/Dashboard';
import { Login } from './components/Login';
import type { LoginOptions, Session } from './types';

type Auth =
  | { kind: 'loading' }
  | { kind: 'offline'; message: string }
  | { kind: 'login'; options: LoginOptions; notice: string }
  | { kind: 'session'; session: Session };

export function App() {
  const [auth, setAuth] = useState<Auth>({ kind: 'loading' });

  const apply = useCallback((r: SessionResult, notice = '') => {
    if (r.kind === 'session') {
      // Keep the same object when nothing changed, so the dashboard doesn't re-render.
      setAuth((cur) =>
        cur.kind === 'session' &&
        cur.session.csrfToken === r.session.csrfToken &&
        cur.session.role === r.session.role &&
        cur.session.user === r.session.user
          ? cur
          : { kind: 'session', session: r.session },
      );
    } else {
      setAuth((cur) => ({
        kind: 'login',
        options: r.login,
        // A late re-check must not wipe a notice already shown (e.g. "You have logged out.").
        notice:
          notice ||
          (cur.kind === 'session'
            ? 'Your session has ended. Please log in again.'
            : cur.kind === 'login'
              ? cur.notice
              : ''),
      }));
    }
  }, []);

  const check = useCallback(() => {
    getSession()
      .then((r) => apply(r))
      .catch((e: unknown) =>
        setAuth({ kind: 'offline', message: e instanceof Error ? e.message : 'Cannot reach the server.' }),
      );
  }, [apply]);

  useEffect(() => {
    // A call refused for the session (401, or a 403 about the session/CSRF token) or a broken
    // live stream re-checks GET /session (api.refreshSession): a new session (and CSRF token) in
    // auth mode none, after a server restart; otherwise the login form.
    onSessionResult((r) => apply(r));
    check();
    return () => onSessionResult(null);
  }, [apply, check]);

  const doLogout = () => {
    logout()
      .catch(() => {
        /* the session may already be gone; show the login either way */
      })
      .finally(() =>
        getSession()
          .then((r) => apply(r, 'You have logged out.'))
          .catch(() => setAuth({ kind: 'login', options: { password: true, oidc: false }, notice: '' })),
      );
  };

  switch (auth.kind) {
    case 'loading':
      return <p class="boot muted">Loading…</p>;
    case 'offline':
      return (
        <main class="login">
          <div class="login-card">
            <h1 class="brand">Cicada</h1>
            <p class="form-error" role="alert">
              {auth.message}
            </p>
            <button type="button" class="btn primary" onClick={check}>
              Try again
            </button>
          </div>
        </main>
      );
    case 'login':
      return (
        <Login
          options={auth.options}
          notice={auth.notice}
          onLoggedIn={(session) => setAuth({ kind: 'session', session })}
        />
      );
    case 'session':
      // key: a new login (another user) starts with a fresh dashboard.
      return <Dashboard key={auth.session.user} session={auth.session} onLogout={doLogout} />;
  }
}
