// A fake Kubernetes API server for operator tests. Real HTTP on 127.0.0.1 serving the REST paths, content types
// and watch framing that @kubernetes/client-node 1.4 uses, with the server-side behaviour an operator can trip over:
// resourceVersion conflicts, the status subresource, generation, defaulting, validation (422), owner-reference
// garbage collection, finalizers, watch resume/expiry (410) and bookmarks. Test hooks let a test play the kubelet,
// the Job controller, an admission webhook or a flaky network.
//
// Real-server behaviour mimicked on purpose (each one is something an operator gets wrong in a real cluster):
// - PUT needs a current resourceVersion (409 Conflict when stale; 422 when missing on custom resources and CRDs);
//   a write that changes nothing gets no new resourceVersion and no watch event;
// - with a status subresource, writes to the main resource keep the old status and /status writes change only status;
//   API creates drop the status;
// - Job defaulting (selector on the controller uid, template labels, backoffLimit...), Job validation (restartPolicy
//   must be Never/OnFailure, name <= 63, immutable template/selector); Service clusterIP; NetworkPolicy policyTypes;
// - Jobs deleted without a propagationPolicy orphan their pods (batch/v1 default) with a Warning header;
// - custom resources: kind/apiVersion required, no strategic-merge-patch (415); typed lists omit items' kind;
// - core v1 and events.k8s.io/v1 Events share one storage; eventTime must have microseconds (V1MicroTime, not Date);
// - objects whose ownerReferences all point at missing owners are garbage-collected.
//
// Deliberate simplifications:
// - strategic-merge-patch is applied as a JSON merge patch (lists are replaced, not merged by key);
// - server-side apply is a merge of the applied object (no field ownership, no removal of dropped fields);
// - deletion is immediate (no graceful pod termination); garbage collection runs synchronously on delete and, for
//   owners that never existed, right after (setImmediate) the write that created the dangling reference;
// - no RBAC (use setFault for 403s), no namespace lifecycle (objects can be created in any namespace), no schema or
//   CEL validation for custom resources (use setAdmission), no managedFields, list resourceVersion is ignored.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

/** Any Kubernetes object as plain JSON (timestamps are strings, not Dates). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/** An object as the server stores it: server-managed metadata is always present. */
export interface StoredObject extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string; uid: string; resourceVersion: string; creationTimestamp: string };
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'discovery' | 'unknown';

/** One HTTP request the server received (recorded before authentication, so refused requests are there too). */
export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Kubernetes verb, derived from the method, path and `watch` parameter. */
  verb: Verb;
  /** Qualified resource (`jobs.batch`, `pods`, `loadtests.cicada.dev`) when the path named one. */
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  contentType?: string;
  /** Request body: parsed JSON when it parses, else the raw text. */
  body?: unknown;
  /** HTTP status sent (for watches: 200 when the stream opened). Set once the response starts. */
  status?: number;
  time: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  /** Qualified resource, e.g. `jobs.batch`. */
  resource: string;
  group: string;
  version: string;
  kind: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The object as it would be stored (after defaulting). Absent for DELETE. */
  object?: StoredObject;
  oldObject?: StoredObject;
  dryRun: boolean;
}

/** Return nothing to admit; a string (message) or an object to refuse. Refusals default to 422 Invalid. */
export type AdmissionResult = void | undefined | string | { message: string; code?: number; reason?: string };
export type AdmissionHook = (request: AdmissionRequest) => AdmissionResult;

/** Return nothing to serve the request normally; a status to fail it; 'drop' to destroy the socket unanswered. */
export type FaultResult = undefined | 'drop' | { code: number; reason?: string; message?: string; retryAfterSeconds?: number };
export type FaultHook = (request: RequestRecord) => FaultResult;

export interface FakeApiServerOptions {
  /** Bearer token every request must carry; null accepts any request. Default 'fake-token'. */
  token?: string | null;
  /** Interval of BOOKMARK events to watches opened with allowWatchBookmarks; 0 disables. Default 1000. */
  bookmarkIntervalMs?: number;
  /** Server-side end of every watch after this long (forces clients to reconnect). Default: never. */
  watchTimeoutMs?: number;
  /** Watch events kept for resuming from a resourceVersion; resuming from before them gets 410 Expired. Default 10000. */
  historyLimit?: number;
  /** Delete objects whose owners (ownerReferences) do not exist, as the real garbage collector does. Default true. */
  danglingOwnerGC?: boolean;
  /** Namespaces created at start. Default ['default', 'kube-system']. */
  namespaces?: string[];
}

export type ObjectRef = string | { name?: string; namespace?: string } | KubeObject;

// ---------------------------------------------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function clone<T>(x: T): T {
  return x === undefined ? x : (JSON.parse(JSON.stringify(x)) as T);
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

function meta(o: Obj): Obj {
  if (!isObj(o.metadata)) o.metadata = {};
  return o.metadata as Obj;
}

function getPath(o: unknown, path: string): unknown {
  let cur = o;
  for (const part of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function objOr(x: unknown): Obj {
  return isObj(x) ? x : {};
}

function arr(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

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

class PatchError extends Error {}

function pointer(p: unknown): string[] {
  if (typeof p !== 'string') throw new PatchError('missing path');
  if (p === '') return [];
  if (!p.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${p}`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index: ${token}`);
  const i = Number(token);
  if (i > length || (!allowEnd && i === length)) throw new PatchError(`array index out of bounds: ${token}`);
  return i;
}

function resolvePointer(doc: unknown, tokens: string[]): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false)];
    else if (isObj(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new PatchError(`path not found: /${tokens.join('/')}`);
  }
  return cur;
}

function pointerAdd(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const parent = resolvePointer(doc, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true), 0, value);
  else if (isObj(parent)) parent[last] = value;
  else throw new PatchError(`cannot add to a non-container at /${tokens.join('/')}`);
  return doc;
}

function pointerRemove(doc: unknown, tokens: string[]): unknown {
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

// ---------------------------------------------------------------------------------------------------------------
// Errors as Kubernetes Status objects
// ---------------------------------------------------------------------------------------------------------------

interface Cause {
  reason: string;
  message: string;
  field: string;
}

/** An error the server answers with a `Status` object. Test hooks throw it too. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: Obj | undefined;
  readonly headers: Record<string, string>;
  constructor(code: number, reason: string, message: string, details?: Obj, headers: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.headers = headers;
  }
  status(): Obj {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details ?? {},
      code: this.code,
    };
  }
}

const required = (field: string, detail = ''): Cause => ({
  reason: 'FieldValueRequired',
  message: detail ? `Required value: ${detail}` : 'Required value',
  field,
});
const invalid = (field: string, value: unknown, detail: string): Cause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(value) ?? 'null'}: ${detail}`,
  field,
});
const notSupported = (field: string, value: unknown, supported: string[]): Cause => ({
  reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${JSON.stringify(value) ?? '""'}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
  field,
});
const forbidden = (field: string, detail: string): Cause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });
const tooLong = (field: string, max: number): Cause => ({
  reason: 'FieldValueTooLong',
  message: `Too long: may not be more than ${max} bytes`,
  field,
});

const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);
const notFoundPath = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
const methodNotAllowed = () => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

// ---------------------------------------------------------------------------------------------------------------
// Resource types
// ---------------------------------------------------------------------------------------------------------------

interface ResourceType {
  group: string;
  version: string;
  apiVersion: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  /** Has a /status subresource: writes to the main resource keep the old status and vice versa. */
  status: boolean;
  /** metadata.generation is maintained (incremented when anything but metadata/status changes). */
  generation: boolean;
  /** PUT without metadata.resourceVersion is allowed (false for custom resources and CRDs). */
  unconditionalUpdate: boolean;
  /** PUT of a missing object creates it (only events). */
  createOnUpdate: boolean;
  /** DELETE answers with the deleted object rather than a Status (pods, services). */
  returnDeleted: boolean;
  /** Custom resource: unstructured (kind/apiVersion required, list items keep them, no strategic merge patch). */
  custom: boolean;
  /** Storage shared by versions/groups of the same resource (core and events.k8s.io events share one). */
  storage: string;
  fieldLabels: string[];
  shortNames: string[];
  /** Propagation policy of a DELETE that names none (Orphan for batch/v1 Jobs, as the real server). */
  defaultPolicy: 'Orphan' | 'Background';
}

type TypeSpec = Partial<ResourceType> & Pick<ResourceType, 'group' | 'version' | 'plural' | 'kind' | 'namespaced'>;

function resourceType(s: TypeSpec): ResourceType {
  const apiVersion = s.group ? `${s.group}/${s.version}` : s.version;
  return {
    apiVersion,
    singular: s.kind.toLowerCase(),
    listKind: `${s.kind}List`,
    status: false,
    generation: false,
    unconditionalUpdate: !s.custom,
    createOnUpdate: false,
    returnDeleted: false,
    custom: false,
    storage: s.group ? `${s.plural}.${s.group}` : s.plural,
    shortNames: [],
    defaultPolicy: 'Background',
    ...s,
    fieldLabels: ['metadata.name', 'metadata.namespace', ...(s.fieldLabels ?? [])],
  };
}

const POD_FIELDS = [
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.serviceAccountName',
  'spec.hostNetwork',
  'status.phase',
  'status.podIP',
  'status.nominatedNodeName',
];
const EVENT_FIELDS = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];
const EVENTS_V1_FIELDS = [
  ...EVENT_FIELDS,
  'regarding.kind',
  'regarding.namespace',
  'regarding.name',
  'regarding.uid',
  'regarding.apiVersion',
  'regarding.resourceVersion',
  'regarding.fieldPath',
  'reportingController',
];

