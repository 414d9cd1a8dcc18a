import type { FieldError } from './fields';
import { FormError } from './FormError';

interface Props {
  error: FieldError | null;
  busy: boolean;
  submitTestId: string;
  /** The submit button's text, and its text while the request is out. */
  submitLabel: string;
  busyLabel: string;
  /** A "Cancel" button when given. */
  onCancel?: () => void;
}

/** The end of the start and edit forms: the error, then submit and (optionally) cancel. */
export function FormFooter({ error, busy, submitTestId, submitLabel, busyLabel, onCancel }: Props) {
  return (
    <div class="span-all">
      <FormError error={error} />
      <div class="buttons">
        <button class="btn primary" type="submit" data-testid={submitTestId} disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
        {onCancel && (
          <button class="btn secondary" type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </div>
  );
}
