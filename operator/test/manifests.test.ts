// What installs the operator (operator/src/manifests.ts), its plain manifests and Helm chart
// (operator/scripts/render-manifests.ts), and the two Dockerfiles:
//   (a) every object is valid against the Kubernetes OpenAPI schemas (kubernetes-models);
//   (b) the operator's pod is PSS "restricted" and hardened like the test pods;
//   (c) RBAC is least privilege: the exact rules, and every API call of kube.ts covered;
//   (d) the generated files in the tree are what the script makes now (no drift, no stale files);
//   (e) the chart, rendered by a small Go-template renderer below, equals the builders' objects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import fc from 'fast-check';
import { Ajv } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Namespace, ServiceAccount } from 'kubernetes-models/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { masterJob, podTemplate, workerJob } from '../src/builders.ts';
import { crd } from '../src/crd.ts';
import {
  DEFAULT_VALUES, HEALTH_PORT, LOADTEST_CREATOR, OPERATOR_NAME, all, customResourceDefinition, deployment, installValues,
  serviceAccount, type InstallValues, type PolicyRule,
} from '../src/manifests.ts';
import { checkRestricted } from '../src/pss.ts';
import type { JsonObject, LoadTest } from '../src/types.ts';
import { CHART_DIR, DEPLOY_DIR, ROOT, chartTemplates, existingGeneratedFiles, renderFiles, valuesSchema } from '../scripts/render-manifests.ts';
import { admissionErrors } from './crd-validator.ts';
import { loadTest } from './samples.ts';

const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');
const meta = (o: JsonObject): { name: string; namespace?: string } => o.metadata as { name: string; namespace?: string };
const ofKind = (objects: JsonObject[], kind: string): JsonObject[] => objects.filter((o) => o.kind === kind);

/** Value sets that between them take every branch of the builders and the templates. */
const VARIANTS: [string, InstallValues][] = [
  ['defaults (Namespace mode, install namespace)', installValues()],
  ['Namespace mode, two watched namespaces', installValues({ namespace: 'perf-system', watchNamespaces: ['team-a', 'team-b'] })],
  ['Cluster mode, all namespaces', installValues({ rbacScope: 'Cluster' })],
  ['Cluster mode, one namespace, no CRD, no creator Role', installValues({ rbacScope: 'Cluster', watchNamespaces: ['perf'], installCRD: false, createLoadTestCreatorRole: false })],
];

// ---------------------------------------------------------------------------------------------------------
// (a) OpenAPI schemas

function validateObject(object: JsonObject): void {
  const models: Record<string, new (data: never) => { validate(): void }> = {
    Namespace, ServiceAccount, Role, RoleBinding, ClusterRole, ClusterRoleBinding, Deployment, CustomResourceDefinition,
  };
  const Model = models[String(object.kind)];
  if (!Model) throw new Error(`no schema for ${String(object.kind)}`);
  new Model(structuredClone(object) as never).validate();
}

/** crd.ts's object without `additionalProperties: false` next to `properties` (which the API server forbids). */
function withoutClosedObjects(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutClosedObjects);
  if (typeof value !== 'object' || value === null) return value;
  const o = value as JsonObject;
  return Object.fromEntries(Object.entries(o)
    .filter(([k, v]) => !(k === 'additionalProperties' && v === false && typeof o.properties === 'object'))
    .map(([k, v]) => [k, withoutClosedObjects(v)]));
}

