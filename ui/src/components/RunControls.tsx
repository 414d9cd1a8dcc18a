import type { Role, RunState } from '../types';

interface Props {
  role: Role;
  state: RunState | undefined;
  editing: boolean;
  /** False while the run has no user count to change (an arrival rate, iteration scenarios). */
  canEdit?: boolean;
  /** The start form is showing (state ready, or "New test" was pressed). */
  starting: boolean;
  busy: boolean;
  onEdit(): void;
  onStop(): void;
  onReset(): void;
  onNewTest(): void;
}

/**
 * The buttons next to the header numbers. A viewer gets none of them (not disabled ones):
 * the server refuses the calls anyway, and buttons that always fail are noise.
 */
export function RunControls({ role, state, editing, canEdit = true, starting, busy, onEdit, onStop, onReset, onNewTest }: Props) {
  if (role === 'viewer') return null;
  const live = state === 'spawning' || state === 'running';
  return (
    <>
      {live && canEdit && !editing && (
        <button type="button" class="btn secondary" data-testid="edit-button" onClick={onEdit}>
          Edit
        </button>
      )}
      {(live || state === 'stopping') && (
        <button
          type="button"
          class="btn danger"
          data-testid="stop-button"
          onClick={onStop}
          disabled={busy || state === 'stopping'}
        >
          {state === 'stopping' ? 'Stopping…' : 'Stop'}
        </button>
      )}
      {state === 'stopped' && !starting && (
        <button type="button" class="btn primary" data-testid="new-test-button" onClick={onNewTest}>
          New test
        </button>
      )}
      {role === 'admin' && (
        <button type="button" class="btn secondary" data-testid="reset-button" onClick={onReset} disabled={busy}>
          Reset stats
        </button>
      )}
    </>
  );
}
