import type { FieldError } from './fields';

export function FormError({ error }: { error: FieldError | null }) {
  if (!error) return null;
  return (
    <p class="form-error" role="alert" data-testid="form-error">
      {error.message}
    </p>
  );
}

/** A message in the form-error style; nothing when the message is empty. */
export function Alert({ message, testid }: { message: string; testid?: string }) {
  if (!message) return null;
  return (
    <p class="form-error" role="alert" data-testid={testid}>
      {message}
    </p>
  );
}

/** Props that mark an input as the one the error is about. */
export function invalid(error: FieldError | null, field: string) {
  const bad = error?.field === field;
  return { 'aria-invalid': bad ? ('true' as const) : undefined, class: bad ? 'invalid' : undefined };
}
