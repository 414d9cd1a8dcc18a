// JSON merge patch (RFC 7386) and JSON patch (RFC 6902).
import { clone, deepEqual, isObj, type Obj } from './util.ts';

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class PatchError extends Error {}

export function pointer(p: unknown): string[] {
  if (typeof p !== 'string') throw new PatchError('missing path');
  if (p === '') return [];
  if (!p.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${p}`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function arrayIndex(token: string, length: number, allowEnd: boolean): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index: ${token}`);
  const i = Number(token);
  if (i > length || (!allowEnd && i === length)) throw new PatchError(`array index out of bounds: ${token}`);
  return i;
}

export function resolvePointer(doc: unknown, tokens: string[]): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false)];
    else if (isObj(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new PatchError(`path not found: /${tokens.join('/')}`);
  }
  return cur;
}

export function pointerAdd(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const parent = resolvePointer(doc, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true), 0, value);
  else if (isObj(parent)) parent[last] = value;
  else throw new PatchError(`cannot add to a non-container at /${tokens.join('/')}`);
  return doc;
}

export function pointerRemove(doc: unknown, tokens: string[]): unknown {
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const parent = resolvePointer(doc, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false), 1);
  else if (isObj(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw new PatchError(`path not found: /${tokens.join('/')}`);
  return doc;
}

/** RFC 6902 JSON patch. Throws PatchError when an operation cannot be applied. */
export function applyJsonPatch(document: unknown, operations: unknown[]): unknown {
  let doc = clone(document);
  for (const raw of operations) {
    if (!isObj(raw)) throw new PatchError('a JSON patch operation must be an object');
    const path = pointer(raw.path);
    switch (raw.op) {
      case 'add':
        if (!('value' in raw)) throw new PatchError('add operation does not have a value');
        doc = pointerAdd(doc, path, clone(raw.value));
        break;
      case 'remove':
        doc = pointerRemove(doc, path);
        break;
      case 'replace':
        if (!('value' in raw)) throw new PatchError('replace operation does not have a value');
        resolvePointer(doc, path);
        doc = path.length === 0 ? clone(raw.value) : pointerAdd(pointerRemove(doc, path), path, clone(raw.value));
        break;
      case 'move': {
        const from = pointer(raw.from);
        const value = resolvePointer(doc, from);
        doc = pointerAdd(pointerRemove(doc, from), path, value);
        break;
      }
      case 'copy':
        doc = pointerAdd(doc, path, clone(resolvePointer(doc, pointer(raw.from))));
        break;
      case 'test':
        if (!deepEqual(resolvePointer(doc, path), raw.value)) throw new PatchError(`testing value /${path.join('/')} failed`);
        break;
      default:
        throw new PatchError(`Unexpected kind: ${String(raw.op)}`);
    }
  }
  return doc;
}