function builtinTypes(): ResourceType[] {
  return [
    resourceType({ group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, status: true, generation: true, returnDeleted: true, fieldLabels: POD_FIELDS, shortNames: ['po'] }),
    resourceType({ group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true, status: true, returnDeleted: true, shortNames: ['svc'] }),
    resourceType({ group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, createOnUpdate: true, storage: 'events', fieldLabels: EVENT_FIELDS, shortNames: ['ev'] }),
    resourceType({ group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
    resourceType({ group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true, fieldLabels: ['type'] }),
    resourceType({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, status: true, fieldLabels: ['status.phase'], shortNames: ['ns'] }),
    resourceType({ group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true, status: true, generation: true, defaultPolicy: 'Orphan', fieldLabels: ['status.successful'] }),
    resourceType({ group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true, generation: true, shortNames: ['netpol'] }),
    resourceType({ group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, createOnUpdate: true, storage: 'events', fieldLabels: EVENTS_V1_FIELDS, shortNames: ['ev'] }),
    resourceType({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, status: true, generation: true, unconditionalUpdate: false, shortNames: ['crd', 'crds'] }),
    resourceType({ group: 'cicada.dev', version: 'v1', plural: 'loadtests', kind: 'LoadTest', namespaced: true, status: true, generation: true, custom: true, unconditionalUpdate: false }),
  ];
}

const qualified = (t: ResourceType) => (t.group ? `${t.plural}.${t.group}` : t.plural);
const qualifiedKind = (t: ResourceType) => (t.group ? `${t.kind}.${t.group}` : t.kind);

function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, group: t.group, kind: t.plural });
}
function alreadyExists(t: ResourceType, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(t)} "${name}" already exists`, { name, group: t.group, kind: t.plural });
}
function conflict(t: ResourceType, name: string, detail = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(t)} "${name}": ${detail}`, { name, group: t.group, kind: t.plural });
}
function invalidError(t: ResourceType, name: string, causes: Cause[]): ApiError {
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const text = list.length === 1 ? list[0]! : `[${list.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind(t)} "${name}" is invalid: ${text}`, { name, group: t.group, kind: t.kind, causes });
}

// ---------------------------------------------------------------------------------------------------------------
// Selectors
// ---------------------------------------------------------------------------------------------------------------

export type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

