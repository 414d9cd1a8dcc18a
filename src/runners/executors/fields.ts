// Readers of scenario fields as they come from a cicadafile (numbers, strings), TOML or the CLI: typed value or a UsageError naming the field.
import { UsageError } from '../../core/errors.ts';
import type { Stage } from '../../core/executor.ts';
import { parseTimeSpan } from '../../core/parse-values.ts';

/** The scenario and field a message names, e.g. `scenario 'checkout': rate`. */
export function fieldName(where: string, field: string): string {
  return `${where}: ${field}`;
}

/** A time span in ms: a number of seconds or text such as `500ms`, `30s`, `5m`, `1h30m`. */
export function durationMs(raw: unknown, field: string, where: string, options: { allowZero?: boolean } = {}): number {
  const name = fieldName(where, field);
  let seconds: number;
  if (typeof raw === 'number') seconds = raw;
  else if (typeof raw === 'string' && /^\s*\d*\.?\d+ms\s*$/.test(raw)) seconds = Number(raw.trim().slice(0, -2)) / 1000;
  else if (typeof raw === 'string') seconds = parseTimeSpan(raw, name);
  else throw new UsageError(`${name} must be a time span, got ${describe(raw)}`, `e.g. ${field} = '30s' (or a number of seconds)`);
  if (!Number.isFinite(seconds) || seconds < 0 || (seconds === 0 && options.allowZero !== true)) {
    throw new UsageError(`${name} must be a time span ${options.allowZero === true ? '≥ 0' : '> 0'}, got ${describe(raw)}`, `e.g. ${field} = '30s'`);
  }
  return Math.round(seconds * 1000);
}

/** A whole number ≥ `min` (numbers, or digits in text). */
export function wholeNumber(raw: unknown, field: string, where: string, min = 0): number {
  const value = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${fieldName(where, field)} must be a whole number ≥ ${min}, got ${describe(raw)}`, `e.g. ${field} = ${Math.max(min, 10)}`);
  }
  return value;
}

/** A number > 0 (a rate), or ≥ 0 with `allowZero` (a stage's target rate). */
export function positiveNumber(raw: unknown, field: string, where: string, options: { allowZero?: boolean } = {}): number {
  const value = typeof raw === 'string' && /^\s*\d*\.?\d+\s*$/.test(raw) ? Number(raw) : raw;
  const ok = typeof value === 'number' && Number.isFinite(value) && (value > 0 || (options.allowZero === true && value === 0));
  if (!ok) {
    throw new UsageError(`${fieldName(where, field)} must be a number ${options.allowZero === true ? '≥ 0' : '> 0'}, got ${describe(raw)}`, `e.g. ${field} = 100`);
  }
  return value;
}

/** `[{ duration, target }, …]`: at least one stage, each a duration > 0 and a target ≥ 0 (whole when `whole`). */
export function stages(raw: unknown, where: string, whole: boolean): Stage[] {
  const example = "stages = [{ duration: '30s', target: 10 }, { duration: '1m', target: 0 }]";
  if (!Array.isArray(raw) || raw.length === 0) throw new UsageError(`${fieldName(where, 'stages')} must be a list of { duration, target }, got ${describe(raw)}`, example);
  return raw.map((stage: unknown, i) => {
    const field = `stages[${i}]`;
    if (typeof stage !== 'object' || stage === null || Array.isArray(stage)) {
      throw new UsageError(`${fieldName(where, field)} must be { duration, target }, got ${describe(stage)}`, example);
    }
    const { duration, target, ...rest } = stage as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new UsageError(`${fieldName(where, field)}: unknown field '${extra}'`, 'a stage has only duration and target');
    return {
      durationMs: durationMs(duration, `${field}.duration`, where),
      target: whole ? wholeNumber(target, `${field}.target`, where) : positiveNumber(target, `${field}.target`, where, { allowZero: true }),
    };
  });
}

/** A short, safe rendering of a bad value for a message. */
export function describe(raw: unknown): string {
  if (raw === undefined) return 'nothing';
  if (typeof raw === 'string') return `'${raw.slice(0, 60)}'`;
  if (typeof raw === 'number' || typeof raw === 'boolean' || raw === null) return String(raw);
  if (Array.isArray(raw)) return 'a list';
  return typeof raw === 'object' ? 'an object' : typeof raw;
}
