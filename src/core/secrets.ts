// Secrets: secret('NAME') and the one registry + redact() that every edge where text leaves a process applies.
import { CicadafileError } from './errors.ts';

/** What a registered value, or a URL's password, becomes in output. */
export const MASK = '***';

/** Shorter values are not masked: `***` in place of every `abc` would mangle the output. */
export const MIN_SECRET_LENGTH = 4;

/** Where secret('NAME') looks. The CLI gives the file reader (core does no I/O of its own). */
export interface SecretSource {
  /** Read first: `NAME` in the environment (an empty variable counts as unset). */
  env: Readonly<Record<string, string | undefined>>;
  /** `--secrets-dir`: a folder of files named after secrets, as a mounted Kubernetes Secret. */
  dir?: string | undefined;
  /** The text of the file `name` in `dir`, or undefined when there is no such file. */
  readFile?: (dir: string, name: string) => string | undefined;
  /** Told about values too short to mask. */
  warn?: (message: string) => void;
}

const registered = new Set<string>();
/** All registered values, longest first, as one alternation; rebuilt when one is added (rarely), never per use. */
let pattern: RegExp | undefined;
let source: SecretSource = { env: process.env };
/** Values already read: a task may call secret() on every iteration without a file read each time. */
const cache = new Map<string, string>();

/**
 * `scheme://user:password@` → `scheme://user:***@`. The password stops at what cannot be in one
 * unencoded (`@ / ? #`, quotes, `<>`, whitespace, a backslash of an escape).
 */
const URL_PASSWORD = /(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/?#@:"'<>\\]*:)[^\s/?#@"'<>\\]+@/g;

/** Kubernetes Secret keys and environment variable names: no path separators, no `..`. */
const SECRET_NAME = /^(?!\.\.?$)[A-Za-z0-9_.-]+$/;

const NAMED_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const JSON_SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': 'n', '\r': 'r', '\t': 't', '\b': 'b', '\f': 'f' };

const utf8 = new TextEncoder();

/** A hex number matched in either case (`%2f` and `%2F`, `&#x2F;`). */
function hexPattern(hex: string): string {
  return hex.replace(/[a-f]/gi, (d) => `[${d.toLowerCase()}${d.toUpperCase()}]`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/**
 * One character of a secret in every form output gives it: as is; HTML/XML-escaped (named or numeric);
 * CSV-doubled (`""`); JSON-escaped at any depth (`\"`, `\\\"`, `\u0022`); percent-encoded (any case) or
 * `+` for a space. Letters and digits are never encoded by any of these, so they stay literal, which
 * keeps the pattern fast. Per character rather than per whole form, so mixed forms match too (a URL
 * path escapes a space but not `/`; a CSV cell doubles the quote of a JSON-escaped `\"`).
 */
function charPattern(ch: string): string {
  if (/^[A-Za-z0-9]$/.test(ch)) return ch;
  const code = ch.codePointAt(0) ?? 0;
  const plain = [escapeRegExp(ch), `&#0*${code};`, `&#[xX]0*${hexPattern(code.toString(16))};`];
  const entity = NAMED_ENTITIES[ch];
  if (entity !== undefined) plain.push(entity);
  if (ch === '"') plain.push('""');
  const units = Array.from({ length: ch.length }, (_, i) => ch.charCodeAt(i).toString(16).padStart(4, '0'));
  const escaped = [units.map((u) => `u${hexPattern(u)}`).join('\\\\+')];
  const short = JSON_SHORT_ESCAPES[ch];
  if (short !== undefined) escaped.push(short);
  const encoded = [[...utf8.encode(ch)].map((b) => `%${hexPattern(b.toString(16).toUpperCase().padStart(2, '0'))}`).join('')];
  if (ch === ' ') encoded.push('\\+');
  return `(?:\\\\*(?:${plain.join('|')})|\\\\+(?:${escaped.join('|')})|${encoded.join('|')})`;
}

function valuePattern(value: string): string {
  return Array.from(value, charPattern).join('');
}

/**
 * Masks `value` wherever it leaves the process from now on. Returns false, and masks nothing, for a
 * value shorter than MIN_SECRET_LENGTH (the caller warns).
 */
export function registerSecret(value: string): boolean {
  if (value.trim().length < MIN_SECRET_LENGTH) return false;
  if (registered.has(value)) return true;
  registered.add(value);
  // Longest first: a secret that contains another is masked whole, not around the shorter one.
  const alternatives = [...registered].sort((a, b) => b.length - a.length).map(valuePattern);
  // eslint-disable-next-line security/detect-non-literal-regexp -- built from escaped characters only (charPattern)
  pattern = new RegExp(alternatives.join('|'), 'g');
  return true;
}

/**
 * Registers the password of a URL with credentials (`-H http://user:pass@host`), decoded, so it is masked
 * even where it shows outside the URL. `short`: present but too short to register.
 */
export function registerUrlPassword(url: string): 'none' | 'registered' | 'short' {
  let password: string;
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return 'none';
  }
  if (password.length === 0) return 'none';
  return registerSecret(password) ? 'registered' : 'short';
}

/** `text` with every registered value (in any of its encoded forms) and every URL password replaced by `***`. */
export function redact(text: string): string {
  let out = pattern === undefined ? text : text.replace(pattern, MASK);
  if (out.includes('://')) out = out.replace(URL_PASSWORD, `$1${MASK}@`);
  return out;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Plain data (objects, arrays, strings: a stats snapshot, a report) with every string, keys included,
 * redacted. Copies only what changed, so data without secrets comes back as the same object. For edges
 * that cut strings before they are written (console tables truncate names: a cut secret would no longer
 * match) and for structured messages (a worker's report). Other objects (typed arrays, Maps) pass as they are.
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'object' && typeof item !== 'string') continue;
      const next = redactDeep(item);
      if (next !== item) (copy ??= value.slice())[i] = next;
    }
    return (copy ?? value) as T;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const next = redactDeep(item);
    const name = redact(key);
    if (next === item && name === key) continue;
    copy ??= { ...value };
    if (name !== key) delete copy[key];
    copy[name] = next;
  }
  return (copy ?? value) as T;
}

