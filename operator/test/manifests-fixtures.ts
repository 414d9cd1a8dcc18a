// Shared by the install-manifest tests (manifests.test.ts, manifests-objects.test.ts, manifests-rbac.test.ts):
// reading repo files, picking objects, the value sets that cover every branch, and the operator pod's shape.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { installValues, type InstallValues } from '../src/manifests.ts';
import type { JsonObject } from '../src/types.ts';
import { ROOT } from '../scripts/render-manifests.ts';

export const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');
export const meta = (o: JsonObject): { name: string; namespace?: string } => o.metadata as { name: string; namespace?: string };
export const ofKind = (objects: JsonObject[], kind: string): JsonObject[] => objects.filter((o) => o.kind === kind);

/** Value sets that between them take every branch of the builders and the templates. */
export const VARIANTS: [string, InstallValues][] = [
  ['defaults (Namespace mode, install namespace)', installValues()],
  ['Namespace mode, two watched namespaces', installValues({ namespace: 'perf-system', watchNamespaces: ['team-a', 'team-b'] })],
  ['Cluster mode, all namespaces', installValues({ rbacScope: 'Cluster' })],
  ['Cluster mode, one namespace, no CRD, no creator Role', installValues({ rbacScope: 'Cluster', watchNamespaces: ['perf'], installCRD: false, createLoadTestCreatorRole: false })],
];

export type Container = JsonObject & { env: { name: string; value: string }[]; securityContext: JsonObject; resources: { requests: Record<string, string>; limits: Record<string, string> }; volumeMounts: { name: string; mountPath: string }[]; livenessProbe: JsonObject; readinessProbe: JsonObject; ports: JsonObject[] };
export type PodSpec = JsonObject & { containers: Container[]; volumes: JsonObject[]; securityContext: JsonObject };
export const podOf = (d: JsonObject): { metadata: JsonObject; spec: PodSpec } => (d.spec as { template: { metadata: JsonObject; spec: PodSpec } }).template;
export const envOf = (d: JsonObject): Record<string, string> => Object.fromEntries(podOf(d).spec.containers[0]!.env.map((e) => [e.name, e.value]));
