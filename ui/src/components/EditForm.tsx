import { useState } from 'preact/hooks';
import { ApiError, swarm } from '../api';
import { fieldErrorFrom, isFieldError, parseSpawnRate, parseUserCount, type FieldError } from './fields';
import { FormError, invalid } from './FormError';

interface Props {
  /** The run's current target user count. */
  users: number | null;
  /** The spawn rate last sent from this browser (start or edit); null when unknown (field left empty). */
  spawnRate: number | null;
  onDone(spawnRate: number): void;
  onCancel(): void;
}

/** Change the user count and spawn rate of the running test (POST /swarm again). */
export function EditForm({ users: initialUsers, spawnRate, onDone, onCancel }: Props) {
  const [users, setUsers] = useState(initialUsers === null ? '' : String(initialUsers));
  const [rate, setRate] = useState(spawnRate === null ? '' : String(spawnRate));
  const [error, setError] = useState<FieldError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const u = parseUserCount(users);
    if (isFieldError(u)) return setError(u);
    const r = parseSpawnRate(rate);
    if (isFieldError(r)) return setError(r);
    setBusy(true);
    setError(null);
    try {
      await swarm({ user_count: u, spawn_rate: r });
      onDone(r);
    } catch (err) {
      setError(err instanceof ApiError ? fieldErrorFrom(err.message, err.field) : { message: String(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel">
      <h2>Change the running test</h2>
      <form data-testid="edit-form" class="form-grid" onSubmit={submit} noValidate>
        <label class="field">
          <span>Number of users</span>
          <input
            data-testid="edit-users"
            type="number"
            inputMode="numeric"
            min={0}
            step={1}
            value={users}
            onInput={(e) => setUsers(e.currentTarget.value)}
            {...invalid(error, 'user_count')}
          />
        </label>
        <label class="field">
          <span>Spawn rate (users/s)</span>
          <input
            data-testid="edit-spawn-rate"
            type="number"
            inputMode="decimal"
            min={0}
            step="any"
            value={rate}
            placeholder="users started per second"
            onInput={(e) => setRate(e.currentTarget.value)}
            {...invalid(error, 'spawn_rate')}
          />
        </label>
        <div class="span-all">
          <FormError error={error} />
          <div class="buttons">
            <button class="btn primary" type="submit" data-testid="edit-submit" disabled={busy}>
              {busy ? 'Updating…' : 'Update'}
            </button>
            <button class="btn secondary" type="button" onClick={onCancel}>
              Cancel
            </button>
          </div>
        </div>
      </form>
    </section>
  );
}