function splitTopLevel(s: string): string[] {
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

const LABEL_KEY = /^[A-Za-z0-9][-A-Za-z0-9_./]*$/;

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

function labelsMatch(reqs: LabelRequirement[], labels: Obj): boolean {
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

interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

function parseFieldSelector(t: ResourceType, selector: string | undefined): FieldRequirement[] {
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

function fieldValue(t: ResourceType, obj: Obj, field: string): string {
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

// ---------------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------------

const ALNUM = /^[a-z0-9]$/;
const MSG_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const MSG_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const MSG_1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const MSG_QUALIFIED =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const MSG_LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const MSG_CONFIG_KEY =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function isLabel1123(s: string): boolean {
  return s.length > 0 && /^[a-z0-9-]+$/.test(s) && ALNUM.test(s[0]!) && ALNUM.test(s[s.length - 1]!);
}
function dns1123Label(s: string): string[] {
  const out: string[] = [];
  if (s.length > 63) out.push('must be no more than 63 characters');
  if (!isLabel1123(s)) out.push(MSG_LABEL);
  return out;
}
function dns1123Subdomain(s: string): string[] {
  const out: string[] = [];
  if (s.length > 253) out.push('must be no more than 253 characters');
  if (!s.split('.').every(isLabel1123)) out.push(MSG_SUBDOMAIN);
  return out;
}
function dns1035Label(s: string): string[] {
  const out: string[] = [];
  if (s.length > 63) out.push('must be no more than 63 characters');
  if (!isLabel1123(s) || !/^[a-z]/.test(s)) out.push(MSG_1035);
  return out;
}
function isQualifiedPart(s: string): boolean {
  return s.length > 0 && s.length <= 63 && /^[A-Za-z0-9._-]+$/.test(s) && /^[A-Za-z0-9]/.test(s) && /[A-Za-z0-9]$/.test(s);
}
function qualifiedName(s: string): string[] {
  const parts = s.split('/');
  if (parts.length > 2) return [`a qualified name ${MSG_QUALIFIED} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  const name = parts[parts.length - 1]!;
  const out: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') out.push('prefix part must be non-empty');
    else out.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  }
  if (name === '') out.push('name part must be non-empty');
  else if (name.length > 63) out.push('name part must be no more than 63 characters');
  else if (!isQualifiedPart(name)) out.push(MSG_QUALIFIED);
  return out;
}
function labelValue(s: string): string[] {
  if (s === '') return [];
  const out: string[] = [];
  if (s.length > 63) out.push('must be no more than 63 characters');
  if (!isQualifiedPart(s.slice(0, 63))) out.push(MSG_LABEL_VALUE);
  return out;
}

function nameErrors(t: ResourceType, name: string, obj: Obj): string[] {
  switch (t.storage) {
    case 'services':
      return dns1035Label(name);
    case 'namespaces':
      return dns1123Label(name);
    case 'jobs.batch': {
      const errs = dns1123Subdomain(name);
      if (name.length > 63) errs.unshift('must be no more than 63 characters');
      return errs;
    }
    case 'customresourcedefinitions.apiextensions.k8s.io': {
      const spec = objOr(obj.spec);
      const expected = `${str(objOr(spec.names).plural) ?? ''}.${str(spec.group) ?? ''}`;
      return name === expected ? [] : ['must be spec.names.plural+"."+spec.group'];
    }
    default:
      return dns1123Subdomain(name);
  }
}

/** Type checks the real server does while decoding JSON into Go structs: a mismatch is a 400, not a 422. */
function decodeChecks(t: ResourceType, obj: Obj): void {
  const m = obj.metadata;
  if (m !== undefined && !isObj(m)) throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: metadata must be an object`);
  const md = objOr(m);
  for (const field of ['labels', 'annotations']) {
    const v = md[field];
    if (v === undefined || v === null) continue;
    if (!isObj(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: json: cannot unmarshal into Go struct field ObjectMeta.metadata.${field} of type string`);
    }
  }
  for (const field of ['name', 'namespace', 'generateName', 'resourceVersion', 'uid']) {
    if (md[field] !== undefined && md[field] !== null && typeof md[field] !== 'string') {
      throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: json: cannot unmarshal into Go struct field ObjectMeta.metadata.${field} of type string`);
    }
  }
  if (t.storage === 'secrets' && isObj(obj.data)) {
    for (const [k, v] of Object.entries(obj.data)) {
      if (typeof v !== 'string' || v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
        throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (data[${k}])`);
      }
    }
  }
  if (t.storage === 'configmaps' && isObj(obj.data) && Object.values(obj.data).some((v) => typeof v !== 'string')) {
    throw badRequest('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal into Go struct field ConfigMap.data of type string');
  }
  if (t.storage === 'events') {
    // MicroTime is parsed with layout 2006-01-02T15:04:05.000000Z07:00: exactly six fractional digits.
    const micro = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
    for (const path of ['eventTime', 'series.lastObservedTime']) {
      const v = getPath(obj, path);
      if (v !== undefined && v !== null && (typeof v !== 'string' || !micro.test(v))) {
        throw badRequest(`Event in version "${t.version}" cannot be handled as a Event: parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse as ".000000" (${path} must be a MicroTime with six fractional digits: use V1MicroTime, not Date)`);
      }
    }
  }
}

function validateMeta(t: ResourceType, obj: Obj, causes: Cause[]): void {
  const m = meta(obj);
  const name = str(m.name) ?? '';
  if (!name) causes.push(required('metadata.name', 'name or generateName is required'));
  else for (const msg of nameErrors(t, name, obj)) causes.push(invalid('metadata.name', name, msg));
  if (t.namespaced) {
    const ns = str(m.namespace) ?? '';
    if (!ns) causes.push(required('metadata.namespace'));
    else for (const msg of dns1123Label(ns)) causes.push(invalid('metadata.namespace', ns, msg));
  }
  for (const [k, v] of Object.entries(objOr(m.labels))) {
    for (const msg of qualifiedName(k)) causes.push(invalid('metadata.labels', k, msg));
    for (const msg of labelValue(String(v))) causes.push(invalid('metadata.labels', v, msg));
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(objOr(m.annotations))) {
    for (const msg of qualifiedName(k.toLowerCase())) causes.push(invalid('metadata.annotations', k, msg));
    annotationBytes += k.length + String(v).length;
  }
  if (annotationBytes > 262144) causes.push(tooLong('metadata.annotations', 262144));
  const refs = m.ownerReferences;
  if (refs !== undefined && refs !== null) {
    if (!Array.isArray(refs)) causes.push(invalid('metadata.ownerReferences', refs, 'must be a list'));
    else {
      let controllers = 0;
      refs.forEach((r) => {
        const ref = objOr(r);
        if (!str(ref.apiVersion)) causes.push(invalid('metadata.ownerReferences.apiVersion', ref.apiVersion ?? '', 'version must not be empty'));
        if (!str(ref.kind)) causes.push(invalid('metadata.ownerReferences.kind', ref.kind ?? '', 'kind must not be empty'));
        if (!str(ref.name)) causes.push(invalid('metadata.ownerReferences.name', ref.name ?? '', 'name must not be empty'));
        if (!str(ref.uid)) causes.push(invalid('metadata.ownerReferences.uid', ref.uid ?? '', 'uid must not be empty'));
        if (ref.controller === true) controllers++;
      });
      if (controllers > 1) causes.push(invalid('metadata.ownerReferences', refs, 'Only one reference can have Controller set to true'));
    }
  }
  const fins = m.finalizers;
  if (fins !== undefined && fins !== null && (!Array.isArray(fins) || fins.some((f) => typeof f !== 'string'))) {
    causes.push(invalid('metadata.finalizers', fins, 'must be a list of strings'));
  } else {
    for (const f of arr(fins)) for (const msg of qualifiedName(String(f))) causes.push(invalid('metadata.finalizers', f, msg));
  }
}

function validateContainers(path: string, spec: Obj, causes: Cause[]): void {
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push(required(`${path}.containers`));
    return;
  }
  containers.forEach((c, i) => {
    const cont = objOr(c);
    if (!str(cont.name)) causes.push(required(`${path}.containers[${i}].name`));
    else for (const msg of dns1123Label(cont.name as string)) causes.push(invalid(`${path}.containers[${i}].name`, cont.name, msg));
    if (!str(cont.image)) causes.push(required(`${path}.containers[${i}].image`));
  });
}

function nonNegative(obj: Obj, path: string, causes: Cause[], strict = false): void {
  const v = getPath(obj, path);
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || (strict && v === 0)) {
    causes.push(invalid(path, v, strict ? 'must be greater than 0' : 'must be greater than or equal to 0'));
  }
}

function validateJob(obj: Obj, old: Obj | undefined, causes: Cause[]): void {
  const spec = objOr(obj.spec);
  const template = objOr(spec.template);
  const tspec = objOr(template.spec);
  validateContainers('spec.template.spec', tspec, causes);
  const rp = tspec.restartPolicy;
  if (rp !== 'OnFailure' && rp !== 'Never') causes.push(notSupported('spec.template.spec.restartPolicy', rp ?? '', ['OnFailure', 'Never']));
  for (const f of ['spec.parallelism', 'spec.completions', 'spec.backoffLimit', 'spec.ttlSecondsAfterFinished']) nonNegative(obj, f, causes);
  nonNegative(obj, 'spec.activeDeadlineSeconds', causes, true);
  const tl = objOr(objOr(template.metadata).labels);
  for (const [k, v] of Object.entries(objOr(objOr(spec.selector).matchLabels))) {
    if (tl[k] !== v) {
      causes.push(invalid('spec.template.metadata.labels', tl, '`selector` does not match template `labels`'));
      break;
    }
  }
  if (!old) return;
  const ospec = objOr(old.spec);
  if (!deepEqual(spec.selector, ospec.selector)) causes.push(invalid('spec.selector', spec.selector ?? null, 'field is immutable'));
  const suspendedNeverStarted = ospec.suspend === true && getPath(old, 'status.startTime') === undefined;
  if (!suspendedNeverStarted && !deepEqual(spec.template, ospec.template)) {
    causes.push(invalid('spec.template', spec.template ?? null, 'field is immutable'));
  }
  if (spec.completionMode !== 'Indexed' && !deepEqual(spec.completions, ospec.completions)) {
    causes.push(invalid('spec.completions', spec.completions ?? null, 'field is immutable'));
  }
  if (!deepEqual(spec.completionMode, ospec.completionMode)) causes.push(invalid('spec.completionMode', spec.completionMode ?? null, 'field is immutable'));
}

function podSpecWithoutImages(spec: unknown): unknown {
  const s = clone(objOr(spec));
  for (const list of ['containers', 'initContainers']) for (const c of arr(s[list])) if (isObj(c)) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  return s;
}

function validatePod(obj: Obj, old: Obj | undefined, causes: Cause[]): void {
  const spec = objOr(obj.spec);
  validateContainers('spec', spec, causes);
  const rp = spec.restartPolicy;
  if (rp !== 'Always' && rp !== 'OnFailure' && rp !== 'Never') causes.push(notSupported('spec.restartPolicy', rp ?? '', ['Always', 'OnFailure', 'Never']));
  if (old && !deepEqual(podSpecWithoutImages(spec), podSpecWithoutImages(old.spec))) {
    causes.push(
      forbidden(
        'spec',
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      ),
    );
  }
}

function validateService(obj: Obj, old: Obj | undefined, causes: Cause[]): void {
  const spec = objOr(obj.spec);
  const ports = arr(spec.ports);
  const headless = spec.clusterIP === 'None';
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') causes.push(required('spec.ports'));
  ports.forEach((p, i) => {
    const port = objOr(p);
    if (typeof port.port !== 'number' || port.port < 1 || port.port > 65535) {
      causes.push(invalid(`spec.ports[${i}].port`, port.port ?? 0, 'must be between 1 and 65535, inclusive'));
    }
    if (ports.length > 1 && !str(port.name)) causes.push(required(`spec.ports[${i}].name`));
    if (str(port.name)) for (const msg of dns1123Label(port.name as string)) causes.push(invalid(`spec.ports[${i}].name`, port.name, msg));
  });
  if (old) {
    const oldIP = getPath(old, 'spec.clusterIP');
    if (spec.clusterIP !== oldIP) causes.push(invalid('spec.clusterIPs[0]', spec.clusterIPs ?? null, 'may not change once set'));
  }
}

function validateKeys(obj: Obj, fields: string[], causes: Cause[]): void {
  for (const field of fields) {
    for (const k of Object.keys(objOr(obj[field]))) {
      if (k.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(k)) causes.push(invalid(`${field}[${k}]`, k, MSG_CONFIG_KEY));
    }
  }
}

function validateEvent(t: ResourceType, obj: Obj, causes: Cause[]): void {
  // obj is in the core v1 shape; field names in messages follow the API the client used.
  const v1 = t.group === 'events.k8s.io';
  const ns = str(meta(obj).namespace) ?? '';
  const involvedNs = str(getPath(obj, 'involvedObject.namespace')) ?? '';
  const involvedField = v1 ? 'regarding.namespace' : 'involvedObject.namespace';
  const controllerField = v1 ? 'reportingController' : 'reportingComponent';
  const hasTime = obj.eventTime !== undefined && obj.eventTime !== null;
  if (v1) {
    if (!hasTime) causes.push(required('eventTime'));
    if (obj.type !== 'Normal' && obj.type !== 'Warning') causes.push(invalid('type', obj.type ?? '', 'has invalid value, must be Normal or Warning'));
    if (!str(obj.reportingInstance)) causes.push(required('reportingInstance'));
    if (!str(obj.action)) causes.push(required('action'));
    if (!str(obj.reason)) causes.push(required('reason'));
  }
  if (hasTime || v1) {
    if (involvedNs === '' && ns !== 'default' && ns !== 'kube-system') causes.push(invalid(involvedField, involvedNs, 'does not match event.namespace'));
    if (involvedNs !== '' && involvedNs !== ns) causes.push(invalid(involvedField, involvedNs, 'does not match event.namespace'));
    const rc = str(obj.reportingComponent) ?? '';
    if (!rc) causes.push(required(controllerField));
    else for (const msg of qualifiedName(rc)) causes.push(invalid(controllerField, rc, msg));
    if ((str(obj.reportingInstance) ?? '').length > 128) causes.push(invalid('reportingInstance', obj.reportingInstance, 'can have at most 128 characters'));
    if ((str(obj.action) ?? '').length > 128) causes.push(invalid('action', obj.action, 'can have at most 128 characters'));
    if ((str(obj.reason) ?? '').length > 128) causes.push(invalid('reason', obj.reason, 'can have at most 128 characters'));
    if ((str(obj.message) ?? '').length > 1024) causes.push(invalid(v1 ? 'note' : 'message', '', 'can have at most 1024 characters'));
  } else if (involvedNs === '' ? ns !== 'default' && ns !== '' : involvedNs !== ns) {
    causes.push(invalid(involvedField, involvedNs, 'does not match event.namespace'));
  }
}

function validateCrd(obj: Obj, causes: Cause[]): void {
  const spec = objOr(obj.spec);
  const names = objOr(spec.names);
  if (!str(spec.group)) causes.push(required('spec.group'));
  if (!str(names.plural)) causes.push(required('spec.names.plural'));
  if (!str(names.kind)) causes.push(required('spec.names.kind'));
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') causes.push(notSupported('spec.scope', spec.scope ?? '', ['Cluster', 'Namespaced']));
  const versions = arr(spec.versions);
  if (versions.length === 0) causes.push(invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  else if (versions.filter((v) => objOr(v).storage === true).length !== 1) {
    causes.push(invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  }
}

function validate(t: ResourceType, obj: Obj, old: Obj | undefined): Cause[] {
  const causes: Cause[] = [];
  validateMeta(t, obj, causes);
  switch (t.storage) {
    case 'jobs.batch':
      validateJob(obj, old, causes);
      break;
    case 'pods':
      validatePod(obj, old, causes);
      break;
    case 'services':
      validateService(obj, old, causes);
      break;
    case 'configmaps':
      validateKeys(obj, ['data', 'binaryData'], causes);
      break;
    case 'secrets':
      validateKeys(obj, ['data'], causes);
      if (old && obj.type !== old.type) causes.push(invalid('type', obj.type ?? '', 'field is immutable'));
      break;
    case 'networkpolicies.networking.k8s.io':
      for (const [i, p] of arr(getPath(obj, 'spec.policyTypes')).entries()) {
        if (p !== 'Ingress' && p !== 'Egress') causes.push(notSupported(`spec.policyTypes[${i}]`, p, ['Ingress', 'Egress']));
      }
      break;
    case 'events':
      if (!old) validateEvent(t, obj, causes);
      break;
    case 'customresourcedefinitions.apiextensions.k8s.io':
      validateCrd(obj, causes);
      break;
  }
  if (old) {
    const om = meta(old);
    const nm = meta(obj);
    const added = arr(nm.finalizers).filter((f) => !arr(om.finalizers).includes(f));
    if (om.deletionTimestamp && added.length > 0) {
      causes.push(forbidden('metadata.finalizers', 'no new finalizers can be added if the object is being deleted'));
    }
  }
  return causes;
}

// ---------------------------------------------------------------------------------------------------------------
// Defaulting (the subset an operator comparing desired and actual state is likely to notice)
// ---------------------------------------------------------------------------------------------------------------

function imagePullPolicy(image: unknown): string {
  const s = str(image) ?? '';
  if (s.includes('@')) return 'IfNotPresent';
  const lastSegment = s.split('/').pop() ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultPodSpec(spec: Obj): void {
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  for (const list of ['containers', 'initContainers']) {
    for (const c of arr(spec[list])) {
      if (!isObj(c)) continue;
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.imagePullPolicy ??= imagePullPolicy(c.image);
      c.resources ??= {};
      for (const p of arr(c.ports)) if (isObj(p)) p.protocol ??= 'TCP';
    }
  }
}

function defaultJob(obj: Obj, creating: boolean): void {
  const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
  const template = isObj(spec.template) ? spec.template : (spec.template = {});
  const tmeta = meta(template);
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex === undefined ? 6 : 2147483647;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.manualSelector ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy === undefined ? 'TerminatingOrFailed' : 'Failed';
  const m = meta(obj);
  if (isObj(tmeta.labels) && Object.keys(tmeta.labels).length > 0 && (!isObj(m.labels) || Object.keys(m.labels).length === 0)) {
    m.labels = clone(tmeta.labels);
  }
  defaultPodSpec(isObj(template.spec) ? template.spec : (template.spec = {}));
  if (creating && spec.manualSelector !== true) {
    // The Job strategy's generateSelector: label the template and select on the controller uid.
    const uid = str(m.uid) ?? '';
    const name = str(m.name) ?? '';
    const labels = isObj(tmeta.labels) ? tmeta.labels : (tmeta.labels = {});
    labels['batch.kubernetes.io/controller-uid'] ??= uid;
    labels['batch.kubernetes.io/job-name'] ??= name;
    labels['controller-uid'] ??= uid;
    labels['job-name'] ??= name;
    const selector = isObj(spec.selector) ? spec.selector : (spec.selector = {});
    const matchLabels = isObj(selector.matchLabels) ? selector.matchLabels : (selector.matchLabels = {});
    matchLabels['batch.kubernetes.io/controller-uid'] ??= uid;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// events.k8s.io/v1 <-> core v1 Event (one storage, two schemas, as in the real server)
// ---------------------------------------------------------------------------------------------------------------

const EVENT_RENAMES: Array<[core: string, v1: string]> = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

function renameFields(o: Obj, pairs: Array<[string, string]>): Obj {
  const out: Obj = {};
  const map = new Map(pairs);
  for (const [k, v] of Object.entries(o)) out[map.get(k) ?? k] = v;
  return out;
}

function coreEventToV1(o: Obj): Obj {
  const out = renameFields(clone(o), EVENT_RENAMES);
  return { ...out, apiVersion: 'events.k8s.io/v1', kind: 'Event' };
}

function v1EventToCore(o: Obj): Obj {
  const out = renameFields(clone(o), EVENT_RENAMES.map(([a, b]) => [b, a]));
  return { ...out, apiVersion: 'v1', kind: 'Event' };
}

// ---------------------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------------------

interface HistoryEntry {
  rv: number;
  storage: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: Obj;
  old?: Obj;
}

interface Watcher {
  type: ResourceType;
  namespace: string | undefined;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  res: http.ServerResponse;
  bookmarks: boolean;
  timers: NodeJS.Timeout[];
  closed: boolean;
}

interface WriteOptions {
  api: boolean;
  dryRun: boolean;
  subresource?: string;
  /** PATCH: the resourceVersion in the patched object came from the stored object unless the patch set one. */
  patch?: boolean;
}

type Route =
  | { kind: 'discovery'; body: unknown }
  | { kind: 'text'; body: string }
  | { kind: 'resource'; type: ResourceType; namespace?: string; name?: string; sub?: string; legacyWatch: boolean }
  | { kind: 'unknown' };

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const JOB_ORPHAN_WARNING =
  '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"';
const DELETE_POLICIES = ['Orphan', 'Background', 'Foreground'] as const;
export type DeletePolicy = (typeof DELETE_POLICIES)[number];

function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return s;
}

function readBody(req: http.IncomingMessage, limit = 3 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the body of the request was not valid JSON: ${(err as Error).message}`);
  }
}

export class FakeApiServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly port: number;
  /** Bearer token the server requires (null: none). kubeConfigFor() uses it. */
  readonly token: string | null;
  /** Every request received, oldest first (a live array; see clearRequests()). */
  readonly requests: RequestRecord[] = [];

  private readonly server: http.Server;
  private readonly types: ResourceType[] = builtinTypes();
  private readonly stores = new Map<string, Map<string, Obj>>();
  private history: HistoryEntry[] = [];
  private compactedRV = 0;
  private rv = 1;
  private readonly watchers = new Set<Watcher>();
  private readonly listeners = new Set<() => void>();
  private readonly pendingPolicies = new Map<string, DeletePolicy>();
  private readonly podLogs = new Map<string, string>();
  private admission: AdmissionHook | undefined;
  private fault: FaultHook | undefined;
  private gcScheduled: NodeJS.Immediate | undefined;
  private closed = false;
  private clusterIPs = 10;
  private readonly options: Required<Omit<FakeApiServerOptions, 'watchTimeoutMs' | 'token'>> & { watchTimeoutMs: number | undefined };

  /** Use startFakeApiServer(). */
  constructor(server: http.Server, options: FakeApiServerOptions) {
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.port = addr.port;
    this.url = `http://127.0.0.1:${addr.port}`;
    this.token = options.token === undefined ? 'fake-token' : options.token;
    this.options = {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
      watchTimeoutMs: options.watchTimeoutMs,
      historyLimit: options.historyLimit ?? 10000,
      danglingOwnerGC: options.danglingOwnerGC ?? true,
      namespaces: options.namespaces ?? ['default', 'kube-system'],
    };
    for (const ns of this.options.namespaces) this.create('namespaces', { metadata: { name: ns } });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      void this.handle(req, res);
    });
  }

  // ------------------------------------------------------------------ test hooks

  /** Stored objects of a kind ('jobs', 'Job', 'jobs.batch', 'loadtests', 'events.events.k8s.io'...), sorted by namespace/name. */
  objects<T = StoredObject>(kind: string, namespace?: string): T[] {
    const t = this.resolveKind(kind);
    return this.list(t, namespace, [], []).map((o) => this.present(t, o) as T);
  }

  /** One stored object, or undefined. */
  get<T = StoredObject>(kind: string, name: string, namespace = 'default'): T | undefined {
    const t = this.resolveKind(kind);
    const o = this.store(t.storage).get(this.key(t, namespace, name));
    return o ? (this.present(t, o) as T) : undefined;
  }

  /** Creates an object as a controller would: no admission, no validation, status kept; emits ADDED. Throws ApiError (409) if it exists. */
  create<T = StoredObject>(kind: string, obj: object): T {
    const t = this.resolveKind(kind);
    return this.present(t, this.createObject(t, undefined, clone(obj) as Obj, { api: false, dryRun: false })) as T;
  }

  /** Creates or replaces (including status) an object, ignoring resourceVersion; emits ADDED or MODIFIED. */
  put<T = StoredObject>(kind: string, obj: object): T {
    const t = this.resolveKind(kind);
    const o = clone(obj) as Obj;
    const m = meta(o);
    const ns = t.namespaced ? (str(m.namespace) ?? 'default') : undefined;
    const name = str(m.name);
    if (name === undefined || !this.store(t.storage).has(this.key(t, ns, name))) {
      return this.present(t, this.createObject(t, ns, o, { api: false, dryRun: false })) as T;
    }
    delete m.resourceVersion;
    return this.present(t, this.updateObject(t, ns, name, o, { api: false, dryRun: false })) as T;
  }

  /** Applies a JSON merge patch (status included) to a stored object; emits MODIFIED. */
  patch<T = StoredObject>(kind: string, ref: ObjectRef, mergePatchBody: unknown): T {
    const t = this.resolveKind(kind);
    const { name, namespace } = this.ref(t, ref);
    const cur = this.store(t.storage).get(this.key(t, namespace, name));
    if (!cur) throw notFound(t, name);
    const next = mergePatch(this.present(t, cur), mergePatchBody) as Obj;
    delete meta(next).resourceVersion;
    return this.present(t, this.updateObject(t, namespace, name, next, { api: false, dryRun: false })) as T;
  }

  /**
   * Deletes an object (policy default Background) with owner-reference cascade; emits DELETED (or MODIFIED when
   * finalizers hold it). Returns false if it did not exist.
   */
  delete(kind: string, ref: ObjectRef, opts: { propagationPolicy?: DeletePolicy } = {}): boolean {
    const t = this.resolveKind(kind);
    const { name, namespace } = this.ref(t, ref);
    const key = this.key(t, namespace, name);
    if (!this.store(t.storage).has(key)) return false;
    this.deleteObject(t, key, opts.propagationPolicy ?? 'Background');
    this.changed();
    return true;
  }

  /** Refuse (or allow) API writes, as an admission webhook or ValidatingAdmissionPolicy would. Pass undefined to clear. */
  setAdmission(fn: AdmissionHook | undefined): void {
    this.admission = fn;
  }

  /** Fail or drop API requests (e.g. 500s, 429s, 403s, connection resets). Pass undefined to clear. */
  setFault(fn: FaultHook | undefined): void {
    this.fault = fn;
  }

  /** Text served at GET /api/v1/namespaces/{ns}/pods/{name}/log. */
  setPodLog(namespace: string, name: string, text: string): void {
    this.podLogs.set(`${namespace}/${name}`, text);
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Current (latest) resourceVersion. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Number of watch streams currently open. */
  get openWatches(): number {
    return this.watchers.size;
  }

  /** Open watch streams per qualified resource, e.g. { 'jobs.batch': 1 }. */
  watchesByResource(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const w of this.watchers) out[qualified(w.type)] = (out[qualified(w.type)] ?? 0) + 1;
    return out;
  }

  /** End every open watch from the server side (clients see a clean end of stream and should reconnect). */
  closeWatches(): void {
    for (const w of [...this.watchers]) this.endWatch(w);
  }

  /**
   * Compact the watch history at the current resourceVersion, as etcd compaction does: a watch resuming from an
   * older resourceVersion gets an ERROR event with a 410 Expired Status, then the stream ends.
   */
  compact(): void {
    this.compactedRV = this.rv;
    this.history = [];
  }

  /**
   * Send every open watch an ERROR event with a 410 Expired Status and end it, as the API server does when a watch
   * falls behind (clients must relist). Combine with compact() so that resuming is refused too.
   */
  expireWatches(): void {
    for (const w of [...this.watchers]) {
      const expired = new ApiError(410, 'Expired', `The resourceVersion for the provided watch is too old.`);
      this.write(w, 'ERROR', expired.status());
      this.endWatch(w);
    }
  }

  /** Send a BOOKMARK now to every watch opened with allowWatchBookmarks. */
  bookmark(): void {
    for (const w of this.watchers) if (w.bookmarks) this.sendBookmark(w);
  }

  /**
   * Resolves with the first truthy value of check(), re-evaluated after every stored change and every request;
   * rejects after timeoutMs.
   */
  waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        let v: T | undefined | null | false;
        try {
          v = check();
        } catch (err) {
          done();
          reject(err instanceof Error ? err : new Error(String(err)));
          return true;
        }
        if (v === undefined || v === null || v === false) return false;
        done();
        resolve(v);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`fake-apiserver: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const listener = () => {
        attempt();
      };
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
      attempt();
    });
  }

  /** Stops the server: ends watches, closes every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.gcScheduled) clearImmediate(this.gcScheduled);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const w of [...this.watchers]) this.endWatch(w);
    this.server.closeAllConnections();
    await closed;
  }

  // ------------------------------------------------------------------ registry and storage

  private resolveKind(kind: string): ResourceType {
    const k = kind.toLowerCase();
    const t =
      this.types.find((x) => qualified(x).toLowerCase() === k || qualifiedKind(x).toLowerCase() === k) ??
      this.types.find((x) => x.plural === k || x.kind.toLowerCase() === k || x.singular === k || x.shortNames.includes(k));
    if (!t) throw new Error(`fake-apiserver: unknown kind '${kind}'`);
    return t;
  }

  private typeFor(apiVersion: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => t.apiVersion === apiVersion && t.kind === kind);
  }

  private ref(t: ResourceType, ref: ObjectRef): { name: string; namespace: string | undefined } {
    const o = (typeof ref === 'string' ? { name: ref } : ref) as Obj;
    const r = isObj(o.metadata) ? o.metadata : o;
    const name = str(r.name);
    if (!name) throw new Error('fake-apiserver: object reference without a name');
    return { name, namespace: t.namespaced ? (str(r.namespace) ?? 'default') : undefined };
  }

  private store(storage: string): Map<string, Obj> {
    let s = this.stores.get(storage);
    if (!s) this.stores.set(storage, (s = new Map<string, Obj>()));
    return s;
  }

  private key(t: ResourceType, namespace: string | undefined, name: string): string {
    return t.namespaced ? `${namespace ?? ''}/${name}` : name;
  }

  /** The stored (canonical) object as the given type presents it. */
  private present(t: ResourceType, o: Obj): Obj {
    if (t.group === 'events.k8s.io') return coreEventToV1(o);
    const { apiVersion: _a, kind: _k, ...rest } = clone(o);
    return { apiVersion: t.apiVersion, kind: t.kind, ...rest };
  }

  /** An object in the type's schema, converted to the stored (canonical) form. */
  private absorb(t: ResourceType, o: Obj): Obj {
    if (t.group === 'events.k8s.io') return v1EventToCore(o);
    const { apiVersion: _a, kind: _k, ...rest } = clone(o);
    return { apiVersion: t.apiVersion, kind: t.kind, ...rest };
  }

  private list(t: ResourceType, namespace: string | undefined, labels: LabelRequirement[], fields: FieldRequirement[]): Obj[] {
    const out: Array<[string, Obj]> = [];
    for (const [k, o] of this.store(t.storage)) if (this.matches(t, namespace, labels, fields, o)) out.push([k, o]);
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return out.map(([, o]) => o);
  }

  private matches(t: ResourceType, namespace: string | undefined, labels: LabelRequirement[], fields: FieldRequirement[], o: Obj): boolean {
    const m = meta(o);
    if (namespace !== undefined && m.namespace !== namespace) return false;
    if (!labelsMatch(labels, objOr(m.labels))) return false;
    return fields.every((f) => (fieldValue(t, o, f.field) === f.value) !== f.negate);
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }

  private emit(entry: HistoryEntry): void {
    this.history.push(entry);
    if (this.history.length > this.options.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.options.historyLimit);
      this.compactedRV = dropped[dropped.length - 1]!.rv;
    }
    for (const w of this.watchers) this.deliver(w, entry);
    if (entry.type !== 'DELETED' && entry.storage === 'customresourcedefinitions.apiextensions.k8s.io') this.registerCrd(entry.obj);
    this.scheduleGC();
  }

  // ------------------------------------------------------------------ writes

  private createObject(t: ResourceType, pathNamespace: string | undefined, o: Obj, opts: WriteOptions): Obj {
    if (opts.api) {
      decodeChecks(t, o);
      this.checkKind(t, o);
    }
    const obj = this.absorb(t, o);
    const m = meta(obj);
    if (t.namespaced) {
      const ns = str(m.namespace);
      if (pathNamespace !== undefined && ns !== undefined && ns !== '' && ns !== pathNamespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m.namespace = pathNamespace ?? (ns || 'default');
    } else delete m.namespace;
    if (opts.api && str(m.resourceVersion)) {
      throw new ApiError(500, 'InternalError', 'Internal error occurred: resourceVersion should not be set on objects to be created');
    }
    const store = this.store(t.storage);
    if (!str(m.name) && str(m.generateName)) {
      const prefix = (m.generateName as string).slice(0, 58);
      let name = '';
      do name = prefix + randomSuffix();
      while (store.has(this.key(t, str(m.namespace), name)));
      m.name = name;
    }
    m.uid = randomUUID();
    m.creationTimestamp = nowSeconds();
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    if (t.generation) m.generation = 1;
    else delete m.generation;
    if (opts.api && t.status) delete obj.status;
    this.applyDefaults(t, obj, undefined, opts.api);
    if (opts.api) {
      const causes = validate(t, obj, undefined);
      if (causes.length > 0) throw invalidError(t, str(m.name) ?? '', causes);
    }
    const name = str(m.name);
    if (!name) throw invalidError(t, '', [required('metadata.name', 'name or generateName is required')]);
    const key = this.key(t, str(m.namespace), name);
    if (store.has(key)) throw alreadyExists(t, name);
    if (opts.api) this.admit(t, 'CREATE', obj, undefined, opts);
    if (opts.dryRun) return obj;
    m.resourceVersion = String(++this.rv);
    store.set(key, obj);
    this.emit({ rv: this.rv, storage: t.storage, type: 'ADDED', obj: clone(obj) });
    this.changed();
    return obj;
  }

  private updateObject(t: ResourceType, namespace: string | undefined, name: string, o: Obj, opts: WriteOptions): Obj {
    if (opts.api) {
      decodeChecks(t, o);
      this.checkKind(t, o);
    }
    const store = this.store(t.storage);
    const key = this.key(t, namespace, name);
    const old = store.get(key);
    const incoming = this.absorb(t, o);
    const im = meta(incoming);
    if (str(im.name) !== undefined && im.name !== name) {
      throw badRequest(`the name of the object (${String(im.name)}) does not match the name on the URL (${name})`);
    }
    if (t.namespaced && str(im.namespace) && im.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!old) {
      if (opts.api && !t.createOnUpdate) throw notFound(t, name);
      im.name = name;
      delete im.resourceVersion;
      return this.createObject(t, namespace, this.present(t, incoming), { ...opts, api: false });
    }
    const om = meta(old);
    const rv = str(im.resourceVersion);
    if (opts.api) {
      if (!rv && !t.unconditionalUpdate && !opts.patch) {
        throw invalidError(t, name, [invalid('metadata.resourceVersion', '0x0', 'must be specified for an update')]);
      }
      if (rv && rv !== om.resourceVersion) throw conflict(t, name);
      if (str(im.uid) && im.uid !== om.uid) {
        throw conflict(t, name, `Precondition failed: UID in precondition: ${String(im.uid)}, UID in object meta: ${String(om.uid)}`);
      }
    }
    let next: Obj;
    if (opts.subresource === 'status') {
      next = clone(old);
      if (incoming.status === undefined) delete next.status;
      else next.status = clone(incoming.status);
    } else {
      next = incoming;
      if (opts.api && t.status) {
        if (old.status === undefined) delete next.status;
        else next.status = clone(old.status);
      }
    }
    const nm = meta(next);
    for (const f of ['uid', 'creationTimestamp', 'namespace', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
      if (om[f] === undefined) delete nm[f];
      else nm[f] = om[f];
    }
    nm.name = name;
    nm.resourceVersion = om.resourceVersion;
    this.applyDefaults(t, next, old, opts.api);
    if (t.generation && opts.subresource !== 'status') {
      const strip = (x: Obj) => {
        const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = x;
        return rest;
      };
      if (!deepEqual(strip(next), strip(old))) nm.generation = (Number(om.generation) || 0) + 1;
    }
    if (opts.api) {
      const causes = validate(t, next, old);
      if (causes.length > 0) throw invalidError(t, name, causes);
      this.admit(t, 'UPDATE', next, old, opts);
    }
    if (deepEqual(next, old)) return old; // a no-op write: no new resourceVersion, no event (as the real server)
    if (opts.dryRun) return next;
    nm.resourceVersion = String(++this.rv);
    store.set(key, next);
    this.emit({ rv: this.rv, storage: t.storage, type: 'MODIFIED', obj: clone(next), old: clone(old) });
    if (nm.deletionTimestamp && arr(nm.finalizers).length === 0) {
      this.remove(t, key, this.pendingPolicies.get(String(nm.uid)) ?? 'Background');
    }
    this.changed();
    return next;
  }

  /** Deletes (or marks for deletion when finalizers remain). Returns the object and whether it is gone. */
  private deleteObject(t: ResourceType, key: string, policy: DeletePolicy): { obj: Obj; deleted: boolean } {
    const store = this.store(t.storage);
    const obj = store.get(key)!;
    const m = meta(obj);
    if (arr(m.finalizers).length > 0) {
      if (m.deletionTimestamp) return { obj, deleted: false };
      const next = clone(obj);
      const nm = meta(next);
      nm.deletionTimestamp = nowSeconds();
      nm.deletionGracePeriodSeconds = 0;
      if (t.generation) nm.generation = (Number(nm.generation) || 0) + 1;
      nm.resourceVersion = String(++this.rv);
      store.set(key, next);
      this.pendingPolicies.set(String(nm.uid), policy);
      this.emit({ rv: this.rv, storage: t.storage, type: 'MODIFIED', obj: clone(next), old: clone(obj) });
      if (policy === 'Foreground') this.cascade(String(nm.uid), 'Background');
      if (policy === 'Orphan') this.cascade(String(nm.uid), 'Orphan');
      return { obj: next, deleted: false };
    }
    return { obj: this.remove(t, key, policy), deleted: true };
  }

  private remove(t: ResourceType, key: string, policy: DeletePolicy): Obj {
    const store = this.store(t.storage);
    const obj = store.get(key);
    if (!obj) return {};
    const uid = String(meta(obj).uid);
    if (policy === 'Foreground') this.cascade(uid, 'Background');
    if (!store.has(key)) return obj;
    store.delete(key);
    this.pendingPolicies.delete(uid);
    const gone = clone(obj);
    meta(gone).resourceVersion = String(++this.rv);
    this.emit({ rv: this.rv, storage: t.storage, type: 'DELETED', obj: gone, old: clone(obj) });
    if (policy !== 'Foreground') this.cascade(uid, policy === 'Orphan' ? 'Orphan' : 'Background');
    if (t.storage === 'pods') this.podLogs.delete(key);
    return gone;
  }

  /** The garbage collector, synchronously: dependents of a deleted owner are deleted, orphaned or de-referenced. */
  private cascade(ownerUid: string, policy: 'Orphan' | 'Background'): void {
    for (const t of this.storageTypes()) {
      for (const [key, dep] of [...this.store(t.storage)]) {
        const refs = arr(meta(dep).ownerReferences).filter(isObj);
        if (!refs.some((r) => r.uid === ownerUid)) continue;
        const others = refs.filter((r) => r.uid !== ownerUid);
        if (policy === 'Orphan' || others.some((r) => this.ownerAlive(r, dep) !== false)) this.dropOwnerRefs(t, key, [ownerUid]);
        else if (this.store(t.storage).has(key)) this.deleteObject(t, key, 'Background');
      }
    }
  }

  private dropOwnerRefs(t: ResourceType, key: string, uids: string[]): void {
    const store = this.store(t.storage);
    const cur = store.get(key);
    if (!cur) return;
    const next = clone(cur);
    const nm = meta(next);
    const refs = arr(nm.ownerReferences).filter((r) => !(isObj(r) && uids.includes(String(r.uid))));
    if (refs.length > 0) nm.ownerReferences = refs;
    else delete nm.ownerReferences;
    nm.resourceVersion = String(++this.rv);
    store.set(key, next);
    this.emit({ rv: this.rv, storage: t.storage, type: 'MODIFIED', obj: clone(next), old: clone(cur) });
  }

  /** true/false when the owner can be looked up; undefined when its kind is unknown to this server. */
  private ownerAlive(ref: Obj, dependent: Obj): boolean | undefined {
    const t = this.typeFor(String(ref.apiVersion), String(ref.kind));
    if (!t) return undefined;
    const owner = this.store(t.storage).get(this.key(t, str(meta(dependent).namespace), String(ref.name)));
    return owner !== undefined && meta(owner).uid === ref.uid;
  }

  private storageTypes(): ResourceType[] {
    const seen = new Set<string>();
    return this.types.filter((t) => !seen.has(t.storage) && seen.add(t.storage));
  }

  private scheduleGC(): void {
    if (!this.options.danglingOwnerGC || this.gcScheduled || this.closed) return;
    this.gcScheduled = setImmediate(() => {
      this.gcScheduled = undefined;
      if (!this.closed) this.collectDangling();
    });
  }

  /** Objects none of whose owners exist are deleted; references to missing owners are dropped when another owner lives. */
  private collectDangling(): void {
    let changed = false;
    for (const t of this.storageTypes()) {
      for (const [key, obj] of [...this.store(t.storage)]) {
        const m = meta(obj);
        const refs = arr(m.ownerReferences).filter(isObj);
        if (refs.length === 0 || m.deletionTimestamp) continue;
        const states = refs.map((r) => this.ownerAlive(r, obj));
        const dead = refs.filter((_, i) => states[i] === false).map((r) => String(r.uid));
        if (dead.length === 0) continue;
        if (dead.length === refs.length) this.deleteObject(t, key, 'Background');
        else this.dropOwnerRefs(t, key, dead);
        changed = true;
      }
    }
    if (changed) this.changed();
  }

  private checkKind(t: ResourceType, o: Obj): void {
    const kind = o.kind;
    const apiVersion = o.apiVersion;
    if (t.custom && (kind === undefined || kind === '')) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(o)}'`);
    if (t.custom && (apiVersion === undefined || apiVersion === '')) throw badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(o)}'`);
    if (kind !== undefined && kind !== '' && kind !== t.kind) {
      throw badRequest(`${JSON.stringify(kind)} in version "${t.version}" cannot be handled as a ${t.kind}: the kind in the body does not match the URL`);
    }
    if (apiVersion !== undefined && apiVersion !== '' && apiVersion !== t.apiVersion) {
      throw badRequest(`the API version in the data (${JSON.stringify(apiVersion)}) does not match the expected API version (${t.apiVersion})`);
    }
  }

  private applyDefaults(t: ResourceType, obj: Obj, old: Obj | undefined, api: boolean): void {
    switch (t.storage) {
      case 'pods': {
        const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
        defaultPodSpec(spec);
        spec.enableServiceLinks ??= true;
        if (!old && (api || obj.status === undefined)) obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
        break;
      }
      case 'jobs.batch':
        defaultJob(obj, !old);
        if (!old && obj.status === undefined) obj.status = {};
        break;
      case 'services': {
        const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
        spec.type ??= 'ClusterIP';
        spec.sessionAffinity ??= 'None';
        for (const p of arr(spec.ports)) {
          if (!isObj(p)) continue;
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
        }
        const oldSpec = objOr(old?.spec);
        if (spec.type !== 'ExternalName') {
          if (spec.clusterIP === undefined || spec.clusterIP === '') {
            spec.clusterIP = oldSpec.clusterIP ?? `10.96.${Math.floor(this.clusterIPs / 250)}.${(this.clusterIPs++ % 250) + 1}`;
          }
          spec.clusterIPs ??= oldSpec.clusterIPs ?? [spec.clusterIP];
          spec.ipFamilies ??= ['IPv4'];
          spec.ipFamilyPolicy ??= 'SingleStack';
          spec.internalTrafficPolicy ??= 'Cluster';
        }
        if (!old && obj.status === undefined) obj.status = { loadBalancer: {} };
        break;
      }
      case 'networkpolicies.networking.k8s.io': {
        const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
        spec.podSelector ??= {};
        spec.policyTypes ??= spec.egress === undefined ? ['Ingress'] : ['Ingress', 'Egress'];
        for (const dir of ['ingress', 'egress']) {
          for (const rule of arr(spec[dir])) for (const p of arr(objOr(rule).ports)) if (isObj(p)) p.protocol ??= 'TCP';
        }
        break;
      }
      case 'secrets': {
        obj.type ??= 'Opaque';
        if (isObj(obj.stringData)) {
          const data = isObj(obj.data) ? obj.data : (obj.data = {});
          for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        }
        delete obj.stringData;
        break;
      }
      case 'namespaces':
        obj.spec ??= { finalizers: ['kubernetes'] };
        if (!old) obj.status = { phase: 'Active' };
        break;
    }
  }

  private admit(t: ResourceType, operation: AdmissionRequest['operation'], obj: Obj | undefined, old: Obj | undefined, opts: WriteOptions): void {
    if (!this.admission) return;
    const m = obj ? meta(obj) : old ? meta(old) : {};
    const request: AdmissionRequest = {
      operation,
      resource: qualified(t),
      group: t.group,
      version: t.version,
      kind: t.kind,
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
      ...(str(m.namespace) ? { namespace: m.namespace as string } : {}),
      ...(str(m.name) ? { name: m.name as string } : {}),
      ...(obj ? { object: this.present(t, obj) as StoredObject } : {}),
      ...(old ? { oldObject: this.present(t, old) as StoredObject } : {}),
      dryRun: opts.dryRun,
    };
    const result = this.admission(request);
    if (result === undefined || result === null) return;
    const r = typeof result === 'string' ? { message: result } : result;
    const code = r.code ?? 422;
    const reason = r.reason ?? (code === 422 ? 'Invalid' : code === 403 ? 'Forbidden' : 'BadRequest');
    throw new ApiError(code, reason, r.message, { name: str(m.name) ?? '', group: t.group, kind: t.kind });
  }

  private registerCrd(crd: Obj): void {
    const spec = objOr(crd.spec);
    const names = objOr(spec.names);
    const group = str(spec.group);
    const plural = str(names.plural);
    const kind = str(names.kind);
    if (!group || !plural || !kind) return;
    for (const v of arr(spec.versions)) {
      const ver = objOr(v);
      const version = str(ver.name);
      if (!version || ver.served === false || this.types.some((t) => t.group === group && t.version === version && t.plural === plural)) continue;
      this.types.push(
        resourceType({
          group,
          version,
          plural,
          kind,
          namespaced: spec.scope !== 'Cluster',
          singular: str(names.singular) ?? kind.toLowerCase(),
          listKind: str(names.listKind) ?? `${kind}List`,
          shortNames: arr(names.shortNames).map(String),
          status: isObj(getPath(ver, 'subresources.status')),
          generation: true,
          custom: true,
          unconditionalUpdate: false,
        }),
      );
    }
    // The apiextensions controller accepts the names and marks the CRD Established shortly after creation.
    const name = str(meta(crd).name) ?? '';
    if (!isObj(crd.status) || !arr(crd.status.conditions).some((c) => objOr(c).type === 'Established')) {
      setImmediate(() => {
        const t = this.resolveKind('customresourcedefinitions');
        const cur = this.store(t.storage).get(name);
        if (this.closed || !cur || meta(cur).uid !== meta(crd).uid) return;
        const now = nowSeconds();
        const cond = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: now, reason, message });
        const storage = arr(spec.versions).map(objOr).find((x) => x.storage === true);
        this.patch('customresourcedefinitions', name, {
          status: {
            acceptedNames: names,
            conditions: [cond('NamesAccepted', 'NoConflicts', 'no conflicts found'), cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted')],
            storedVersions: storage ? [storage.name] : [],
          },
        });
      });
    }
  }

  // ------------------------------------------------------------------ HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query, verb: 'unknown', time: Date.now() };
    let raw = '';
    try {
      raw = await readBody(req);
    } catch (err) {
      this.requests.push(record);
      this.sendError(res, record, err);
      return;
    }
    const contentType = req.headers['content-type'];
    if (contentType) record.contentType = contentType;
    if (raw) {
      try {
        record.body = JSON.parse(raw) as unknown;
      } catch {
        record.body = raw;
      }
    }
    let route: Route;
    try {
      route = this.route(url.pathname);
    } catch (err) {
      this.requests.push(record);
      this.sendError(res, record, err);
      return;
    }
    if (route.kind === 'resource') {
      record.resource = qualified(route.type);
      if (route.namespace !== undefined) record.namespace = route.namespace;
      if (route.name !== undefined) record.name = route.name;
      if (route.sub !== undefined) record.subresource = route.sub;
      record.verb = this.verbOf(record.method, route, query);
    } else if (route.kind !== 'unknown') record.verb = 'discovery';
    this.requests.push(record);
    this.changed();
    try {
      const auth = req.headers.authorization ?? '';
      if (this.token !== null && !sameString(auth, `Bearer ${this.token}`)) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      const fault = this.fault?.(record);
      if (fault === 'drop') {
        record.status = 0;
        res.destroy();
        return;
      }
      if (fault) {
        const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
        throw new ApiError(fault.code, fault.reason ?? 'InternalError', fault.message ?? `injected fault (${fault.code})`, {}, headers);
      }
      switch (route.kind) {
        case 'unknown':
          throw notFoundPath();
        case 'discovery':
          if (record.method !== 'GET') throw methodNotAllowed();
          this.send(res, record, 200, route.body);
          return;
        case 'text':
          this.sendText(res, record, 200, route.body);
          return;
        case 'resource':
          this.serveResource(req, res, record, route, query, raw);
          return;
      }
    } catch (err) {
      this.sendError(res, record, err);
    }
  }

  private verbOf(method: string, route: Extract<Route, { kind: 'resource' }>, query: Record<string, string>): Verb {
    const watch = query.watch === 'true' || query.watch === '1' || route.legacyWatch;
    switch (method) {
      case 'GET':
        return watch ? 'watch' : route.name === undefined ? 'list' : 'get';
      case 'POST':
        return 'create';
      case 'PUT':
        return 'update';
      case 'PATCH':
        return 'patch';
      case 'DELETE':
        return route.name === undefined ? 'deletecollection' : 'delete';
      default:
        return 'unknown';
    }
  }

  private route(pathname: string): Route {
    let segs: string[];
    try {
      segs = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
    } catch {
      throw badRequest('malformed path');
    }
    if (segs.length === 1 && ['healthz', 'livez', 'readyz'].includes(segs[0]!)) return { kind: 'text', body: 'ok' };
    if (segs.length === 1 && segs[0] === 'version') {
      return { kind: 'discovery', body: { major: '1', minor: '31', gitVersion: 'v1.31.0-fake', platform: 'linux/amd64' } };
    }
    if (segs[0] === 'api' && segs.length === 1) return { kind: 'discovery', body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    if (segs[0] === 'apis' && segs.length === 1) return { kind: 'discovery', body: this.groupList() };
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = this.groupList().groups.find((x) => x.name === segs[1]);
      return g ? { kind: 'discovery', body: { kind: 'APIGroup', apiVersion: 'v1', ...g } } : { kind: 'unknown' };
    }
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) [group, version, rest] = ['', segs[1]!, segs.slice(2)];
    else if (segs[0] === 'apis' && segs.length >= 3) [group, version, rest] = [segs[1]!, segs[2]!, segs.slice(3)];
    else return { kind: 'unknown' };
    const inGroup = this.types.filter((t) => t.group === group && t.version === version);
    if (inGroup.length === 0) return { kind: 'unknown' };
    if (rest.length === 0) return { kind: 'discovery', body: this.resourceList(group, version) };
    let legacyWatch = false;
    if (rest[0] === 'watch') {
      legacyWatch = true;
      rest = rest.slice(1);
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && inGroup.some((t) => t.plural === rest[2] && t.namespaced)) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, sub, ...extra] = rest;
    const type = inGroup.find((t) => t.plural === plural);
    if (!type || extra.length > 0) return { kind: 'unknown' };
    if (namespace === undefined && type.namespaced && name !== undefined) return { kind: 'unknown' };
    if (sub !== undefined && !(sub === 'status' && type.status) && !(sub === 'log' && type.storage === 'pods')) return { kind: 'unknown' };
    return {
      kind: 'resource',
      type,
      legacyWatch,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(sub !== undefined ? { sub } : {}),
    };
  }

  private groupList(): { kind: string; apiVersion: string; groups: Array<{ name: string; versions: Array<{ groupVersion: string; version: string }>; preferredVersion: { groupVersion: string; version: string } }> } {
    const groups = new Map<string, string[]>();
    for (const t of this.types) {
      if (!t.group) continue;
      const vs = groups.get(t.group) ?? [];
      if (!vs.includes(t.version)) vs.push(t.version);
      groups.set(t.group, vs);
    }
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, vs]) => {
        const versions = vs.map((version) => ({ groupVersion: `${name}/${version}`, version }));
        return { name, versions, preferredVersion: versions[0]! };
      }),
    };
  }

  private resourceList(group: string, version: string): Obj {
    const resources: Obj[] = [];
    for (const t of this.types.filter((x) => x.group === group && x.version === version)) {
      resources.push({
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
      });
      if (t.status) resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
      if (t.storage === 'pods') resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
  }

  private serveResource(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: RequestRecord,
    route: Extract<Route, { kind: 'resource' }>,
    query: Record<string, string>,
    raw: string,
  ): void {
    const { type: t, namespace, name, sub } = route;
    const dryRun = this.dryRun(query);
    switch (record.verb) {
      case 'watch': {
        const fields = parseFieldSelector(t, query.fieldSelector);
        if (name !== undefined) fields.push({ field: 'metadata.name', value: name, negate: false });
        this.watch(req, res, record, t, namespace, parseLabelSelector(query.labelSelector), fields, query);
        return;
      }
      case 'list': {
        const items = this.list(t, namespace, parseLabelSelector(query.labelSelector), parseFieldSelector(t, query.fieldSelector));
        this.send(res, record, 200, this.listBody(t, items, query));
        return;
      }
      case 'get': {
        const o = this.store(t.storage).get(this.key(t, namespace, name!));
        if (!o) throw notFound(t, name!);
        if (sub === 'log') {
          this.sendText(res, record, 200, this.podLogs.get(this.key(t, namespace, name!)) ?? '');
          return;
        }
        this.send(res, record, 200, this.present(t, o));
        return;
      }
      case 'create': {
        if (name !== undefined) throw methodNotAllowed();
        if (t.namespaced && namespace === undefined) throw methodNotAllowed();
        const body = parseJson(raw);
        if (!isObj(body)) throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: the body must be a JSON object`);
        const created = this.createObject(t, namespace, body, { api: true, dryRun });
        this.send(res, record, 201, this.present(t, created));
        return;
      }
      case 'update': {
        if (name === undefined || sub === 'log') throw methodNotAllowed();
        const body = parseJson(raw);
        if (!isObj(body)) throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: the body must be a JSON object`);
        const existed = this.store(t.storage).has(this.key(t, namespace, name));
        const updated = this.updateObject(t, namespace, name, body, { api: true, dryRun, ...(sub ? { subresource: sub } : {}) });
        this.send(res, record, existed ? 200 : 201, this.present(t, updated));
        return;
      }
      case 'patch': {
        if (name === undefined || sub === 'log') throw methodNotAllowed();
        const { obj, created } = this.patchRequest(t, namespace, name, sub, record.contentType, raw, query, dryRun);
        this.send(res, record, created ? 201 : 200, this.present(t, obj));
        return;
      }
      case 'delete': {
        if (sub !== undefined) throw methodNotAllowed();
        this.deleteRequest(res, record, t, namespace, name!, query, raw, dryRun);
        return;
      }
      case 'deletecollection': {
        if (t.namespaced && namespace === undefined) throw methodNotAllowed();
        const items = this.list(t, namespace, parseLabelSelector(query.labelSelector), parseFieldSelector(t, query.fieldSelector));
        const policy = this.deletePolicy(t, query, raw);
        const deleted: Obj[] = [];
        for (const o of items) {
          const key = this.key(t, str(meta(o).namespace), String(meta(o).name));
          if (!this.store(t.storage).has(key)) continue;
          this.admit(t, 'DELETE', undefined, o, { api: true, dryRun });
          deleted.push(dryRun ? o : this.deleteObject(t, key, policy ?? t.defaultPolicy).obj);
        }
        this.changed();
        this.send(res, record, 200, this.listBody(t, deleted, {}));
        return;
      }
      default:
        throw methodNotAllowed();
    }
  }

  private dryRun(query: Record<string, string>): boolean {
    if (query.dryRun === undefined || query.dryRun === '') return false;
    if (query.dryRun !== 'All') throw badRequest(`Invalid dry run value: ${query.dryRun}: supported values: "All"`);
    return true;
  }

  private listBody(t: ResourceType, items: Obj[], query: Record<string, string>): Obj {
    let page = items;
    let cont: string | undefined;
    let remaining: number | undefined;
    const limit = Number(query.limit ?? 0);
    let start = 0;
    if (query.continue) {
      try {
        const token = JSON.parse(Buffer.from(query.continue, 'base64url').toString('utf8')) as { start?: unknown };
        start = Number(token.start);
      } catch {
        throw badRequest('continue key is not valid');
      }
      if (!Number.isInteger(start) || start < 0) throw badRequest('continue key is not valid');
    }
    if (limit > 0 || start > 0) {
      const end = limit > 0 ? start + limit : items.length;
      page = items.slice(start, end);
      if (end < items.length) {
        cont = Buffer.from(JSON.stringify({ start: end, rv: this.rv })).toString('base64url');
        remaining = items.length - end;
      }
    }
    return {
      kind: t.listKind,
      apiVersion: t.apiVersion,
      metadata: { resourceVersion: String(this.rv), ...(cont ? { continue: cont, remainingItemCount: remaining } : {}) },
      items: page.map((o) => {
        const p = this.present(t, o);
        if (!t.custom) {
          // Typed lists from the real server carry kind/apiVersion only on the list, not on the items.
          delete p.kind;
          delete p.apiVersion;
        }
        return p;
      }),
    };
  }

  private patchRequest(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    sub: string | undefined,
    contentType: string | undefined,
    raw: string,
    query: Record<string, string>,
    dryRun: boolean,
  ): { obj: Obj; created: boolean } {
    const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const accepted = t.custom
      ? ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']
      : ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
    if (!accepted.includes(ct)) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
    }
    const store = this.store(t.storage);
    const key = this.key(t, namespace, name);
    const cur = store.get(key);
    const opts: WriteOptions = { api: true, dryRun, patch: true, ...(sub ? { subresource: sub } : {}) };
    if (ct === 'application/apply-patch+yaml') {
      if (!query.fieldManager) {
        throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
          group: 'meta.k8s.io',
          kind: 'PatchOptions',
          causes: [required('fieldManager', 'is required for apply patch')],
        });
      }
      let applied: unknown;
      try {
        applied = parseYaml(raw) as unknown;
      } catch (err) {
        throw badRequest(`error decoding YAML: ${(err as Error).message}`);
      }
      if (!isObj(applied)) throw badRequest('the apply patch must be an object');
      if (!str(applied.kind) || !str(applied.apiVersion)) throw badRequest('invalid object type: apply patches need apiVersion and kind');
      if (!cur) {
        if (sub) throw notFound(t, name);
        const o = clone(applied);
        meta(o).name = name;
        return { obj: this.createObject(t, namespace, o, { api: true, dryRun }), created: true };
      }
      const merged = mergePatch(this.present(t, cur), applied) as Obj;
      return { obj: this.updateObject(t, namespace, name, merged, opts), created: false };
    }
    if (!cur) throw notFound(t, name);
    const body = parseJson(raw);
    let patched: unknown;
    if (ct === 'application/json-patch+json') {
      if (!Array.isArray(body)) {
        throw badRequest(`json: cannot unmarshal ${isObj(body) ? 'object' : typeof body} into Go value of type jsonpatch.Patch`);
      }
      try {
        patched = applyJsonPatch(this.present(t, cur), body);
      } catch (err) {
        if (err instanceof PatchError) throw new ApiError(422, 'Invalid', err.message);
        throw err;
      }
    } else {
      if (!isObj(body)) throw badRequest('the merge patch must be a JSON object');
      patched = mergePatch(this.present(t, cur), body);
    }
    if (!isObj(patched)) throw new ApiError(422, 'Invalid', 'the patched document is not an object');
    return { obj: this.updateObject(t, namespace, name, patched, opts), created: false };
  }

  private deletePolicy(t: ResourceType, query: Record<string, string>, raw: string): DeletePolicy | undefined {
    const body = raw.trim() ? parseJson(raw) : {};
    const opts = objOr(body);
    const policy = opts.propagationPolicy ?? query.propagationPolicy;
    const orphan = opts.orphanDependents ?? (query.orphanDependents === undefined ? undefined : query.orphanDependents === 'true');
    if (policy !== undefined && orphan !== undefined) {
      throw invalidError(t, '', [invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set')]);
    }
    if (policy !== undefined) {
      if (!DELETE_POLICIES.includes(policy as DeletePolicy)) throw invalidError(t, '', [notSupported('propagationPolicy', policy, [...DELETE_POLICIES])]);
      return policy as DeletePolicy;
    }
    if (orphan !== undefined) return orphan ? 'Orphan' : 'Background';
    return undefined;
  }

  private deleteRequest(
    res: http.ServerResponse,
    record: RequestRecord,
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    query: Record<string, string>,
    raw: string,
    dryRun: boolean,
  ): void {
    const store = this.store(t.storage);
    const key = this.key(t, namespace, name);
    const cur = store.get(key);
    if (!cur) throw notFound(t, name);
    const m = meta(cur);
    const pre = objOr(objOr(raw.trim() ? parseJson(raw) : {}).preconditions);
    if (str(pre.uid) && pre.uid !== m.uid) {
      throw conflict(t, name, `Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${String(m.uid)}`);
    }
    if (str(pre.resourceVersion) && pre.resourceVersion !== m.resourceVersion) {
      throw conflict(t, name, `Precondition failed: ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${String(m.resourceVersion)}`);
    }
    const explicit = this.deletePolicy(t, query, raw);
    const fins = arr(m.finalizers);
    const policy: DeletePolicy = explicit ?? (fins.includes('orphan') ? 'Orphan' : fins.includes('foregroundDeletion') ? 'Foreground' : t.defaultPolicy);
    const headers: Record<string, string> = explicit === undefined && t.storage === 'jobs.batch' ? { Warning: JOB_ORPHAN_WARNING } : {};
    this.admit(t, 'DELETE', undefined, cur, { api: true, dryRun });
    let result: { obj: Obj; deleted: boolean };
    if (dryRun) result = { obj: cur, deleted: fins.length === 0 };
    else {
      result = this.deleteObject(t, key, policy);
      this.changed();
    }
    if (!result.deleted || t.returnDeleted) {
      this.send(res, record, 200, this.present(t, result.obj), headers);
      return;
    }
    this.send(
      res,
      record,
      200,
      { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: t.group, kind: t.plural, uid: m.uid } },
      headers,
    );
  }

  private watch(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: RequestRecord,
    t: ResourceType,
    namespace: string | undefined,
    labels: LabelRequirement[],
    fields: FieldRequirement[],
    query: Record<string, string>,
  ): void {
    const rvParam = query.resourceVersion ?? '';
    const bookmarks = query.allowWatchBookmarks === 'true' || query.allowWatchBookmarks === '1';
    const sendInitial = query.sendInitialEvents === 'true';
    if (sendInitial && (query.resourceVersionMatch !== 'NotOlderThan' || !bookmarks)) {
      throw new ApiError(422, 'Invalid', 'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks to true');
    }
    const fromRV = rvParam === '' || rvParam === '0' || sendInitial ? undefined : Number(rvParam);
    if (fromRV !== undefined && (!Number.isInteger(fromRV) || fromRV < 0)) throw badRequest(`invalid resource version: ${rvParam}`);
    const timeoutSeconds = query.timeoutSeconds === undefined ? undefined : Number(query.timeoutSeconds);
    record.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = { type: t, namespace, labels, fields, res, bookmarks, timers: [], closed: false };
    if (fromRV !== undefined && fromRV < this.compactedRV) {
      const expired = new ApiError(410, 'Expired', `too old resource version: ${fromRV} (${this.compactedRV})`);
      this.write(w, 'ERROR', expired.status());
      res.end();
      return;
    }
    this.watchers.add(w);
    // Not req.on('close'): since Node 16 that fires once the request body is consumed, not when the client goes.
    const stop = () => this.endWatch(w);
    res.on('close', stop);
    res.on('error', stop);
    if (fromRV === undefined) {
      for (const o of this.list(t, namespace, labels, fields)) this.write(w, 'ADDED', this.present(t, o));
      if (sendInitial) this.sendBookmark(w, true);
    } else {
      for (const e of this.history) if (e.rv > fromRV) this.deliver(w, e);
    }
    const limits = [timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds * 1000 : undefined, this.options.watchTimeoutMs].filter(
      (x): x is number => x !== undefined,
    );
    if (limits.length > 0) w.timers.push(setTimeout(stop, Math.min(...limits)));
    if (bookmarks && this.options.bookmarkIntervalMs > 0) w.timers.push(setInterval(() => this.sendBookmark(w), this.options.bookmarkIntervalMs));
    for (const timer of w.timers) timer.unref();
  }

  private deliver(w: Watcher, e: HistoryEntry): void {
    if (w.closed || w.type.storage !== e.storage) return;
    const now = this.matches(w.type, w.namespace, w.labels, w.fields, e.obj);
    const before = e.old !== undefined && this.matches(w.type, w.namespace, w.labels, w.fields, e.old);
    if (e.type === 'ADDED' && now) this.write(w, 'ADDED', this.present(w.type, e.obj));
    else if (e.type === 'DELETED' && before) this.write(w, 'DELETED', this.present(w.type, e.obj));
    else if (e.type === 'MODIFIED') {
      if (now && before) this.write(w, 'MODIFIED', this.present(w.type, e.obj));
      else if (now) this.write(w, 'ADDED', this.present(w.type, e.obj));
      else if (before) {
        // Leaving the selector looks like a deletion to this watcher (object in its last matching state, new RV).
        const gone = this.present(w.type, e.old!);
        meta(gone).resourceVersion = String(e.rv);
        this.write(w, 'DELETED', gone);
      }
    }
  }

  private sendBookmark(w: Watcher, initialEventsEnd = false): void {
    const metadata: Obj = { resourceVersion: String(this.rv) };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    this.write(w, 'BOOKMARK', { kind: w.type.kind, apiVersion: w.type.apiVersion, metadata });
  }

  private write(w: Watcher, type: WatchEventType, object: Obj): void {
    if (w.closed || w.res.writableEnded || w.res.destroyed) return;
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private endWatch(w: Watcher): void {
    if (w.closed) return;
    w.closed = true;
    for (const timer of w.timers) clearTimeout(timer);
    this.watchers.delete(w);
    if (!w.res.writableEnded) w.res.end();
    this.changed();
  }

  private send(res: http.ServerResponse, record: RequestRecord, code: number, body: unknown, headers: Record<string, string> = {}): void {
    record.status = code;
    const text = JSON.stringify(body);
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-cache, private',
      ...headers,
    });
    res.end(text);
  }

  private sendText(res: http.ServerResponse, record: RequestRecord, code: number, text: string): void {
    record.status = code;
    res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private sendError(res: http.ServerResponse, record: RequestRecord, err: unknown): void {
    const e =
      err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.send(res, record, e.code, e.status(), e.headers);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------------------------

/** Starts a fake API server on 127.0.0.1 (a free port). Close it with `await server.close()`. */
export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new FakeApiServer(server, options);
}

/**
 * A KubeConfig for the fake server: plain http (the client requires skipTLSVerify for http:// servers), a bearer
 * token, and a context whose namespace is `namespace`.
 */
export function kubeConfigFor(server: { url: string; token?: string | null }, namespace = 'default'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'fake', token: server.token ?? 'fake-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace }],
    currentContext: 'fake',
  });
  return kc;
}

