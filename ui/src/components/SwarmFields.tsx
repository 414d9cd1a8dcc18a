// The user count and spawn rate inputs, the same in the start and edit forms.
import type { FieldError } from './fields';
import { invalid } from './FormError';
import { LabeledInput } from './LabeledInput';

const SPECS = {
  user_count: { label: 'Number of users', inputMode: 'numeric', step: 1 },
  spawn_rate: { label: 'Spawn rate (users/s)', inputMode: 'decimal', step: 'any' },
} as const;

interface Props {
  /** The API field the input sets. */
  field: keyof typeof SPECS;
  'data-testid': string;
  name?: string;
  value: string;
  placeholder?: string;
  onValue(value: string): void;
  /** The form's error: the input is marked when it is about this field. */
  error: FieldError | null;
}

export function SwarmField({ field, error, ...props }: Props) {
  return <LabeledInput type="number" min={0} {...SPECS[field]} {...props} {...invalid(error, field)} />;
}
