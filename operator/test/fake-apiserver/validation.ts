// Validation of API writes (the 422 Invalid causes a real server reports).
import { arr, clone, deepEqual, getPath, isObj, meta, type Obj, objOr, str } from './util.ts';
import { badRequest, type Cause, forbidden, invalid, notSupported, required, type ResourceType, tooLong } from './resource-types.ts';

export const ALNUM = /^[a-z0-9]$/;

export const MSG_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

export const MSG_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

export const MSG_1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

export const MSG_QUALIFIED =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

export const MSG_LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

export const MSG_CONFIG_KEY =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

export function isLabel1123(s: string): boolean {
  return s.length > 0 && /^[a-z0-9-]+$/.test(s) && ALNUM.test(s[0]!) && ALNUM.test(s[s.length - 1]!);
}
export function dns1123Label(s: string): string[] {
  const out: string[] = [];
  if (s.length > 63) out.push('must be no more than 63 characters');
  if (!isLabel1123(s)) out.push(MSG_LABEL);
  return out;
}
export function dns1123Subdomain(s: string): string[] {
  const out: string[] = [];
  if (s.length > 253) out.push('must be no more than 253 characters');
  if (!s.split('.').every(isLabel1123)) out.push(MSG_SUBDOMAIN);
  return out;
}
export function dns1035Label(s: string): string[] {
  const out: string[] = [];
  if (s.length > 63) out.push('must be no more than 63 characters');
  if (!isLabel1123(s) || !/^[a-z]/.test(s)) out.push(MSG_1035);
  return out;
}
export function isQualifiedPart(s: string): boolean {
  return s.length > 0 && s.length <= 63 && /^[A-Za-z0-9._-]+$/.test(s) && /^[A-Za-z0-9]/.test(s) && /[A-Za-z0-9]$/.test(s);
}
export function qualifiedName(s: string): string[] {
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
export function labelValue(s: string): string[] {
  if (s === '') return [];
  const out: string[] = [];
  if (s.length > 63) out.push('must be no more than 63 characters');
  if (!isQualifiedPart(s.slice(0, 63))) out.push(MSG_LABEL_VALUE);
  return out;
}

export function nameErrors(t: ResourceType, name: string, obj: Obj): string[] {
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
export function decodeChecks(t: ResourceType, obj: Obj): void {
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

export function validateMeta(t: ResourceType, obj: Obj, causes: Cause[]): void {
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

export function validateContainers(path: string, spec: Obj, causes: Cause[]): void {
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

export function nonNegative(obj: Obj, path: string, causes: Cause[], strict = false): void {
  const v = getPath(obj, path);
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || (strict && v === 0)) {
    causes.push(invalid(path, v, strict ? 'must be greater than 0' : 'must be greater than or equal to 0'));
  }
}

export function validateJob(obj: Obj, old: Obj | undefined, causes: Cause[]): void {
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

export function podSpecWithoutImages(spec: unknown): unknown {
  const s = clone(objOr(spec));
  for (const list of ['containers', 'initContainers']) for (const c of arr(s[list])) if (isObj(c)) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  return s;
}

export function validatePod(obj: Obj, old: Obj | undefined, causes: Cause[]): void {
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

export function validateService(obj: Obj, old: Obj | undefined, causes: Cause[]): void {
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

export function validateKeys(obj: Obj, fields: string[], causes: Cause[]): void {
  for (const field of fields) {
    for (const k of Object.keys(objOr(obj[field]))) {
      if (k.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(k)) causes.push(invalid(`${field}[${k}]`, k, MSG_CONFIG_KEY));
    }
  }
}

export function validateEvent(t: ResourceType, obj: Obj, causes: Cause[]): void {
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

export function validateCrd(obj: Obj, causes: Cause[]): void {
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

export function validate(t: ResourceType, obj: Obj, old: Obj | undefined): Cause[] {
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