/** Where secret() reads from; the CLI calls this once its options are known. Forgets values read before. */
export function configureSecrets(next: SecretSource): void {
  source = next;
  cache.clear();
}

/** Forgets every registered value and the source (tests only: a process keeps its secrets to the end). */
export function clearSecrets(): void {
  registered.clear();
  pattern = undefined;
  cache.clear();
  source = { env: process.env };
}

/** One trailing newline goes (a file saved by an editor, `echo` into a file); anything else is the value. */
function trimNewline(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}

function missing(name: string): CicadafileError {
  const where = source.dir !== undefined
    ? `the environment variable ${name} is not set and the --secrets-dir folder ${source.dir} has no file ${name}`
    : `the environment variable ${name} is not set (and no --secrets-dir folder was given)`;
  // The message carries the fix: at a cicadafile's top level, the loader's own hint replaces this one.
  return new CicadafileError(
    `secret('${name}') not found: ${where}. Set ${name}, or put a file named ${name} in a --secrets-dir folder (e.g. a Kubernetes Secret mounted as files)`,
    `set ${name}, or put a file named ${name} in the --secrets-dir folder`,
  );
}

/** Reads a secret as secret() does, without the name check (for secret() only). */
function lookup(name: string): string {
  const fromEnv = source.env[name];
  if (fromEnv !== undefined && fromEnv !== '') return trimNewline(fromEnv);
  if (source.dir !== undefined && source.readFile !== undefined) {
    const text = source.readFile(source.dir, name);
    if (text !== undefined) {
      const value = trimNewline(text);
      if (value === '') throw new CicadafileError(`secret('${name}'): the file ${name} in the --secrets-dir folder ${source.dir} is empty`, 'write the value into the file');
      return value;
    }
  }
  throw missing(name);
}

/**
 * Reads the secret `name` from the environment variable `name`, else from the file `name` in the
 * `--secrets-dir` folder (a Kubernetes Secret mounted as files), without one trailing newline. From then
 * on the value is masked as `***` in everything that leaves Cicada: logs, the console, report files, the
 * web UI and API, metrics exports and workers' reports to the master. Call it at the top level of a
 * cicadafile or in `onStart`; a missing secret stops the run with a message naming where it was looked for.
 * Values shorter than 4 characters are not masked (a warning says so). Read once, then cached.
 * @example
 * ```ts
 * import { HttpUser, secret, task } from 'cicada';
 * const token = secret('API_TOKEN'); // API_TOKEN=… cicada, or --secrets-dir /var/run/secrets/app
 * export class Api extends HttpUser {
 *   @task async me() { await this.client.get('/me', { headers: { authorization: `Bearer ${token}` } }); }
 * }
 * ```
 */
export function secret(name: string): string {
  if (!SECRET_NAME.test(name)) {
    throw new CicadafileError(`secret(${JSON.stringify(name)}): a secret's name is an environment variable or file name: letters, digits, '_', '-' and '.'`, 'e.g. secret(\'API_TOKEN\')');
  }
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const value = lookup(name);
  if (!registerSecret(value)) {
    (source.warn ?? ((m: string) => process.emitWarning(m)))(`secret('${name}') is shorter than ${MIN_SECRET_LENGTH} characters: it is NOT masked in the output (masking it would mangle every line where those characters appear)`);
  }
  cache.set(name, value);
  return value;
}
