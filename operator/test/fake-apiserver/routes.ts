// URL routing and discovery documents.
import type { Obj } from './util.ts';
import { badRequest, type ResourceType } from './resource-types.ts';
import type { ServerState } from './state.ts';

export type Route =
  | { kind: 'discovery'; body: unknown }
  | { kind: 'text'; body: string }
  | { kind: 'resource'; type: ResourceType; namespace?: string; name?: string; sub?: string; legacyWatch: boolean }
  | { kind: 'unknown' };

export function routeOf(srv: ServerState, pathname: string): Route {
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
  if (segs[0] === 'apis' && segs.length === 1) return { kind: 'discovery', body: groupList(srv) };
  if (segs[0] === 'apis' && segs.length === 2) {
    const g = groupList(srv).groups.find((x) => x.name === segs[1]);
    return g ? { kind: 'discovery', body: { kind: 'APIGroup', apiVersion: 'v1', ...g } } : { kind: 'unknown' };
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) [group, version, rest] = ['', segs[1]!, segs.slice(2)];
  else if (segs[0] === 'apis' && segs.length >= 3) [group, version, rest] = [segs[1]!, segs[2]!, segs.slice(3)];
  else return { kind: 'unknown' };
  const inGroup = srv.types.filter((t) => t.group === group && t.version === version);
  if (inGroup.length === 0) return { kind: 'unknown' };
  if (rest.length === 0) return { kind: 'discovery', body: resourceList(srv, group, version) };
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

export function groupList(srv: ServerState): { kind: string; apiVersion: string; groups: Array<{ name: string; versions: Array<{ groupVersion: string; version: string }>; preferredVersion: { groupVersion: string; version: string } }> } {
  const groups = new Map<string, string[]>();
  for (const t of srv.types) {
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

export function resourceList(srv: ServerState, group: string, version: string): Obj {
  const resources: Obj[] = [];
  for (const t of srv.types.filter((x) => x.group === group && x.version === version)) {
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
