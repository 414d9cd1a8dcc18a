// What installs the operator (operator/src/manifests.ts), the objects themselves, and the two Dockerfiles:
//   (a) every object is valid against the Kubernetes OpenAPI schemas (kubernetes-models);
//   (b) the operator's pod is PSS "restricted" and hardened like the test pods;
//   the Dockerfiles are multi-stage, non-root and read-only-root friendly; docs/kubernetes.md's example is admitted.
// RBAC is in manifests-rbac.test.ts; the generated files and the Helm chart in manifests.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Namespace, ServiceAccount } from 'kubernetes-models/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { masterJob, podTemplate, workerJob } from '../src/builders.ts';
import { crd } from '../src/crd.ts';
import { HEALTH_PORT, OPERATOR_NAME, all, customResourceDefinition, deployment, installValues, serviceAccount } from '../src/manifests.ts';
import { checkRestricted } from '../src/pss.ts';
import type { JsonObject, LoadTest } from '../src/types.ts';
import { ROOT } from '../scripts/render-manifests.ts';
import { admissionErrors } from './crd-validator.ts';
import { VARIANTS, envOf, meta, ofKind, podOf, read, type PodSpec } from './manifests-fixtures.ts';
import { loadTest } from './samples.ts';

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
      // Node 24 LTS (20 is past its end of life): the runtime the suite also runs on.
      assert.match(final.from, /^(gcr\.io\/distroless\/nodejs24-debian12(:nonroot)?|node:24-bookworm-slim)$/);
      for (const s of stages.slice(0, -1)) assert.match(s.from, /^node:24(-bookworm)?(-slim)?$/);
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
