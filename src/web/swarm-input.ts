// Validation of POST /swarm: allowed keys only, types and ranges checked, a 400 naming the field otherwise.
import type { StartRequest } from '../core/contracts.ts';
import { UsageError } from '../core/errors.ts';
import { parseHostUrl, parseTimeSpan } from '../core/parse-values.ts';
import { badRequest } from './http-error.ts';

export const MAX_USERS = 1_000_000;
export const MAX_SPAWN_RATE = 100_000;
const MAX_RUN_TIME_S = 365 * 24 * 3600;
const MAX_HOST_LENGTH = 2048;
const ALLOWED = ['user_count', 'spawn_rate', 'host', 'run_time', 'user_classes'] as const;

/** A body as the JSON or form parser produced it: form fields may repeat (arrays). */
export type SwarmBody = Record<string, unknown>;

export type SwarmInput = { kind: 'users'; request: StartRequest } | { kind: 'shape'; runTime?: number };

/** A single value: a form field given twice is refused (parameter pollution), except where a list is expected. */
function single(body: SwarmBody, key: string): unknown {
  const value = body[key];
  if (Array.isArray(value) && key !== 'user_classes') throw badRequest(key, 'given more than once');
  return value;
}

const RULES: Record<string, string> = {
  user_count: 'a whole number from 0 to 1,000,000',
  spawn_rate: 'a number greater than 0 and at most 100,000',
};

function number(body: SwarmBody, key: string): number | undefined {
  const value = single(body, key);
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number') return value;
  // Form values are text: only plain decimals, signed (no 1e9, 0x10, Infinity).
  if (typeof value === 'string' && /^\s*-?\d*\.?\d+\s*$/.test(value)) return Number(value);
  throw badRequest(key, `must be ${RULES[key] ?? 'a number'}, got ${JSON.stringify(value).slice(0, 40)}`);
}

function runTime(body: SwarmBody): number | undefined {
  const value = single(body, 'run_time');
  if (value === undefined || value === '' || value === null) return undefined;
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string') {
    try {
      seconds = parseTimeSpan(value, 'run_time');
    } catch {
      throw badRequest('run_time', `'${value.slice(0, 40)}' is not a time span: use seconds or h/m/s units, e.g. 90, 30s, 5m, 1h30m`);
    }
  } else throw badRequest('run_time', 'expected a time span such as 30s, 5m or 1h30m');
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_RUN_TIME_S) throw badRequest('run_time', 'must be greater than 0 and at most 365 days');
  return seconds;
}

function host(body: SwarmBody): string | undefined {
  const value = single(body, 'host');
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest('host', 'expected a URL such as http://localhost:8080');
   
  if (value.length > MAX_HOST_LENGTH || /[\s\u0000-\u001f\u007f]/.test(value.trim())) {
    throw badRequest('host', `must be an http(s) URL of at most ${MAX_HOST_LENGTH} characters, without spaces or control characters`);
  }
  try {
    return parseHostUrl(value, 'host');
  } catch (error) {
    throw badRequest('host', error instanceof UsageError ? error.message.replace(/^host: /, '') : 'not a URL');
  }
}

function userClasses(body: SwarmBody, known: readonly string[]): string[] | undefined {
  const value = body.user_classes;
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) throw badRequest('user_classes', 'expected a list of user class names');
  const names = list as string[];
  if (names.length === 0) throw badRequest('user_classes', 'choose at least one user class');
  if (new Set(names).size !== names.length) throw badRequest('user_classes', 'a class is named twice');
  const unknown = names.find((n) => !known.includes(n));
  if (unknown !== undefined) throw badRequest('user_classes', `unknown user class '${unknown.slice(0, 100)}'; choose from ${known.join(', ')}`);
  return names;
}

/** Checks a /swarm body; `classes` are the run's user class names, `hasShape` whether the cicadafile has a LoadShape. */
export function parseSwarm(body: unknown, classes: readonly string[], hasShape: boolean, hostKnown = true): SwarmInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body', 'expected a JSON object or form fields');
  const fields = body as SwarmBody;
  const unknown = Object.keys(fields).find((k) => !(ALLOWED as readonly string[]).includes(k));
  if (unknown !== undefined) throw badRequest(unknown.slice(0, 100), `unknown field; /swarm accepts ${ALLOWED.join(', ')}`);
  const users = number(fields, 'user_count');
  const rate = number(fields, 'spawn_rate');
  const time = runTime(fields);
  if (users === undefined && hasShape) {
    if (rate !== undefined) throw badRequest('spawn_rate', 'the LoadShape sets the spawn rate; leave it out or give user_count too');
    return { kind: 'shape', ...(time !== undefined ? { runTime: time } : {}) };
  }
  if (users === undefined) throw badRequest('user_count', 'required (a whole number from 0 to 1,000,000)');
  if (!Number.isSafeInteger(users) || users < 0 || users > MAX_USERS) throw badRequest('user_count', `must be a whole number from 0 to ${MAX_USERS.toLocaleString('en-US')}`);
  if (rate === undefined) throw badRequest('spawn_rate', 'required (users started per second, > 0)');
  if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_SPAWN_RATE) throw badRequest('spawn_rate', `must be a number greater than 0 and at most ${MAX_SPAWN_RATE.toLocaleString('en-US')}`);
  const target = host(fields);
  if (target === undefined && !hostKnown) {
    throw badRequest('host', 'required: the user classes have no host and none was given with -H; give the base URL of the system under test, e.g. http://localhost:8080');
  }
  const names = userClasses(fields, classes);
  return {
    kind: 'users',
    request: {
      userCount: users,
      spawnRate: rate,
      ...(target !== undefined ? { host: target } : {}),
      ...(names !== undefined ? { userClasses: names } : {}),
      ...(time !== undefined ? { runTime: time } : {}),
    },
  };
}
