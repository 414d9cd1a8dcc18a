import { useCallback, useEffect, useState } from 'preact/hooks';
import { getSession, logout, onUnauthorized, type SessionResult } from './api';
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
        notice: notice || (cur.kind === 'session' ? 'Your session has ended. Please log in again.' : ''),
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
    // Any 401 means the session is gone (or, in auth mode none, needs re-creating): ask again.
    onUnauthorized(check);
    check();
    return () => onUnauthorized(null);
  }, [check]);

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
      return <Dashboard key={auth.session.user} session={auth.session} onSessionCheck={apply} onLogout={doLogout} />;
  }
}
