// The builtin resource types, and errors answered as Kubernetes Status objects.
import type { Obj } from './util.ts';

export interface Cause {
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

export const required = (field: string, detail = ''): Cause => ({
  reason: 'FieldValueRequired',
  message: detail ? `Required value: ${detail}` : 'Required value',
  field,
});

export const invalid = (field: string, value: unknown, detail: string): Cause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(value) ?? 'null'}: ${detail}`,
  field,
});

export const notSupported = (field: string, value: unknown, supported: string[]): Cause => ({
  reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${JSON.stringify(value) ?? '""'}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
  field,
});

export const forbidden = (field: string, detail: string): Cause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });

export const tooLong = (field: string, max: number): Cause => ({
  reason: 'FieldValueTooLong',
  message: `Too long: may not be more than ${max} bytes`,
  field,
});

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

export const notFoundPath = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');

export const methodNotAllowed = () => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

export interface ResourceType {
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

export type TypeSpec = Partial<ResourceType> & Pick<ResourceType, 'group' | 'version' | 'plural' | 'kind' | 'namespaced'>;

export function resourceType(s: TypeSpec): ResourceType {
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

export const POD_FIELDS = [
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.serviceAccountName',
  'spec.hostNetwork',
  'status.phase',
  'status.podIP',
  'status.nominatedNodeName',
];

export const EVENT_FIELDS = [
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

export const EVENTS_V1_FIELDS = [
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

export function builtinTypes(): ResourceType[] {
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

export const qualified = (t: ResourceType) => (t.group ? `${t.plural}.${t.group}` : t.plural);

export const qualifiedKind = (t: ResourceType) => (t.group ? `${t.kind}.${t.group}` : t.kind);

export function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, group: t.group, kind: t.plural });
}
export function alreadyExists(t: ResourceType, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(t)} "${name}" already exists`, { name, group: t.group, kind: t.plural });
}
export function conflict(t: ResourceType, name: string, detail = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(t)} "${name}": ${detail}`, { name, group: t.group, kind: t.plural });
}
export function invalidError(t: ResourceType, name: string, causes: Cause[]): ApiError {
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const text = list.length === 1 ? list[0]! : `[${list.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind(t)} "${name}" is invalid: ${text}`, { name, group: t.group, kind: t.kind, causes });
}
