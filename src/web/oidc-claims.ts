// Claims of an ID token or userinfo answer: a (dotted) claim's values, the role they earn, a usable user name.
import { ROLES, isRole, type Role } from './roles.ts';
import { isObject } from './oidc-http.ts';

/** The values of a claim (dotted path allowed: `realm_access.roles`); undefined when the claim is absent. */
export function claimValues(claims: Record<string, unknown>, path: string): string[] | undefined {
  let value: unknown;
  if (Object.hasOwn(claims, path)) {
    value = claims[path];
  } else {
    value = claims;
    for (const segment of path.split('.')) {
      if (!isObject(value) || !Object.hasOwn(value, segment)) return undefined;
      value = value[segment];
    }
  }
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return value === undefined || value === null ? undefined : [];
}

/** The highest role that `values` earn through `roleMap` (only roleMap entries count), or undefined. */
export function mapRole(values: readonly string[], roleMap: Readonly<Record<string, Role>>): Role | undefined {
  let best = -1;
  for (const v of values) {
    if (!Object.hasOwn(roleMap, v)) continue;
    const role = roleMap[v];
    if (role !== undefined && isRole(role)) best = Math.max(best, ROLES.indexOf(role));
  }
  return best < 0 ? undefined : ROLES[best];
}

export function usableUsername(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value.trim();
  if (name.length === 0 || name.length > 256 || /[\u0000-\u001f\u007f-\u009f]/.test(name)) return undefined;
  return name;
}

