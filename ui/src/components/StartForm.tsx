import { useState } from 'preact/hooks';
import { ApiError, swarm, type SwarmRequest } from '../api';
import { formatRunTime } from '../format';
import type { StartValues } from '../prefs';
import type { Config } from '../types';
import { fieldErrorFrom, isFieldError, parseUsersAndRate, type FieldError } from './fields';
import { invalid } from './FormError';
import { FormFooter } from './FormFooter';
import { LabeledInput } from './LabeledInput';
import { SwarmField } from './SwarmFields';

interface Props {
  config: Config;
  /** The last values started with (this tab, or localStorage): "New test" and a reload start from them. */
  initial: StartValues | null;
  onStarted(values: StartValues): void;
  /** Shown as "Cancel" when the form was opened by "New test". */
  onCancel?: () => void;
}

const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));

export function StartForm({ config, initial, onStarted, onCancel }: Props) {
  // Without -u/-r on the command line, start from Locust's defaults (1 user, 1/s) unless a
  // LoadShape decides.
  const fallback = config.shape_class ? '' : '1';
  const [users, setUsers] = useState(initial?.users ?? (str(config.users) || fallback));
  const [rate, setRate] = useState(initial?.rate ?? (str(config.spawn_rate) || fallback));
  const [host, setHost] = useState(initial?.host ?? str(config.host));
  // /config gives seconds (120); the form speaks like -t (2m). The server takes both.
  const [runTime, setRunTime] = useState(initial?.runTime ?? formatRunTime(config.run_time));
  const [classes, setClasses] = useState<string[]>(() => {
    const kept = initial?.classes ? config.user_classes.filter((c) => initial.classes?.includes(c)) : [];
    // None of the remembered classes exists any more (another cicadafile): all of them.
    return kept.length > 0 ? kept : config.user_classes;
  });
  const [error, setError] = useState<FieldError | null>(null);
  const [busy, setBusy] = useState(false);

  const shape = config.shape_class;
  const allClasses = config.user_classes;
  const shapeHint = shape ? 'set by the shape' : '';

  const build = (): SwarmRequest | FieldError => {
    const body: SwarmRequest = {};
    // With a LoadShape the shape decides the user count; both fields may stay empty.
    if (!(shape && users.trim() === '' && rate.trim() === '')) {
      const ur = parseUsersAndRate(users, rate);
      if (isFieldError(ur)) return ur;
      body.user_count = ur.user_count;
      body.spawn_rate = ur.spawn_rate;
    }
    const h = host.trim();
    if (h !== '') {
      if (!/^https?:\/\/\S+$/i.test(h)) return { message: 'Host must be an http:// or https:// URL.', field: 'host' };
      body.host = h;
    }
    if (runTime.trim() !== '') body.run_time = runTime.trim();
    if (allClasses.length > 1) {
      if (classes.length === 0) return { message: 'Choose at least one user class.', field: 'user_classes' };
      // All checked means "all": leave the field out.
      if (classes.length < allClasses.length) body.user_classes = allClasses.filter((c) => classes.includes(c));
    }
    return body;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const body = build();
    if (isFieldError(body)) {
      setError(body);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await swarm(body);
      onStarted({
        users,
        rate,
        // Unchanged from the server's default: remember "the default", not this value, so a
        // server restarted with another -H prefills its own host.
        host: host.trim() === str(config.host) ? null : host,
        runTime,
        classes: classes.length >= allClasses.length ? null : allClasses.filter((c) => classes.includes(c)),
      });
    } catch (err) {
      setError(err instanceof ApiError ? fieldErrorFrom(err.message, err.field) : { message: String(err) });
    } finally {
      setBusy(false);
    }
  };

  const toggle = (name: string, on: boolean) =>
    setClasses((cur) => (on ? [...cur.filter((c) => c !== name), name] : cur.filter((c) => c !== name)));

  return (
    <section class="panel">
      <h2>Start a new load test</h2>
      <form data-testid="start-form" class="form-grid" onSubmit={submit} noValidate>
        {shape && (
          <p class="hint span-all" data-testid="start-shape">
            Uses LoadShape <strong>{shape}</strong>: the user count is optional.
          </p>
        )}
        <SwarmField
          field="user_count"
          data-testid="start-users"
          name="user_count"
          value={users}
          placeholder={shapeHint}
          onValue={setUsers}
          error={error}
        />
        <SwarmField
          field="spawn_rate"
          data-testid="start-spawn-rate"
          name="spawn_rate"
          value={rate}
          placeholder={shapeHint}
          onValue={setRate}
          error={error}
        />
        <LabeledInput
          label="Host"
          data-testid="start-host"
          name="host"
          type="url"
          inputMode="url"
          autocomplete="off"
          spellcheck={false}
          placeholder="https://example.com"
          value={host}
          onValue={setHost}
          {...invalid(error, 'host')}
        />
        <LabeledInput
          label="Run time (optional)"
          data-testid="start-run-time"
          name="run_time"
          autocomplete="off"
          spellcheck={false}
          placeholder="e.g. 30s, 5m, 1h30m"
          value={runTime}
          onValue={setRunTime}
          {...invalid(error, 'run_time')}
        />

        {allClasses.length > 1 && (
          <fieldset class={`classes span-all${error?.field === 'user_classes' ? ' invalid' : ''}`}>
            <legend>User classes</legend>
            {allClasses.map((name) => (
              <label class="check" key={name}>
                <input
                  type="checkbox"
                  data-testid={`start-class-${name}`}
                  checked={classes.includes(name)}
                  onChange={(e) => toggle(name, e.currentTarget.checked)}
                />
                <span>{name}</span>
              </label>
            ))}
          </fieldset>
        )}

        <FormFooter
          error={error}
          busy={busy}
          submitTestId="start-submit"
          submitLabel="Start"
          busyLabel="Starting…"
          onCancel={onCancel}
        />
      </form>
    </section>
  );
}
