// Validation of POST /swarm: allowed keys only, types and ranges checked, a 400 naming the field otherwise.
import type { StartRequest } from '../core/contracts.ts';
import { UsageError } from '../core/errors.ts';
import { parseHostUrl, parseTimeSpan } from '../core/parse-values.ts';
import { badRequest } from './http-error.ts';

export const MAX_USERS = 1_000_000;
export const MAX_SPAWN_RATE = 100_000;
const MAX_RUN_TIME_S = 365 * 24 * 3600;
const MAX_HOST_LENGTH = 2048;
export const MAX_ARRIVAL_RATE = 1_000_000;
const ALLOWED = ['user_count', 'spawn_rate', 'host', 'run_time', 'user_classes', 'arrival_rate', 'max_users', 'scenarios'] as const;
/** Fields a form may repeat (one value each time). */
const LISTS: readonly string[] = ['user_classes', 'scenarios'];
/** The value of `scenarios` that means every declared scenario. */
export const ALL_SCENARIOS = 'all';

/** A body as the JSON or form parser produced it: form fields may repeat (arrays). */
export type SwarmBody = Record<string, unknown>;

/** What a /swarm body asks for: a user count (Locust's model), an arrival rate, the LoadShape, or declared scenarios (`names` empty: all). */
export type SwarmInput =
  | { kind: 'users'; request: StartRequest }
  | { kind: 'arrival'; request: StartRequest }
  | { kind: 'shape'; runTime?: number }
  | { kind: 'scenarios'; names: string[]; runTime?: number };

/** What a /swarm body is checked against. */
export interface SwarmContext {
  /** The run's user class names. */
  classes: readonly string[];
  /** Whether the cicadafile has a LoadShape. */
  hasShape: boolean;
  /** Whether a host is known (from -H, the user classes or an earlier /swarm); else /swarm must bring one. */
  hostKnown: boolean;
  /** The names of the declared scenarios this run can start; empty when none. */
  scenarios: readonly string[];
}

/** A single value: a form field given twice is refused (parameter pollution), except where a list is expected. */
function single(body: SwarmBody, key: string): unknown {
  const value = body[key];
  if (Array.isArray(value) && !LISTS.includes(key)) throw badRequest(key, 'given more than once');
  return value;
}