/**
 * A Pod as the Job controller would create it for `job` (labels, controller ownerReference, the template's spec),
 * for tests that play the Job controller and kubelet: `server.create('pods', podForJob(job, { phase: 'Running' }))`.
 */
export function podForJob(
  job: KubeObject,
  opts: { name?: string; phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'; reason?: string; message?: string; nodeName?: string } = {},
): KubeObject {
  const jm = job.metadata ?? {};
  const jobName = jm.name ?? 'job';
  const template = objOr(objOr(job.spec).template);
  const labels: Record<string, string> = { ...(objOr(objOr(template.metadata).labels) as Record<string, string>) };
  labels['batch.kubernetes.io/job-name'] ??= jobName;
  labels['job-name'] ??= jobName;
  if (jm.uid) {
    labels['batch.kubernetes.io/controller-uid'] ??= jm.uid;
    labels['controller-uid'] ??= jm.uid;
  }
  const status: Obj = { phase: opts.phase ?? 'Pending' };
  if (opts.reason !== undefined) status.reason = opts.reason;
  if (opts.message !== undefined) status.message = opts.message;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: opts.name ?? `${jobName}-${randomSuffix()}`,
      namespace: jm.namespace ?? 'default',
      labels,
      ...(isObj(objOr(template.metadata).annotations) ? { annotations: clone(objOr(template.metadata).annotations as Record<string, string>) } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: jm.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...clone(objOr(template.spec)), nodeName: opts.nodeName ?? 'fake-node' },
    status,
  };
}
