import { useState } from 'preact/hooks';
import { ApiError, login } from '../api';
import type { LoginOptions, Session } from '../types';
import { Alert } from './FormError';
import { LabeledInput } from './LabeledInput';

interface Props {
  options: LoginOptions;
  /** Shown above the form, e.g. "Your session has expired." */
  notice?: string;
  onLoggedIn(session: Session): void;
}

export function Login({ options, notice, onLoggedIn }: Props) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError('');
    try {
      onLoggedIn(await login(username, password));
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        const wait = err.retryAfter ? ` Try again in ${Math.ceil(err.retryAfter)} s.` : '';
        setError(`${err.message}${wait}`);
      } else {
        setError(err instanceof Error ? err.message : 'Login failed.');
      }
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <div class="login-card">
        <h1 class="brand">Cicada</h1>
        <p class="muted">Sign in to see and control load tests.</p>
        {notice && <p class="notice">{notice}</p>}

        {options.password && (
          <form data-testid="login-form" onSubmit={submit} noValidate>
            <LabeledInput
              label="Username"
              data-testid="login-username"
              name="username"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              required
              value={username}
              onValue={setUsername}
            />
            <LabeledInput
              label="Password"
              data-testid="login-password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onValue={setPassword}
            />
            <Alert message={error} testid="login-error" />
            <button class="btn primary wide" type="submit" data-testid="login-submit" disabled={busy}>
              {busy ? 'Logging in…' : 'Log in'}
            </button>
          </form>
        )}

        {options.oidc && (
          <>
            {options.password && <div class="or">or</div>}
            {/* A fixed same-origin path: the server redirects to the provider. */}
            <a class={`btn wide ${options.password ? 'secondary' : 'primary'}`} href="/auth/oidc/login" data-testid="login-oidc">
              Log in with single sign-on
            </a>
          </>
        )}

        {!options.password && !options.oidc && (
          <p class="form-error" role="alert">
            This server offers no way to log in. Ask its administrator.
          </p>
        )}
      </div>
    </main>
  );
}
