// events.k8s.io/v1 <-> core v1 Event (one storage, two schemas, as in the real server).
import { clone, type Obj } from './util.ts';

export const EVENT_RENAMES: Array<[core: string, v1: string]> = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

export function renameFields(o: Obj, pairs: Array<[string, string]>): Obj {
  const out: Obj = {};
  const map = new Map(pairs);
  for (const [k, v] of Object.entries(o)) out[map.get(k) ?? k] = v;
  return out;
}

export function coreEventToV1(o: Obj): Obj {
  const out = renameFields(clone(o), EVENT_RENAMES);
  return { ...out, apiVersion: 'events.k8s.io/v1', kind: 'Event' };
}

export function v1EventToCore(o: Obj): Obj {
  const out = renameFields(clone(o), EVENT_RENAMES.map(([a, b]) => [b, a]));
  return { ...out, apiVersion: 'v1', kind: 'Event' };
}
