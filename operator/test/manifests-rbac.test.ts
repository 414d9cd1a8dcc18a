// What installs the operator (operator/src/manifests.ts):
//   (c) RBAC is least privilege: the exact rules, and every API call of kube.ts covered.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LOADTEST_CREATOR, OPERATOR_NAME, all, type PolicyRule } from '../src/manifests.ts';
import type { JsonObject } from '../src/types.ts';
import { VARIANTS, envOf, meta, ofKind, read } from './manifests-fixtures.ts';

// ---------------------------------------------------------------------------------------------------------
// (c) RBAC: least privilege

const EXPECTED_OPERATOR_RULES: PolicyRule[] = [
  { apiGroups: ['cicada.dev'], resources: ['loadtests'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['cicada.dev'], resources: ['loadtests/status'], verbs: ['patch'] },
  { apiGroups: ['cicada.dev'], resources: ['loadtests/finalizers'], verbs: ['update'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'delete', 'get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['services'], verbs: ['create', 'delete', 'get', 'list', 'watch'] },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['create', 'delete', 'get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
];

const EXPECTED_CREATOR_RULES: PolicyRule[] = [
  { apiGroups: ['cicada.dev'], resources: ['loadtests'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'update', 'get', 'list', 'delete'] },
  { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
];

interface ApiCall { call: string; group: string; resource: string; verb: string; clusterWide?: true }

/**
 * Every API request operator/src/kube.ts (kubeFor) makes, listed by hand from its source: the typed client methods
 * and the three watch paths. The test below also scans kube.ts, so a new call there fails it until it is added here.
 */
const KUBE_CALLS: ApiCall[] = [
  { call: 'custom.listNamespacedCustomObject', group: 'cicada.dev', resource: 'loadtests', verb: 'list' },
  { call: 'custom.listClusterCustomObject', group: 'cicada.dev', resource: 'loadtests', verb: 'list', clusterWide: true },
  { call: 'custom.getNamespacedCustomObject', group: 'cicada.dev', resource: 'loadtests', verb: 'get' },
  { call: 'custom.patchNamespacedCustomObjectStatus', group: 'cicada.dev', resource: 'loadtests/status', verb: 'patch' },
  { call: 'batch.readNamespacedJob', group: 'batch', resource: 'jobs', verb: 'get' },
  { call: 'core.readNamespacedService', group: '', resource: 'services', verb: 'get' },
  { call: 'networking.readNamespacedNetworkPolicy', group: 'networking.k8s.io', resource: 'networkpolicies', verb: 'get' },
  { call: 'batch.createNamespacedJob', group: 'batch', resource: 'jobs', verb: 'create' },
  { call: 'core.createNamespacedService', group: '', resource: 'services', verb: 'create' },
  { call: 'networking.createNamespacedNetworkPolicy', group: 'networking.k8s.io', resource: 'networkpolicies', verb: 'create' },
  // A failed test's running Jobs are deleted so they stop generating load.
  { call: 'batch.deleteNamespacedJob', group: 'batch', resource: 'jobs', verb: 'delete' },
  { call: 'core.deleteNamespacedService', group: '', resource: 'services', verb: 'delete' },
  { call: 'networking.deleteNamespacedNetworkPolicy', group: 'networking.k8s.io', resource: 'networkpolicies', verb: 'delete' },
  { call: 'core.listNamespacedPod', group: '', resource: 'pods', verb: 'list' },
  { call: 'core.createNamespacedEvent', group: '', resource: 'events', verb: 'create' },
  // Watch.watch(path): namespaced when WATCH_NAMESPACES is set, cluster-wide (ns = '') when it is empty.
  { call: 'watch /apis/${GROUP}/${VERSION}${ns}/${PLURAL}', group: 'cicada.dev', resource: 'loadtests', verb: 'watch' },
  { call: 'watch /apis/batch/v1${ns}/jobs', group: 'batch', resource: 'jobs', verb: 'watch' },
  { call: 'watch /api/v1${ns}/pods', group: '', resource: 'pods', verb: 'watch' },
  // Not a call but asked by the API server: children carry an ownerReference to the LoadTest with
  // blockOwnerDeletion: true, which needs `update` on loadtests/finalizers (OwnerReferencesPermissionEnforcement).
  { call: 'ownerReferences.blockOwnerDeletion', group: 'cicada.dev', resource: 'loadtests/finalizers', verb: 'update' },
];

const allows = (rules: PolicyRule[], c: ApiCall): boolean =>
  rules.some((r) => r.apiGroups.includes(c.group) && r.resources.includes(c.resource) && r.verbs.includes(c.verb));

function operatorRoles(objects: JsonObject[]): JsonObject[] {
  return objects.filter((o) => (o.kind === 'Role' || o.kind === 'ClusterRole') && meta(o).name === OPERATOR_NAME);
}

describe('install manifests: RBAC', () => {
  it('the operator gets exactly the rules it uses: no Secrets, no ConfigMaps, no wildcards', () => {
    for (const [label, values] of VARIANTS) {
      const roles = operatorRoles(all(values));
      assert.ok(roles.length > 0, label);
      for (const role of roles) {
        const rules = role.rules as PolicyRule[];
        assert.deepEqual(rules, EXPECTED_OPERATOR_RULES, label);
        for (const r of rules) {
          for (const field of [r.apiGroups, r.resources, r.verbs]) assert.ok(!field.some((x) => x.includes('*')), `${label}: a wildcard in ${JSON.stringify(r)}`);
          assert.ok(!r.resources.some((x) => /^(secrets|configmaps)(\/|$)/.test(x)), `${label}: ${JSON.stringify(r)}`);
          assert.ok(!('resourceNames' in r) && !('nonResourceURLs' in r));
        }
      }
    }
  });

  it('KUBE_CALLS lists every call kube.ts makes (scanned from its source)', () => {
    const source = read('operator/src/kube.ts');
    const methods = new Set([...source.matchAll(/\b(custom|batch|core|networking)\.(\w+)\(/g)].map((m) => `${m[1]}.${m[2]}`));
    const paths = new Set([...source.matchAll(/`(\/apis?\/[^`]*)`/g)].map((m) => `watch ${m[1]}`));
    const listed = new Set(KUBE_CALLS.map((c) => c.call).filter((c) => !c.startsWith('ownerReferences')));
    assert.deepEqual([...listed].sort(), [...methods, ...paths].sort());
  });

  it('every API call of kube.ts is allowed, in every mode, where the operator makes it', () => {
    for (const [label, values] of VARIANTS) {
      const objects = all(values);
      const watched = envOf(ofKind(objects, 'Deployment')[0]!).WATCH_NAMESPACES ?? '';
      if (values.rbacScope === 'Namespace') {
        // Namespaced calls only (WATCH_NAMESPACES is never empty here), in each watched namespace: a Role bound to the SA there.
        assert.notEqual(watched, '', label);
        assert.deepEqual(ofKind(objects, 'ClusterRole').concat(ofKind(objects, 'ClusterRoleBinding')), [], label);
        for (const ns of watched.split(',')) {
          const role = ofKind(objects, 'Role').find((r) => meta(r).namespace === ns && meta(r).name === OPERATOR_NAME);
          const binding = ofKind(objects, 'RoleBinding').find((b) => meta(b).namespace === ns);
          assert.ok(role && binding, `${label}: no Role/RoleBinding in ${ns}`);
          assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: OPERATOR_NAME });
          assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: values.namespace }]);
          for (const c of KUBE_CALLS.filter((k) => !k.clusterWide)) assert.ok(allows(role.rules as PolicyRule[], c), `${label}: ${c.call} in ${ns}`);
        }
      } else {
        const [role] = ofKind(objects, 'ClusterRole').filter((r) => meta(r).name === OPERATOR_NAME);
        const [binding] = ofKind(objects, 'ClusterRoleBinding');
        assert.ok(role && binding, label);
        assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: OPERATOR_NAME });
        assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: values.namespace }]);
        for (const c of KUBE_CALLS) assert.ok(allows(role.rules as PolicyRule[], c), `${label}: ${c.call}`);
        assert.deepEqual(ofKind(objects, 'RoleBinding'), [], label);
      }
    }
  });

  it('the loadtest-creator Role: exactly its rules, no Secrets, bound to nobody', () => {
    for (const [label, values] of VARIANTS) {
      const objects = all(values);
      const creators = objects.filter((o) => meta(o).name === LOADTEST_CREATOR || meta(o).name === 'cicada-loadtest-creator');
      if (!values.createLoadTestCreatorRole) {
        assert.deepEqual(creators, [], label);
        continue;
      }
      const namespaces = values.watchNamespaces.length > 0 ? values.watchNamespaces : [values.namespace];
      assert.deepEqual(ofKind(creators, 'Role').map((r) => meta(r).namespace), namespaces, label);
      assert.equal(ofKind(creators, 'ClusterRole').length, values.rbacScope === 'Cluster' ? 1 : 0, label);
      for (const c of creators) {
        assert.deepEqual(c.rules, EXPECTED_CREATOR_RULES, label);
        const rules: PolicyRule[] = EXPECTED_CREATOR_RULES;
        assert.ok(!rules.some((r) => r.resources.includes('secrets') || r.verbs.includes('*') || r.resources.includes('*')));
      }
      const bindings = [...ofKind(objects, 'RoleBinding'), ...ofKind(objects, 'ClusterRoleBinding')];
      assert.ok(bindings.every((b) => (b.roleRef as { name: string }).name === OPERATOR_NAME), 'the chart binds only the operator');
    }
  });
});