function findClosedObjects(value: unknown, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => findClosedObjects(v, `${at}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  const o = value as JsonObject;
  return [
    ...(o.additionalProperties === false && typeof o.properties === 'object' ? [at] : []),
    ...Object.entries(o).flatMap(([k, v]) => findClosedObjects(v, `${at}.${k}`)),
  ];
}

describe('install manifests: Kubernetes OpenAPI schemas', () => {
  for (const [label, values] of VARIANTS) {
    it(`every object is valid: ${label}`, () => {
      const objects = all(values);
      assert.ok(objects.length >= 4);
      for (const object of objects) validateObject(object);
    });
  }

  it('the validation is real: a broken Role or Deployment is refused', () => {
    const role = ofKind(all(installValues()), 'Role')[0]!;
    assert.throws(() => validateObject({ ...role, rules: [{ apiGroups: [''], resources: ['pods'], verbs: 'get' }] }), /verbs/);
    const broken = structuredClone(deployment(installValues())) as { spec: { template: { spec: { containers: JsonObject[] } } } };
    delete broken.spec.template.spec.containers[0]!.name;
    assert.throws(() => validateObject(broken), /name/);
  });

  it('the installed CRD is crd.ts\'s, with the keep annotation, and without additionalProperties:false next to properties', () => {
    const installed = customResourceDefinition();
    validateObject(installed);
    assert.deepEqual(findClosedObjects(installed), [], 'the API server refuses additionalProperties:false with properties ("mutual exclusive")');
    assert.deepEqual(installed.spec, withoutClosedObjects(crd.spec));
    assert.deepEqual((meta(installed) as { annotations?: Record<string, string> }).annotations, { 'helm.sh/resource-policy': 'keep' });
    assert.deepEqual({ ...installed, metadata: { ...meta(installed), annotations: undefined }, spec: undefined }, { ...crd, metadata: { ...meta(crd), annotations: undefined }, spec: undefined });
  });
});

// ---------------------------------------------------------------------------------------------------------
// (b) The operator's pod

type Container = JsonObject & { env: { name: string; value: string }[]; securityContext: JsonObject; resources: { requests: Record<string, string>; limits: Record<string, string> }; volumeMounts: { name: string; mountPath: string }[]; livenessProbe: JsonObject; readinessProbe: JsonObject; ports: JsonObject[] };
type PodSpec = JsonObject & { containers: Container[]; volumes: JsonObject[]; securityContext: JsonObject };
const podOf = (d: JsonObject): { metadata: JsonObject; spec: PodSpec } => (d.spec as { template: { metadata: JsonObject; spec: PodSpec } }).template;
const envOf = (d: JsonObject): Record<string, string> => Object.fromEntries(podOf(d).spec.containers[0]!.env.map((e) => [e.name, e.value]));

describe('install manifests: the operator Deployment', () => {
  it('passes PSS "restricted" (automountServiceAccountToken is not a PSS control: it is set, explicitly, to true)', () => {
    for (const [, values] of VARIANTS) {
      const pod = podOf(deployment(values));
      assert.deepEqual(checkRestricted(pod), []);
      assert.equal(pod.spec.automountServiceAccountToken, true, 'the operator needs its token; set explicitly');
    }
    assert.equal(serviceAccount(installValues()).automountServiceAccountToken, false, 'off on the ServiceAccount: only this pod opts in');
  });

  it('is hardened exactly like the test pods', () => {
    const pod = podOf(deployment(installValues()));
    const testPod = podTemplate(loadTest(), 'master') as { spec: PodSpec };
    assert.deepEqual(pod.spec.securityContext, testPod.spec.securityContext);
    assert.deepEqual(pod.spec.containers[0]!.securityContext, testPod.spec.containers[0]!.securityContext);
    assert.equal(pod.spec.enableServiceLinks, false);
    const c = pod.spec.containers[0]!;
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
    assert.ok(c.volumeMounts.some((m) => m.mountPath === '/tmp' && pod.spec.volumes.some((v) => v.name === m.name && 'emptyDir' in v)), 'an emptyDir on /tmp');
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.cpu && c.resources.limits.memory, 'requests and limits set');
    assert.equal(pod.spec.serviceAccountName, OPERATOR_NAME);
  });

  it('probes /healthz and /readyz on 8081 (main.ts) and passes WATCH_NAMESPACES, HOME and TMPDIR', () => {
    const d = deployment(installValues());
    const c = podOf(d).spec.containers[0]!;
    assert.equal(HEALTH_PORT, 8081);
    assert.deepEqual(c.ports, [{ name: 'health', containerPort: 8081, protocol: 'TCP' }]);
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'health' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'health' });
    const env = envOf(d);
    assert.equal(env.HEALTH_PORT, '8081');
    assert.equal(env.HOME, '/tmp');
    assert.equal(env.TMPDIR, '/tmp');
    assert.equal(env.WATCH_NAMESPACES, 'cicada-system');
    assert.equal(envOf(deployment(installValues({ watchNamespaces: ['a', 'b'] }))).WATCH_NAMESPACES, 'a,b');
    assert.equal(envOf(deployment(installValues({ rbacScope: 'Cluster' }))).WATCH_NAMESPACES, '', 'Cluster mode, no list: every namespace');
    assert.equal(envOf(deployment(installValues({ rbacScope: 'Cluster', watchNamespaces: ['x'] }))).WATCH_NAMESPACES, 'x');
  });
});

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

// ---------------------------------------------------------------------------------------------------------
// (d) The generated files in the tree

describe('generated manifests and chart', () => {
  it('the files in the tree are exactly what render-manifests.ts makes now (re-run it after changing the builders)', () => {
    const files = renderFiles();
    const again = renderFiles();
    assert.deepEqual([...again], [...files], 'deterministic');
    for (const [file, text] of files) {
      assert.ok(existsSync(path.join(ROOT, file)), `${file} is missing: node --import tsx operator/scripts/render-manifests.ts`);
      assert.equal(read(file), text, `${file} is stale: node --import tsx operator/scripts/render-manifests.ts`);
    }
    assert.deepEqual(existingGeneratedFiles(), [...files.keys()].sort(), `stale files in ${DEPLOY_DIR} or ${CHART_DIR}`);
  });

  it('the plain manifests are all(DEFAULT_VALUES), in apply order across 00-, 10-, 20- files', () => {
    const files = [...renderFiles().keys()].filter((f) => f.startsWith(`${DEPLOY_DIR}/`)).sort();
    const objects = files.flatMap((f) => parseAllDocuments(read(f)).filter((d) => d.contents !== null).map((d) => d.toJS() as JsonObject));
    assert.deepEqual(objects, all(DEFAULT_VALUES));
    assert.equal(DEFAULT_VALUES.namespace, 'cicada-system');
    assert.equal(DEFAULT_VALUES.rbacScope, 'Namespace');
  });

  it('Chart.yaml: apiVersion v2, version and appVersion 0.1.0', () => {
    const chart = parseYaml(read(`${CHART_DIR}/Chart.yaml`)) as JsonObject;
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'cicada-operator');
    assert.equal(chart.version, '0.1.0');
    assert.equal(chart.appVersion, '0.1.0');
  });

  it('values.yaml holds the defaults and passes values.schema.json, which refuses a bad scope or namespace', () => {
    const values = parseYaml(read(`${CHART_DIR}/values.yaml`)) as JsonObject;
    assert.deepEqual(values, {
      image: DEFAULT_VALUES.image, imagePullPolicy: 'IfNotPresent', resources: DEFAULT_VALUES.resources, rbac: { scope: 'Namespace' },
      watchNamespaces: [], installCRD: true, createLoadTestCreatorRole: true,
    });
    const schema = JSON.parse(read(`${CHART_DIR}/values.schema.json`)) as JsonObject;
    assert.deepEqual(schema, valuesSchema());
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    assert.ok(validate(values), JSON.stringify(validate.errors));
    assert.ok(!validate({ ...values, rbac: { scope: 'Everything' } }));
    assert.ok(!validate({ ...values, watchNamespaces: ['Bad_Namespace'] }));
    assert.ok(!validate({ ...values, imagePullPolicy: 'Sometimes' }));
    assert.ok(!validate({ ...values, resources: { requests: { cpu: '1' } } }));
    assert.ok(validate({ ...values, rbac: { scope: 'Cluster' }, watchNamespaces: ['team-a'] }));
  });
});

// ---------------------------------------------------------------------------------------------------------
// (e) The chart renders what the builders make
//
// There is no helm binary here. `helm template` would (1) merge --set values over values.yaml, (2) execute each
// template with Go's text/template plus sprig, (3) split the output on `---` and parse each document. Below is a
// renderer for exactly the subset render-manifests.ts generates — {{ .Values.x.y }}, {{ .Release.Namespace }},
// $ and $variables, pipelines, parentheses, if / else if / else / end, range $v := …, {{- -}} whitespace trimming,
// and the functions eq, quote, toYaml, nindent, default, list, join — with Go's semantics for them (truthiness,
// `.` rebinding in range, `toYaml` sorting keys and dropping the final newline like Helm's). Anything else throws,
// so a template outside the subset fails this test instead of being rendered loosely. The rendered documents must
// deep-equal manifests.ts's objects for the same values: the chart cannot render anything the builders do not make.

type Token = { kind: 'text'; text: string } | { kind: 'action'; body: string };
type TNode =
  | { kind: 'text'; text: string }
  | { kind: 'out'; expr: string }
  | { kind: 'if'; branches: { cond: string; body: TNode[] }[]; otherwise: TNode[] }
  | { kind: 'range'; variable: string | undefined; expr: string; body: TNode[] };

function lex(source: string): Token[] {
  const tokens: Token[] = [];
  const action = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;
  let last = 0;
  let trimNext = false;
  for (const m of source.matchAll(action)) {
    let text = source.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1]) text = text.replace(/\s+$/, '');
    tokens.push({ kind: 'text', text });
    const body = m[2]!.trim();
    if (body.startsWith('/*')) throw new Error('template comments are outside the subset');
    tokens.push({ kind: 'action', body });
    trimNext = m[3] !== undefined;
    last = m.index + m[0].length;
  }
  tokens.push({ kind: 'text', text: trimNext ? source.slice(last).replace(/^\s+/, '') : source.slice(last) });
  return tokens;
}

function parseTemplate(tokens: Token[]): TNode[] {
  let i = 0;
  function block(): { nodes: TNode[]; stop: string | undefined } {
    const nodes: TNode[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t.kind === 'text') {
        if (t.text) nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const body = t.body;
      if (body === 'end' || body === 'else' || body.startsWith('else if ')) return { nodes, stop: body };
      if (body.startsWith('if ')) {
        const node: TNode & { kind: 'if' } = { kind: 'if', branches: [], otherwise: [] };
        let cond = body.slice(3);
        for (;;) {
          const inner = block();
          node.branches.push({ cond, body: inner.nodes });
          if (inner.stop === 'end') break;
          if (inner.stop === 'else') {
            const rest = block();
            if (rest.stop !== 'end') throw new Error('else without end');
            node.otherwise = rest.nodes;
            break;
          }
          if (inner.stop?.startsWith('else if ')) {
            cond = inner.stop.slice('else if '.length);
            continue;
          }
          throw new Error('if without end');
        }
        nodes.push(node);
      } else if (body.startsWith('range ')) {
        const header = body.slice('range '.length).trim();
        const assign = header.indexOf(':=');
        const variable = assign >= 0 ? header.slice(0, assign).trim() : undefined;
        if (variable !== undefined && !/^\$\w+$/.test(variable)) throw new Error(`bad range: ${body}`);
        const inner = block();
        if (inner.stop !== 'end') throw new Error('range without end (range/else is outside the subset)');
        nodes.push({ kind: 'range', variable, expr: assign >= 0 ? header.slice(assign + 2).trim() : header, body: inner.nodes });
      } else if (/^(define|template|include|with|block|tpl)\b/.test(body) || body.includes(':=')) {
        throw new Error(`outside the subset: {{ ${body} }}`);
      } else {
        nodes.push({ kind: 'out', expr: body });
      }
    }
    return { nodes, stop: undefined };
  }
  const { nodes, stop } = block();
  if (stop !== undefined) throw new Error(`unexpected {{ ${stop} }}`);
  return nodes;
}

interface Scope { dot: unknown; root: unknown; vars: Map<string, unknown> }

/** Go template truthiness: false, 0, nil, and empty strings, slices and maps are false. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** A string, number or boolean as Go prints it; anything else is outside what these templates print. */
function scalar(v: unknown, where: string): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${where}: ${JSON.stringify(v)} is not a scalar`);
}

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  eq: (a, b) => a === b,
  // sprig quote: %q of each non-nil argument; the same as JSON for the printable strings the chart takes.
  quote: (...xs) => xs.filter((x) => x !== undefined && x !== null).map((x) => JSON.stringify(scalar(x, 'quote'))).join(' '),
  // Helm's toYaml: sigs.k8s.io/yaml (keys sorted), final newline dropped.
  toYaml: (v) => stringify(v, { sortMapEntries: true, version: '1.1' }).replace(/\n$/, ''),
  nindent: (n, s) => `\n${scalar(s, 'nindent').split('\n').map((line) => ' '.repeat(Number(n)) + line).join('\n')}`,
  default: (fallback, given) => (truthy(given) ? given : fallback),
  list: (...xs) => xs,
  join: (sep, xs) => {
    if (!Array.isArray(xs)) throw new Error('join of a non-list');
    return xs.map((x) => scalar(x, 'join')).join(scalar(sep, 'join'));
  },
};