const RULES: Record<string, string> = {
  user_count: 'a whole number from 0 to 1,000,000',
  spawn_rate: 'a number greater than 0 and at most 100,000',
  arrival_rate: 'a number of iterations per second greater than 0 and at most 1,000,000',
  max_users: 'a whole number from 1 to 1,000,000',
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

/** The host of a start that runs users; required when none is known yet. */
function requiredHost(body: SwarmBody, hostKnown: boolean): string | undefined {
  const target = host(body);
  if (target === undefined && !hostKnown) {
    throw badRequest('host', 'required: the user classes have no host and none was given with -H; give the base URL of the system under test, e.g. http://localhost:8080');
  }
  return target;
}

/** Whether a field was given at all (an empty form field counts as not given, as for the other fields). */
function given(body: SwarmBody, key: string): boolean {
  return body[key] !== undefined && body[key] !== '';
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

/** Checks a /swarm body against what this run has; throws a 400 naming the field otherwise. */
export function parseSwarm(body: unknown, ctx: SwarmContext): SwarmInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body', 'expected a JSON object or form fields');
  const fields = body as SwarmBody;
  const unknown = Object.keys(fields).find((k) => !(ALLOWED as readonly string[]).includes(k));
  if (unknown !== undefined) throw badRequest(unknown.slice(0, 100), `unknown field; /swarm accepts ${ALLOWED.join(', ')}`);
  const time = runTime(fields);
  if (fields.scenarios !== undefined) return scenariosInput(fields, ctx, time);
  const arrival = number(fields, 'arrival_rate');
  if (arrival !== undefined) return arrivalInput(fields, ctx, arrival, time);
  if (given(fields, 'max_users')) {
    throw badRequest('max_users', 'goes only with arrival_rate (it caps the pool of users an arrival rate may grow); give arrival_rate too, or leave max_users out');
  }
  const users = number(fields, 'user_count');
  const rate = number(fields, 'spawn_rate');
  if (users === undefined && ctx.hasShape) {
    if (rate !== undefined) throw badRequest('spawn_rate', 'the LoadShape sets the spawn rate; leave it out or give user_count too');
    return { kind: 'shape', ...(time !== undefined ? { runTime: time } : {}) };
  }
  if (users === undefined) throw badRequest('user_count', 'required (a whole number from 0 to 1,000,000), or give arrival_rate or scenarios instead');
  if (!Number.isSafeInteger(users) || users < 0 || users > MAX_USERS) throw badRequest('user_count', `must be a whole number from 0 to ${MAX_USERS.toLocaleString('en-US')}`);
  if (rate === undefined) throw badRequest('spawn_rate', 'required (users started per second, > 0)');
  if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_SPAWN_RATE) throw badRequest('spawn_rate', `must be a number greater than 0 and at most ${MAX_SPAWN_RATE.toLocaleString('en-US')}`);
  const target = requiredHost(fields, ctx.hostKnown);
  const names = userClasses(fields, ctx.classes);
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

/** The open model: `arrival_rate` iterations per second, optionally `max_users`, for `run_time` or until stopped. */
function arrivalInput(fields: SwarmBody, ctx: SwarmContext, arrival: number, time: number | undefined): SwarmInput {
  if (ctx.hasShape) throw badRequest('arrival_rate', 'this cicadafile has a LoadShape, which decides the load: start it without arrival_rate (and without user_count)');
  for (const key of ['user_count', 'spawn_rate']) {
    if (given(fields, key)) throw badRequest(key, 'not with arrival_rate: an arrival rate starts iterations whatever the user count (max_users caps its pool); leave one of them out');
  }
  if (!Number.isFinite(arrival) || arrival <= 0 || arrival > MAX_ARRIVAL_RATE) throw badRequest('arrival_rate', `must be ${RULES.arrival_rate ?? ''}`);
  const maxUsers = number(fields, 'max_users');
  if (maxUsers !== undefined && (!Number.isSafeInteger(maxUsers) || maxUsers < 1 || maxUsers > MAX_USERS)) throw badRequest('max_users', `must be ${RULES.max_users ?? ''}`);
  const target = requiredHost(fields, ctx.hostKnown);
  const names = userClasses(fields, ctx.classes);
  return {
    kind: 'arrival',
    request: {
      // The contract's user count and spawn rate are ignored with an arrival rate; these values pass its checks.
      userCount: 0,
      spawnRate: 1,
      arrivalRate: arrival,
      ...(maxUsers !== undefined ? { maxUsers } : {}),
      ...(target !== undefined ? { host: target } : {}),
      ...(names !== undefined ? { userClasses: names } : {}),
      ...(time !== undefined ? { runTime: time } : {}),
    },
  };
}

/** Declared scenarios by name (`all`, or a list); each sets its own load, so the fields of the other models are refused. */
function scenariosInput(fields: SwarmBody, ctx: SwarmContext, time: number | undefined): SwarmInput {
  if (ctx.scenarios.length === 0) {
    throw badRequest('scenarios', 'this cicadafile declares no scenarios (export const scenarios, or [scenarios.NAME] in cicada.toml): start with user_count and spawn_rate, or arrival_rate');
  }
  for (const key of ['user_count', 'spawn_rate', 'arrival_rate', 'max_users', 'user_classes']) {
    if (given(fields, key)) throw badRequest(key, `not with scenarios: each scenario sets its own load and user classes; leave ${key} out, or leave scenarios out`);
  }
  if (given(fields, 'host')) throw badRequest('host', 'not with scenarios: they run against the host given with -H or the user classes\' own; leave host out');
  if (!ctx.hostKnown) throw badRequest('host', 'required, but scenarios cannot take one here: the user classes have no host and none was given with -H; restart Cicada with -H URL, or start with user_count or arrival_rate and a host');
  const value = fields.scenarios;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) throw badRequest('scenarios', `expected a list of scenario names, or '${ALL_SCENARIOS}'`);
  const names = list as string[];
  const declared = ctx.scenarios.join(', ');
  if (names.length === 0 || (names.length === 1 && names[0] === '')) throw badRequest('scenarios', `choose at least one scenario, or '${ALL_SCENARIOS}'; declared: ${declared}`);
  if (names.length === 1 && names[0] === ALL_SCENARIOS && !ctx.scenarios.includes(ALL_SCENARIOS)) return { kind: 'scenarios', names: [], ...(time !== undefined ? { runTime: time } : {}) };
  if (new Set(names).size !== names.length) throw badRequest('scenarios', 'a scenario is named twice');
  const unknownName = names.find((n) => !ctx.scenarios.includes(n));
  if (unknownName !== undefined) {
    const hint = unknownName === ALL_SCENARIOS ? `'${ALL_SCENARIOS}' stands alone` : `unknown scenario '${unknownName.slice(0, 100)}'`;
    throw badRequest('scenarios', `${hint}; declared: ${declared}`);
  }
  return { kind: 'scenarios', names, ...(time !== undefined ? { runTime: time } : {}) };
}
