// The TOML config file: finding it (`--config`, CICADA_CONFIG or ./cicada.toml), reading it, and checking its keys and value types.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { UsageError } from '../core/errors.ts';
import { didYouMean } from '../core/did-you-mean.ts';

/** The config file read from the working directory when no `--config` is given. */
export const DEFAULT_CONFIG_FILE = 'cicada.toml';

/** How an option takes its value: a switch, one text value, or a list of texts. */
export type ValueKind = 'flag' | 'value' | 'list';

/** A value before parsing, in the form its kind takes: switch → boolean, value → text, list → texts. */
export type RawValue = boolean | string | string[];

/** A config file that was read: where it is, how to name it in messages, and its top-level keys. */
export interface ConfigFile {
  path: string;
  /** The path as shown in messages: relative to the working directory when inside it. */
  display: string;
  values: Record<string, unknown>;
}

function displayPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/**
 * The config file to read: `explicit` (from `--config` or CICADA_CONFIG, resolved against `cwd`),
 * else `cwd/cicada.toml` when it exists, else none. A missing explicit file is an error.
 */
export async function findConfigFile(cwd: string, explicit?: { file: string; from: string }): Promise<string | undefined> {
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit.file);
    const info = await stat(file).catch(() => undefined);
    if (info === undefined) {
      throw new UsageError(
        `config file not found: ${explicit.file} (given by ${explicit.from})`,
        `check the path, relative to ${cwd}; or drop ${explicit.from} to use ./${DEFAULT_CONFIG_FILE} when present`,
      );
    }
    if (!info.isFile()) throw new UsageError(`config file ${explicit.file} (given by ${explicit.from}) is not a file`, 'give the path of a TOML file');
    return file;
  }
  const fallback = path.join(cwd, DEFAULT_CONFIG_FILE);
  const info = await stat(fallback).catch(() => undefined);
  return info?.isFile() === true ? fallback : undefined;
}

/** Reads and parses a TOML config file; a syntax error is reported as `file:line:column`. */
export async function readConfigFile(file: string, cwd: string): Promise<ConfigFile> {
  const display = displayPath(file, cwd);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot read config file ${display}: ${reason}`, 'check that the file exists and is readable');
  }
  try {
    return { path: file, display, values: parse(text) };
  } catch (error) {
    if (error instanceof TomlError) {
      // smol-toml's message is "Invalid TOML document: <reason>\n\n<code block>": keep the reason only.
      const reason = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
      throw new UsageError(
        `${display}:${error.line}:${error.column}: invalid TOML: ${reason}`,
        'keys are long flag names, e.g. spawn-rate = 10, tags = ["a", "b"], headless = true',
      );
    }
    throw error;
  }
}

/** Rejects keys that are not option names, naming the key and the file, with a did-you-mean hint. */
export function checkConfigKeys(config: ConfigFile, known: readonly string[]): void {
  for (const key of Object.keys(config.values)) {
    if (known.includes(key)) continue;
    const guess = didYouMean(key, known);
    throw new UsageError(
      `${config.display}: unknown key '${key}'`,
      guess !== undefined ? `did you mean '${guess}'?` : 'keys are long flag names without dashes, e.g. spawn-rate = 10 (see cicada --help)',
    );
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'bigint' || value instanceof Date) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** Converts a TOML value to the raw form of `kind`, or explains what was expected; `field` names file and key. */
export function configValueToRaw(value: unknown, kind: ValueKind, field: string): RawValue {
  switch (kind) {
    case 'flag':
      if (typeof value === 'boolean') return value;
      throw new UsageError(`${field}: expected true or false, got ${show(value)}`, 'write the switch unquoted, e.g. headless = true');
    case 'value':
      if (typeof value === 'string') return value;
      if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return String(value);
      throw new UsageError(`${field}: expected a string or a number, got ${show(value)}`, 'e.g. users = 10, run-time = "5m", host = "http://localhost:8080"');
    case 'list':
      if (typeof value === 'string') return [value];
      if (Array.isArray(value)) {
        const items: unknown[] = value;
        if (items.every((item): item is string => typeof item === 'string')) return items;
      }
      throw new UsageError(`${field}: expected a list of strings, got ${show(value)}`, 'e.g. tags = ["checkout", "search"]');
  }
}