/** Splits an expression into tokens: "strings", ( ) |, .Field.paths, $var.paths, numbers, identifiers. */
function scan(expr: string): string[] {
  const tokens: string[] = [];
  const word = /[\w.$-]/;
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n') {
      i++;
    } else if (ch === '(' || ch === ')' || ch === '|') {
      tokens.push(ch);
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== '"') j += expr[j] === '\\' ? 2 : 1;
      if (j >= expr.length) throw new Error(`unterminated string in ${expr}`);
      tokens.push(expr.slice(i, j + 1));
      i = j + 1;
    } else if (word.test(ch)) {
      let j = i;
      while (j < expr.length && word.test(expr[j]!)) j++;
      const token = expr.slice(i, j);
      // .Field.path, $.path, $var.path, an identifier, or a number.
      const [head, ...rest] = token.split('.');
      const readable = token === '.' || /^-?\d+$/.test(token) || (/^\$?\w*$/.test(head!) && rest.every((part) => /^\w+$/.test(part)));
      if (!readable) throw new Error(`cannot read ${token} in ${expr}`);
      tokens.push(token);
      i = j;
    } else {
      throw new Error(`cannot read ${ch} in ${expr}`);
    }
  }
  return tokens;
}

function evaluate(expr: string, scope: Scope): unknown {
  const tokens = scan(expr);
  let i = 0;
  const field = (base: unknown, names: string[], whole: string): unknown => names.reduce<unknown>((v, name) => {
    if (typeof v !== 'object' || v === null) throw new Error(`nil pointer evaluating ${whole}`);
    return (v as Record<string, unknown>)[name];
  }, base);
  function operand(): { value: unknown; fn?: string } {
    const t = tokens[i++];
    if (t === undefined) throw new Error(`unexpected end of ${expr}`);
    if (t === '(') {
      const v = pipeline();
      if (tokens[i++] !== ')') throw new Error(`missing ) in ${expr}`);
      return { value: v };
    }
    if (t.startsWith('"')) return { value: JSON.parse(t) };
    if (/^-?\d+$/.test(t)) return { value: Number(t) };
    if (t === '.') return { value: scope.dot };
    if (t.startsWith('.')) return { value: field(scope.dot, t.slice(1).split('.'), t) };
    if (t.startsWith('$')) {
      const [name, ...rest] = t.split('.');
      const base = name === '$' ? scope.root : scope.vars.get(name!);
      if (name !== '$' && !scope.vars.has(name!)) throw new Error(`undefined variable ${name}`);
      return { value: field(base, rest, t) };
    }
    if (t === 'true' || t === 'false') return { value: t === 'true' };
    if (t === 'nil') return { value: null };
    if (!(t in FUNCTIONS)) throw new Error(`function "${t}" is outside the subset`);
    return { value: undefined, fn: t };
  }
  function command(piped: unknown[]): unknown {
    const parts: { value: unknown; fn?: string }[] = [];
    while (i < tokens.length && tokens[i] !== '|' && tokens[i] !== ')') parts.push(operand());
    const [head, ...args] = parts;
    if (!head) throw new Error(`empty command in ${expr}`);
    if (head.fn) return FUNCTIONS[head.fn]!(...args.map((a) => a.value), ...piped);
    if (args.length > 0 || piped.length > 0) throw new Error(`${expr}: only a function takes arguments`);
    return head.value;
  }
  function pipeline(): unknown {
    let value = command([]);
    while (tokens[i] === '|') {
      i++;
      value = command([value]);
    }
    return value;
  }
  const result = pipeline();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${expr}`);
  return result;
}

function execute(nodes: TNode[], scope: Scope): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'out') {
      const v = evaluate(node.expr, scope);
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out += String(v);
      else throw new Error(`{{ ${node.expr} }} printed ${JSON.stringify(v)}: only scalars are printed by these templates`);
    } else if (node.kind === 'if') {
      const branch = node.branches.find((b) => truthy(evaluate(b.cond, scope)));
      out += execute(branch ? branch.body : node.otherwise, scope);
    } else {
      const items = evaluate(node.expr, scope);
      if (!Array.isArray(items)) throw new Error(`range over a non-list: ${node.expr}`);
      for (const item of items) {
        const vars = new Map(scope.vars);
        if (node.variable) vars.set(node.variable, item);
        out += execute(node.body, { dot: item, root: scope.root, vars });
      }
    }
  }
  return out;
}

export function renderTemplate(source: string, root: JsonObject): string {
  return execute(parseTemplate(lex(source)), { dot: root, root, vars: new Map() });
}

type ChartValues = { image: string; imagePullPolicy: InstallValues['imagePullPolicy']; resources: InstallValues['resources']; rbac: { scope: InstallValues['rbacScope'] }; watchNamespaces: string[]; installCRD: boolean; createLoadTestCreatorRole: boolean };

/** `helm template RELEASE charts/cicada-operator -n NAMESPACE --set …`: values.yaml merged with the overrides, each template in apply order. */
function helmTemplate(overrides: Partial<ChartValues>, releaseNamespace: string): JsonObject[] {
  const values = { ...(parseYaml(read(`${CHART_DIR}/values.yaml`)) as ChartValues), ...overrides };
  const root = { Values: values, Release: { Name: 'cicada-operator', Namespace: releaseNamespace, Service: 'Helm' }, Chart: { Name: 'cicada-operator' } };
  return chartTemplates().map(([name]) => name).flatMap((name) => {
    const text = renderTemplate(read(`${CHART_DIR}/templates/${name}`), root);
    return parseAllDocuments(text).filter((d) => d.contents !== null).map((d) => {
      assert.deepEqual(d.errors, [], `${name}: ${text}`);
      return d.toJS() as JsonObject;
    });
  });
}

/** The builders' values for a release: the chart values plus the release namespace; Helm does not make the Namespace. */
function installValuesOf(overrides: Partial<ChartValues>, releaseNamespace: string): InstallValues {
  const v = { ...(parseYaml(read(`${CHART_DIR}/values.yaml`)) as ChartValues), ...overrides };
  return {
    namespace: releaseNamespace, image: v.image, imagePullPolicy: v.imagePullPolicy, resources: v.resources, rbacScope: v.rbac.scope,
    watchNamespaces: v.watchNamespaces, installCRD: v.installCRD, createLoadTestCreatorRole: v.createLoadTestCreatorRole, createNamespace: false,
  };
}

describe('the Helm chart renders exactly what the builders make (in place of helm template)', () => {
  it('the renderer follows Go template rules: trimming, if/else if/else, range with $, default, join, toYaml | nindent', () => {
    const root = { Values: { a: { b: 'x' }, list: ['p', 'q'], empty: [], res: { z: '1', a: { c: '2Mi' } } }, Release: { Namespace: 'ns' } };
    assert.equal(renderTemplate('k: {{ .Values.a.b | quote }}\n{{- if eq .Values.a.b "y" }}\nno{{- else if .Values.list }}\nyes{{- else }}\nno{{- end }}\n', root), 'k: "x"\nyes\n');
    assert.equal(renderTemplate('{{- range $n := .Values.list }}\n- {{ $n }}/{{ . }}/{{ $.Release.Namespace }}{{- end }}', root), '\n- p/p/ns\n- q/q/ns');
    assert.equal(renderTemplate('{{ .Values.empty | default (list .Release.Namespace) | join "," }}', root), 'ns');
    assert.equal(renderTemplate('r:\n  {{- toYaml .Values.res | nindent 2 }}', root), 'r:\n  a:\n    c: 2Mi\n  z: "1"');
    assert.equal(renderTemplate('a  {{- " b " -}}  c', root), 'a b c');
    assert.throws(() => renderTemplate('{{ include "x" . }}', root), /outside the subset/);
    assert.throws(() => renderTemplate('{{ .Values.nope.deeper }}', root), /nil pointer/);
    assert.throws(() => renderTemplate('{{ .Values.a }}', root), /only scalars/);
  });

  it('default values, release namespace cicada-system: equals all() (Namespace mode)', () => {
    assert.deepEqual(helmTemplate({}, 'cicada-system'), all(installValuesOf({}, 'cicada-system')));
    assert.deepEqual(helmTemplate({}, 'cicada-system'), all({ ...DEFAULT_VALUES, createNamespace: false }));
  });

  it('rbac.scope=Cluster: equals all() (ClusterRole mode)', () => {
    const overrides: Partial<ChartValues> = { rbac: { scope: 'Cluster' } };
    const rendered = helmTemplate(overrides, 'cicada-system');
    assert.deepEqual(rendered, all(installValuesOf(overrides, 'cicada-system')));
    assert.ok(rendered.some((o) => o.kind === 'ClusterRoleBinding'));
  });

  it('property: any values the schema admits render to all() for them', () => {
    const dnsLabel = fc.stringMatching(/^[a-z0-9-]{1,14}$/).filter((n) => !n.startsWith('-') && !n.endsWith('-'));
    const quantity = fc.constantFrom('1', '0.5', '100m', '2', '64Mi', '1Gi', '512M');
    const overrides = fc.record({
      image: fc.tuple(fc.stringMatching(/^[a-z0-9./-]{1,30}$/), fc.constantFrom('', ':0.1.0', ':latest', `@sha256:${'a'.repeat(64)}`)).map(([repo, tag]) => `r/${repo}${tag}`),
      imagePullPolicy: fc.constantFrom('Always', 'IfNotPresent', 'Never'),
      resources: fc.record({ requests: fc.record({ cpu: quantity, memory: quantity }), limits: fc.record({ cpu: quantity, memory: quantity }) }),
      rbac: fc.record({ scope: fc.constantFrom('Namespace', 'Cluster') }),
      watchNamespaces: fc.uniqueArray(dnsLabel, { maxLength: 3 }),
      installCRD: fc.boolean(),
      createLoadTestCreatorRole: fc.boolean(),
    }) as fc.Arbitrary<ChartValues>;
    const validate = new Ajv({ strict: false }).compile(valuesSchema());
    fc.assert(fc.property(overrides, dnsLabel, (o, releaseNamespace) => {
      assert.ok(validate(o), JSON.stringify(validate.errors));
      assert.deepEqual(helmTemplate(o, releaseNamespace), all(installValuesOf(o, releaseNamespace)));
    }), { numRuns: 60 });
  });

  it('NOTES.txt renders too', () => {
    const text = renderTemplate(read(`${CHART_DIR}/templates/NOTES.txt`), { Values: { rbac: { scope: 'Namespace' } }, Release: { Namespace: 'cicada-system' } });
    assert.match(text, /namespace cicada-system \(Namespace RBAC mode\)/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The Dockerfiles (no Docker engine here: parsed and checked, not built)

interface Instruction { op: string; args: string }

function dockerfile(file: string): { args: Record<string, string>; stages: { from: string; name: string | undefined; steps: Instruction[] }[] } {
  const lines = read(file).split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter(Boolean);
  const args: Record<string, string> = {};
  const stages: { from: string; name: string | undefined; steps: Instruction[] }[] = [];
  for (const line of lines) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    assert.ok(m, `${file}: cannot read ${line}`);
    const op = m[1]!.toUpperCase();
    const rest = m[2]!;
    if (op === 'FROM') {
      const [image, as, name, ...extra] = rest.split(/\s+/);
      assert.ok(image && (as === undefined || (as.toUpperCase() === 'AS' && name)) && extra.length === 0, `${file}: FROM ${rest}`);
      const arg = image.startsWith('${') && image.endsWith('}') ? image.slice(2, -1) : undefined;
      stages.push({ from: arg !== undefined ? args[arg] ?? image : image, name, steps: [] });
    } else if (op === 'ARG' && stages.length === 0) {
      const [name, value] = rest.split('=');
      args[name!] = value ?? '';
    } else {
      assert.ok(stages.length > 0, `${file}: ${op} before FROM`);
      stages.at(-1)!.steps.push({ op, args: rest });
    }
  }
  return { args, stages };
}

const dockerignore = (): string[] => read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

describe('Dockerfiles', () => {
  const images: [string, string][] = [['Dockerfile', '/app/bin/cicada.mjs'], ['operator/Dockerfile', '/app/operator/bin/cicada-operator.mjs']];
  for (const [file, entry] of images) {
    it(`${file}: multi-stage, non-root numeric USER, node ${entry}, read-only-root friendly, no shell in the image`, () => {
      const { stages } = dockerfile(file);
      assert.ok(stages.length >= 2, 'multi-stage');
      const final = stages.at(-1)!;
      assert.match(final.from, /^(gcr\.io\/distroless\/nodejs20-debian12(:nonroot)?|node:20-slim)$/);
      for (const s of stages.slice(0, -1)) assert.match(s.from, /^node:20(-slim)?$/);
      const user = final.steps.filter((s) => s.op === 'USER').at(-1);
      assert.ok(user, 'a USER in the final stage');
      const ids = user.args.split(':');
      assert.ok(ids.length <= 2 && ids.every((id) => /^\d+$/.test(id)), `USER must be numeric (runAsNonRoot can verify only a numeric user): ${user.args}`);
      assert.ok(ids.every((id) => Number(id) > 0), 'USER must not be root');
      const entrypoint = final.steps.filter((s) => s.op === 'ENTRYPOINT').at(-1);
      assert.ok(entrypoint);
      const argv = JSON.parse(entrypoint.args) as string[];
      assert.ok(['node', '/nodejs/bin/node'].includes(argv[0]!), `exec form, node first: ${entrypoint.args}`);
      assert.equal(argv[1], entry);
      assert.ok(existsSync(path.join(ROOT, entry.replace(/^\/app\//, ''))), `${entry} exists in the repo`);
      const env = final.steps.filter((s) => s.op === 'ENV').map((s) => s.args).join(' ');
      assert.match(env, /\bHOME=\/tmp\b/);
      assert.match(env, /\bTMPDIR=\/tmp\b/);
      if (final.from.includes('distroless')) assert.deepEqual(final.steps.filter((s) => s.op === 'RUN'), [], 'distroless has no shell: no RUN in the final stage');
      // Runtime dependencies only: node_modules comes from a stage that ran `npm ci --omit=dev`.
      const copyModules = final.steps.find((s) => s.op === 'COPY' && /--from=(\S+)\s+\/app\/node_modules\b/.test(s.args));
      assert.ok(copyModules);
      const depsStage = stages.find((s) => s.name === /--from=(\S+)/.exec(copyModules.args)![1]);
      assert.ok(depsStage?.steps.some((s) => s.op === 'RUN' && /npm ci\b.*--omit=dev/.test(s.args)), 'npm ci --omit=dev');
      // Every file copied from the build context exists and is not excluded by .dockerignore.
      const ignored = dockerignore();
      for (const copy of final.steps.filter((s) => s.op === 'COPY' && !s.args.includes('--from='))) {
        const sources = copy.args.split(/\s+/).slice(0, -1);
        for (const source of sources) {
          assert.ok(existsSync(path.join(ROOT, source)), `${file}: COPY ${source}: not in the repo`);
          assert.ok(!ignored.includes(source.split('/')[0]!) && !ignored.includes(source), `${file}: COPY ${source} is excluded by .dockerignore`);
        }
      }
    });
  }

  it('Dockerfile: the web UI is built in a build stage (npm run build) and dist/ui copied', () => {
    const { stages } = dockerfile('Dockerfile');
    const ui = stages.find((s) => s.steps.some((st) => st.op === 'RUN' && /npm run build/.test(st.args)));
    assert.ok(ui?.name);
    assert.ok(stages.at(-1)!.steps.some((s) => s.op === 'COPY' && s.args === `--from=${ui.name} /src/dist/ui ./dist/ui`));
    assert.ok(ui.steps.some((s) => s.op === 'COPY' && s.args.startsWith('ui ')), 'the UI sources go into the build stage');
  });

  it('.dockerignore keeps node_modules, tests and git out of the context', () => {
    const ignored = dockerignore();
    for (const entry of ['.git', '**/node_modules', '**/*.test.ts', 'dist']) assert.ok(ignored.includes(entry), entry);
  });
});

// ---------------------------------------------------------------------------------------------------------
// docs/kubernetes.md

describe('docs/kubernetes.md', () => {
  it('its LoadTest example is admitted by the CRD and runs as restricted pods', () => {
    const blocks = [...read('docs/kubernetes.md').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('kind: LoadTest'));
    assert.equal(blocks.length, 1);
    const example = parseYaml(blocks[0]!) as LoadTest;
    assert.deepEqual(admissionErrors(example), []);
    for (const job of [masterJob({ ...example, metadata: { ...example.metadata, uid: 'u' } }), workerJob(example)]) {
      assert.deepEqual(checkRestricted((job.spec as { template: JsonObject }).template), []);
    }
  });

  it('names the install paths, the chart values and the files it points to', () => {
    const doc = read('docs/kubernetes.md');
    for (const text of ['kubectl apply --server-side -f operator/deploy/', 'helm install cicada-operator ./charts/cicada-operator', 'rbac.scope', 'auth can-i', 'hash-password', 'cicada secret']) {
      assert.ok(doc.includes(text), text);
    }
    for (const file of ['operator/deploy', 'charts/cicada-operator', 'operator/Dockerfile', 'operator/scripts/render-manifests.ts', 'operator/test/manifests.test.ts']) {
      assert.ok(existsSync(path.join(ROOT, file)), file);
    }
  });
});
