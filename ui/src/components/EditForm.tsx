import { useState } from 'preact/hooks';
import { ApiError, swarm } from '../api';
import { fieldErrorFrom, isFieldError, parseUsersAndRate, type FieldError } from './fields';
import { FormFooter } from './FormFooter';
import { SwarmField } from './SwarmFields';

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
    const body = parseUsersAndRate(users, rate);
    if (isFieldError(body)) return setError(body);
    setBusy(true);
    setError(null);
    try {
      await swarm(body);
      onDone(body.spawn_rate);
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
        <SwarmField field="user_count" data-testid="edit-users" value={users} onValue={setUsers} error={error} />
        <SwarmField
          field="spawn_rate"
          data-testid="edit-spawn-rate"
          value={rate}
          placeholder="users started per second"
          onValue={setRate}
          error={error}
        />
        <FormFooter
          error={error}
          busy={busy}
          submitTestId="edit-submit"
          submitLabel="Update"
          busyLabel="Updating…"
          onCancel={onCancel}
        />
      </form>
    </section>
  );
}
