// What the API server does with a LoadTest before storing it, for tests without a cluster: the CRD's structural
// OpenAPI schema (with ajv) and every x-kubernetes-validations CEL rule (with a CEL evaluator), transition rules
// (oldSelf) on updates only, and strict field validation (unknown fields refused, as kubectl asks by default).
// Errors name the field, as the API server's do.
import { Ajv, type ErrorObject } from 'ajv';
import { evaluate } from '@marcbachmann/cel-js';
import { crd } from '../src/crd.ts';
import type { JsonObject } from '../src/types.ts';

type Schema = JsonObject;

/** OpenAPI 3.0 (as Kubernetes writes it) → JSON Schema draft-07 for ajv: boolean exclusiveMinimum, no x- keys. */
function toJsonSchema(schema: unknown, name = ''): unknown {
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item));
  if (typeof schema !== 'object' || schema === null) return schema;
  const s = schema as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(s)) {
    if (key.startsWith('x-kubernetes-') || key === 'format') continue;
    if (key === 'exclusiveMinimum' && value === true) continue;
    out[key] = key === 'properties' || key === 'additionalProperties' || key === 'items' ? mapChildren(key, value) : value;
  }
  // Strict field validation (kubectl's default): a field the schema does not name is refused.
  // (Not `metadata`: the API server validates ObjectMeta itself; the CRD only narrows the name.)
  if (name !== 'metadata' && s.properties !== undefined && s['x-kubernetes-preserve-unknown-fields'] !== true && s.additionalProperties === undefined) out.additionalProperties = false;
  if (s.exclusiveMinimum === true && typeof s.minimum === 'number') {
    out.exclusiveMinimum = s.minimum;
    delete out.minimum;
  }
  return out;
}

function mapChildren(key: string, value: unknown): unknown {
  if (key === 'properties') return Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, toJsonSchema(v, k)]));
  return typeof value === 'object' ? toJsonSchema(value) : value;
}

interface Version {
  schema: { openAPIV3Schema: Schema };
}
const root = ((crd.spec as { versions: Version[] }).versions[0]!).schema.openAPIV3Schema;
const ajv = new Ajv({ allErrors: true, strict: false });
const validateStructure = ajv.compile(toJsonSchema(root) as object);

function describe(error: ErrorObject): string {
  const field = error.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)';
  if (error.keyword === 'additionalProperties') return `${field}.${String(error.params.additionalProperty)}: unknown field`;
  if (error.keyword === 'required') return `${field}.${String(error.params.missingProperty)}: Required value`;
  return `${field}: ${error.message ?? 'invalid'}`;
}

interface Rule {
  rule: string;
  message: string;
}

/** Every CEL rule at every node where the value exists; `old` given → transition rules too. */
function celErrors(schema: Schema, value: unknown, old: unknown, path: string, out: string[]): void {
  if (value === undefined) return;
  for (const r of (schema['x-kubernetes-validations'] as Rule[] | undefined) ?? []) {
    const transition = r.rule.includes('oldSelf');
    if (transition && old === undefined) continue;
    let ok: unknown;
    try {
      ok = evaluate(r.rule, { self: value, ...(transition ? { oldSelf: old } : {}) });
    } catch (error) {
      throw new Error(`CEL rule at ${path} failed to evaluate: ${r.rule}: ${(error as Error).message}`);
    }
    if (ok !== true) out.push(`${path}: Invalid value: ${r.message}`);
  }
  const props = schema.properties as Record<string, Schema> | undefined;
  if (props && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(props)) {
      const o = old && typeof old === 'object' ? (old as Schema)[key] : undefined;
      celErrors(child, (value as Schema)[key], o, path ? `${path}.${key}` : key, out);
    }
  }
  const items = schema.items as Schema | undefined;
  if (items && Array.isArray(value)) value.forEach((v, i) => celErrors(items, v, undefined, `${path}[${i}]`, out));
}

/** The errors the API server would answer for this LoadTest (create, or update from `old`); [] when admitted. */
export function admissionErrors(object: unknown, old?: unknown): string[] {
  const errors: string[] = [];
  if (!validateStructure(object)) errors.push(...(validateStructure.errors ?? []).map(describe));
  if (errors.length === 0) celErrors(root, object, old, '', errors);
  return errors;
}
