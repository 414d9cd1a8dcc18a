import { useState } from 'preact/hooks';
import { ApiError, swarm, type SwarmRequest } from '../api';
import { formatRunTime } from '../format';
import type { StartMode, StartValues } from '../prefs';
import type { Config } from '../types';
import { fieldErrorFrom, isFieldError, parseArrivalRate, parseMaxUsers, parseUsersAndRate, type FieldError } from './fields';
import { invalid } from './FormError';
import { FormFooter } from './FormFooter';
import { LabeledInput } from './LabeledInput';
import { ModeChoice, ScenarioChoice } from './ScenarioChoice';
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
  const declared = config.scenarios ?? [];
  const shape = config.shape_class;
  // A LoadShape decides the load itself: the server refuses an arrival rate with one.
  const modes: StartMode[] = ['users', ...(shape ? [] : ['arrival' as const]), ...(declared.length > 0 ? ['scenarios' as const] : [])];
  const [mode, setMode] = useState<StartMode>(() =>
    initial?.mode !== undefined && modes.includes(initial.mode) ? initial.mode : declared.length > 0 ? 'scenarios' : 'users',
  );
  const [arrivalRate, setArrivalRate] = useState(initial?.arrivalRate ?? '');
  const [maxUsers, setMaxUsers] = useState(initial?.maxUsers ?? '');
  const [scenarios, setScenarios] = useState<string[]>(() => {
    const kept = initial?.scenarios ? declared.filter((d) => initial.scenarios?.includes(d.name)).map((d) => d.name) : [];
    return kept.length > 0 ? kept : declared.map((d) => d.name);
  });
  const [error, setError] = useState<FieldError | null>(null);
  const [busy, setBusy] = useState(false);

  const allClasses = config.user_classes;
  const shapeHint = shape ? 'set by the shape' : '';

  const build = (): SwarmRequest | FieldError => {
    const body: SwarmRequest = {};
    const time = runTime.trim();
    if (mode === 'scenarios') {
      if (scenarios.length === 0) return { message: 'Choose at least one scenario.', field: 'scenarios' };
      // All checked means "all": also those a restarted server may have added.
      body.scenarios = scenarios.length >= declared.length ? 'all' : declared.filter((d) => scenarios.includes(d.name)).map((d) => d.name);
      if (time !== '') body.run_time = time;
      return body;
    }
    if (mode === 'arrival') {
      const a = parseArrivalRate(arrivalRate);
      if (isFieldError(a)) return a;
      body.arrival_rate = a;
      const m = parseMaxUsers(maxUsers);
      if (isFieldError(m)) return m;
      if (m !== undefined) body.max_users = m;
      return withTarget(body, time);
    }
    // With a LoadShape the shape decides the user count; both fields may stay empty.
    if (!(shape && users.trim() === '' && rate.trim() === '')) {
      const ur = parseUsersAndRate(users, rate);
      if (isFieldError(ur)) return ur;
      body.user_count = ur.user_count;
      body.spawn_rate = ur.spawn_rate;
    }
    return withTarget(body, time);
  };

  /** Host, run time and user classes: the same for a user count and an arrival rate. */
  const withTarget = (body: SwarmRequest, time: string): SwarmRequest | FieldError => {
    const h = host.trim();
    if (h !== '') {
      if (!/^https?:\/\/\S+$/i.test(h)) return { message: 'Host must be an http:// or https:// URL.', field: 'host' };
      body.host = h;
    }
    if (time !== '') body.run_time = time;
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
        mode,
        arrivalRate,
        maxUsers,
        scenarios: scenarios.length >= declared.length ? null : declared.filter((d) => scenarios.includes(d.name)).map((d) => d.name),
      });
    } catch (err) {
      setError(err instanceof ApiError ? fieldErrorFrom(err.message, err.field) : { message: String(err) });
    } finally {
      setBusy(false);
    }
  };

  const toggle = (name: string, on: boolean) =>
    setClasses((cur) => (on ? [...cur.filter((c) => c !== name), name] : cur.filter((c) => c !== name)));
  const toggleScenario = (name: string, on: boolean) =>
    setScenarios((cur) => (on ? [...cur.filter((c) => c !== name), name] : cur.filter((c) => c !== name)));
  const choose = (m: StartMode) => {
    setMode(m);
    setError(null);
  };

  return (
    <section class="panel">
      <h2>Start a new load test</h2>
      <form data-testid="start-form" class="form-grid" onSubmit={submit} noValidate>
        {modes.length > 1 && <ModeChoice modes={modes} mode={mode} onMode={choose} />}
        {mode === 'users' && shape && (
          <p class="hint span-all" data-testid="start-shape">
            Uses LoadShape <strong>{shape}</strong>: the user count is optional.
          </p>
        )}
        {mode === 'users' && (
          <>
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
          </>
        )}
        {mode === 'arrival' && (
          <>
            <LabeledInput
              label="Arrival rate (iterations/s)"
              data-testid="start-arrival-rate"
              name="arrival_rate"
              type="number"
              inputMode="decimal"
              min={0}
              step="any"
              value={arrivalRate}
              onValue={setArrivalRate}
              {...invalid(error, 'arrival_rate')}
            />
            <LabeledInput
              label="Max users (optional)"
              data-testid="start-max-users"
              name="max_users"
              type="number"
              inputMode="numeric"
              min={1}
              step={1}
              placeholder="10 × the rate"
              value={maxUsers}
              onValue={setMaxUsers}
              {...invalid(error, 'max_users')}
            />
          </>
        )}
        {mode !== 'scenarios' && (
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
        )}
        <LabeledInput
          label={mode === 'scenarios' ? 'Run time (optional, caps every scenario)' : 'Run time (optional)'}
          data-testid="start-run-time"
          name="run_time"
          autocomplete="off"
          spellcheck={false}
          placeholder="e.g. 30s, 5m, 1h30m"
          value={runTime}
          onValue={setRunTime}
          {...invalid(error, 'run_time')}
        />

        {mode === 'scenarios' && (
          <ScenarioChoice scenarios={declared} chosen={scenarios} invalid={error?.field === 'scenarios'} onToggle={toggleScenario} />
        )}
        {mode !== 'scenarios' && allClasses.length > 1 && (
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
