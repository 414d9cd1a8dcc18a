// Label and field selectors.
import { getPath, type Obj, str } from './util.ts';
import { badRequest, type ResourceType } from './resource-types.ts';

export type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((p) => p.trim()).filter((p) => p !== '');
}

export const LABEL_KEY = /^[A-Za-z0-9][-A-Za-z0-9_./]*$/;

/** Parses a label selector (equality- and set-based). Throws 400 on a malformed one, as the real server. */
export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  if (!selector) return [];
  const reqs: LabelRequirement[] = [];
  for (const part of splitTopLevel(selector)) {
    const fail = () => badRequest(`unable to parse requirement: found '${part}', expected: a valid label selector`);
    let m: RegExpMatchArray | null;
    if (part.startsWith('!')) {
      const key = part.slice(1).trim();
      if (!LABEL_KEY.test(key)) throw fail();
      reqs.push({ op: 'notexists', key });
    } else if ((m = /^([^\s!=()]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
      const values = m[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '');
      reqs.push({ op: m[2] === 'in' ? 'in' : 'notin', key: m[1]!, values });
    } else if ((m = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(part))) {
      reqs.push({ op: m[2] === '!=' ? 'neq' : 'eq', key: m[1]!, value: m[3]! });
    } else if (LABEL_KEY.test(part)) {
      reqs.push({ op: 'exists', key: part });
    } else throw fail();
  }
  return reqs;
}

export function labelsMatch(reqs: LabelRequirement[], labels: Obj): boolean {
  return reqs.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const v = str(labels[r.key]);
    switch (r.op) {
      case 'eq':
        return has && v === r.value;
      case 'neq':
        return !has || v !== r.value;
      case 'in':
        return has && r.values.includes(v ?? '');
      case 'notin':
        return !has || !r.values.includes(v ?? '');
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
    return false;
  });
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

export function parseFieldSelector(t: ResourceType, selector: string | undefined): FieldRequirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((part) => {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const field = m[1]!.trim();
    if (!t.fieldLabels.includes(field)) {
      throw badRequest(`"${field}" is not a known field selector: only "${t.fieldLabels.join('", "')}"`);
    }
    return { field, value: m[3]!.trim(), negate: m[2] === '!=' };
  });
}

export function fieldValue(t: ResourceType, obj: Obj, field: string): string {
  let path = field;
  if (t.plural === 'events') {
    if (field.startsWith('regarding.')) path = `involvedObject.${field.slice('regarding.'.length)}`;
    else if (field === 'reportingController') path = 'reportingComponent';
    else if (field === 'source') path = 'source.component';
  }
  if (t.plural === 'jobs' && field === 'status.successful') path = 'status.succeeded';
  const v = getPath(obj, path);
  if (v === undefined || v === null) return field === 'status.successful' ? '0' : '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
