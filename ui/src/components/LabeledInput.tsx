import type { InputHTMLAttributes } from 'preact';

interface Props {
  label: string;
  value: string;
  onValue(value: string): void;
  'data-testid': string;
  name?: string;
  type?: 'number' | 'url' | 'password';
  inputMode?: 'numeric' | 'decimal' | 'url';
  autocomplete?: string;
  autocapitalize?: 'none';
  spellcheck?: boolean;
  required?: boolean;
  placeholder?: string;
  min?: number;
  step?: number | 'any';
  /** From invalid(): the field the form's error is about. */
  class?: string;
  'aria-invalid'?: 'true';
}

/** A form field: its label above an input; every prop but the label and value goes to the input. */
export function LabeledInput({ label, value, onValue, ...input }: Props) {
  return (
    <label class="field">
      <span>{label}</span>
      {/* The cast: Preact types an input's attributes per `type`, which a union of types doesn't pick. */}
      <input {...(input as InputHTMLAttributes<HTMLInputElement>)} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </label>
  );
}
