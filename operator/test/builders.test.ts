// The builders' objects: valid Kubernetes objects (OpenAPI schemas), pods that pass "restricted" for any valid spec,
// the flags each pod runs with, and the NetworkPolicy's reach.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Job } from 'kubernetes-models/batch/v1';
import { Service } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { children, masterJob, masterService, networkPolicy, workerJob } from '../src/builders.ts';
import { checkRestricted } from '../src/pss.ts';
import type { JsonObject, LoadTest, LoadTestSpec } from '../src/types.ts';
import { admissionErrors } from './crd-validator.ts';
import { fullLoadTest, loadTest } from './samples.ts';

type PodTemplate = { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: JsonObject & { containers: (JsonObject & { args: string[]; resources: { requests: JsonObject; limits: JsonObject }; securityContext: JsonObject; env: { name: string; value?: string }[]; volumeMounts: { mountPath: string }[] })[] } };
const template = (job: JsonObject): PodTemplate => (job.spec as { template: PodTemplate }).template;

/** Validates one generated object against the Kubernetes OpenAPI schema of its kind. */
function validateObject(object: JsonObject): void {
  const kind = object.kind;
  if (kind === 'Job') new Job(object).validate();
  else if (kind === 'Service') new Service(object).validate();
  else if (kind === 'NetworkPolicy') new NetworkPolicy(object).validate();
  else throw new Error(`no schema for ${String(kind)}`);
}

function assertHardened(test: LoadTest): void {
  for (const job of [masterJob(test), workerJob(test)]) {
    const pod = template(job);
    const violations = checkRestricted(pod);
    assert.deepEqual(violations, [], `${String((job.metadata as JsonObject).name)} is not "restricted": ${JSON.stringify(violations)}`);
    assert.equal(pod.spec.automountServiceAccountToken, false);
    for (const c of pod.spec.containers) {
      assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.cpu && c.resources.limits.memory, 'requests and limits are always set');
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.ok(c.volumeMounts.some((m) => m.mountPath === '/tmp'), 'an emptyDir on /tmp for the read-only root');
      assert.equal(c.securityContext.runAsUser, undefined, 'no hard-coded runAsUser (OpenShift assigns one)');
    }
    assert.equal((pod.spec.securityContext as JsonObject).runAsUser, undefined);
  }
}

describe('builders', () => {
  it('make valid Kubernetes objects (OpenAPI schemas) for a minimal and a full LoadTest', () => {
    for (const test of [loadTest(), fullLoadTest()]) {
      for (const object of children(test)) validateObject(object);
    }
  });

  it('harden every pod whatever the spec: "restricted", no service account token, limits set, no fixed user', () => {
    assertHardened(loadTest());
    assertHardened(fullLoadTest());
  });

  it('property: any spec the CRD admits gives restricted, valid objects', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/);
    const ref = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}[a-z0-9]$/);
    const quantity = fc.constantFrom('100m', '1', '2', '512Mi', '1Gi', '250m');
    const resources = fc.option(fc.record({ requests: fc.option(fc.record({ cpu: quantity }), { nil: undefined }), limits: fc.option(fc.record({ memory: quantity }), { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined });
    const volume = fc.oneof(
      fc.record({ name: fc.constantFrom('data', 'cache'), emptyDir: fc.constant({}) }),
      fc.record({ name: fc.constantFrom('data', 'cache'), configMap: fc.record({ name: ref }) }),
      fc.record({ name: fc.constantFrom('data', 'cache'), secret: fc.record({ secretName: ref }) }),
      fc.record({ name: fc.constantFrom('data', 'cache'), persistentVolumeClaim: fc.record({ claimName: ref }) }),
    );
    const spec = fc.record({
      image: fc.constantFrom('cicada:1', 'registry.example.com/perf/cicada@sha256:' + 'a'.repeat(64)),
      imagePullPolicy: fc.option(fc.constantFrom('Always', 'IfNotPresent', 'Never'), { nil: undefined }),
      testFiles: fc.record({ configMapRef: ref, libConfigMapRef: fc.option(ref, { nil: undefined }) }, { requiredKeys: ['configMapRef'] }),
      run: fc.record({
        users: fc.nat({ max: 100_000 }),
        spawnRate: fc.double({ min: 0.01, max: 1000, noNaN: true }),
        runTime: fc.option(fc.constantFrom('30s', '5m', '1h30m', '90'), { nil: undefined }),
        host: fc.option(fc.constantFrom('http://svc:8080', 'https://shop.example.com'), { nil: undefined }),
        tags: fc.option(fc.array(name, { maxLength: 3 }), { nil: undefined }),
        userClasses: fc.option(fc.array(fc.constantFrom('Shopper', 'Browser'), { maxLength: 2 }), { nil: undefined }),
      }, { requiredKeys: ['users', 'spawnRate'] }),
      master: fc.option(fc.record({ resources, webUI: fc.option(fc.record({ enabled: fc.boolean(), usersSecretRef: ref }), { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined }),
      worker: fc.record({ replicas: fc.integer({ min: 1, max: 500 }), resources }, { requiredKeys: ['replicas'] }),
      security: fc.record({ clusterSecretRef: ref, clusterTLSSecretRef: fc.option(ref, { nil: undefined }) }, { requiredKeys: ['clusterSecretRef'] }),
      volumes: fc.option(fc.uniqueArray(volume, { selector: (v) => v.name, maxLength: 2 }), { nil: undefined }),
      secretMounts: fc.option(fc.array(fc.record({ secretRef: ref, mountPath: fc.constantFrom('/etc/a', '/var/keys') }), { maxLength: 2 }), { nil: undefined }),
      scheduling: fc.option(fc.record({ nodeSelector: fc.dictionary(name, name, { maxKeys: 2 }), runtimeClassName: fc.constantFrom('gvisor', 'kata') }, { requiredKeys: [] }), { nil: undefined }),
      networkPolicy: fc.option(fc.record({ enabled: fc.boolean() }, { requiredKeys: [] }), { nil: undefined }),
      ttlSecondsAfterFinished: fc.option(fc.nat({ max: 86_400 }), { nil: undefined }),
    }, { requiredKeys: ['image', 'testFiles', 'run', 'worker', 'security'] });
    let admitted = 0;
    fc.assert(
      fc.property(name, spec, (testName, s) => {
        const test = loadTest(testName, JSON.parse(JSON.stringify(s)) as Partial<LoadTestSpec>);
        if (admissionErrors(test).length > 0) return;
        admitted++;
        assertHardened(test);
        for (const object of children(test)) validateObject(object);
      }),
      { numRuns: 300, seed: 20261125 },
    );
    assert.ok(admitted > 200, `most generated specs are valid (${admitted} of 300)`);
  });

  it('run the master and workers with the typed fields as flags, the secret as a file, never in env or args', () => {
    const test = fullLoadTest();
    const master = template(masterJob(test)).spec.containers[0]!;
    const worker = template(workerJob(test)).spec.containers[0]!;
    assert.deepEqual(master.args.slice(0, 4), ['-f', '/cicada/test/shop.ts', '--secret-file', '/cicada/secret/secret']);
    for (const flag of ['--master', '--expect-workers', '20', '-u', '500', '-r', '50', '-t', '1h30m', '-H', 'https://shop.example.com', '--autostart', '--web-users', '/cicada/web/users.toml', '--cluster-tls-ca']) {
      assert.ok(master.args.includes(flag), `master runs with ${flag}: ${master.args.join(' ')}`);
    }
    assert.deepEqual(master.args.slice(-3), ['--', 'Shopper', 'Browser']);
    assert.ok(worker.args.includes('--worker'));
    assert.deepEqual(worker.args.slice(worker.args.indexOf('--master-host'), worker.args.indexOf('--master-host') + 4), ['--master-host', 'full-master', '--master-port', '5557']);
    assert.ok(!worker.args.includes('-u'));
    const everything = JSON.stringify([master.args, master.env, worker.args, worker.env]);
    assert.doesNotMatch(everything, /CICADA_SECRET/);
    assert.ok(master.env.some((e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT' && e.value === 'http://otel-collector:4318'));
    assert.ok(master.env.some((e) => e.name === 'OTEL_EXPORTER_OTLP_HEADERS'));
    // The variables configure the master's --otel; workers never export (one series per run).
    assert.ok(master.args.includes('--otel'));
    assert.ok(!worker.args.includes('--otel'));
    const headless = template(masterJob(loadTest())).spec.containers[0]!;
    assert.ok(headless.args.includes('--headless'));
  });

  it('never default a request above the user\'s limit (the API server would refuse the Job)', () => {
    const test = loadTest('small', { worker: { replicas: 1, resources: { limits: { memory: '128Mi', cpu: '200m' } } } });
    const c = template(workerJob(test)).spec.containers[0]!;
    assert.deepEqual(c.resources.requests, { cpu: '200m', memory: '128Mi' });
    assert.deepEqual(c.resources.limits, { cpu: '200m', memory: '128Mi' });
    const master = template(masterJob(test)).spec.containers[0]!;
    assert.ok(master.args.join(' ').includes('--expect-workers 1 --expect-workers-max-wait 600'), 'the master gives up on workers that never come');
  });

  it('label everything with the recommended and seed-compatible labels, owned by the LoadTest', () => {
    const test = loadTest('shop');
    for (const object of children(test)) {
      const meta = object.metadata as { labels: Record<string, string>; ownerReferences: JsonObject[] };
      assert.equal(meta.labels['app.kubernetes.io/instance'], 'shop');
      assert.equal(meta.labels['app.kubernetes.io/managed-by'], 'cicada-operator');
      assert.equal(meta.labels['performance-test-name'], 'shop');
      assert.deepEqual(meta.ownerReferences, [{ apiVersion: 'cicada.dev/v1', kind: 'LoadTest', name: 'shop', uid: 'uid-shop', controller: true, blockOwnerDeletion: true }]);
    }
    assert.equal(template(masterJob(test)).metadata.labels['performance-test-pod-name'], 'shop-master');
    assert.equal(template(workerJob(test)).metadata.labels['performance-test-pod-name'], 'shop-worker');
    const job = masterJob(test).spec as JsonObject;
    assert.deepEqual([job.parallelism, job.backoffLimit], [1, 0]);
    assert.equal((workerJob(test).spec as JsonObject).parallelism, 2);
  });

  it('open the master Service on 5557, and 8089 only with the web UI', () => {
    const ports = (t: LoadTest): number[] => ((masterService(t).spec as { ports: { port: number }[] }).ports).map((p) => p.port);
    assert.deepEqual(ports(loadTest()), [5557]);
    assert.deepEqual(ports(fullLoadTest()), [5557, 8089]);
  });

  it('limit the network: ingress 5557 from this test\'s workers, 8089 from the chosen peers; egress DNS, master and the listed targets', () => {
    const policy = networkPolicy(fullLoadTest())!.spec as { ingress: { from: JsonObject[]; ports: { port: number }[] }[]; egress: JsonObject[] };
    assert.deepEqual(policy.ingress[0]!.from, [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'full', 'app.kubernetes.io/component': 'worker' } } }]);
    assert.deepEqual(policy.ingress[0]!.ports.map((p) => p.port), [5557]);
    assert.deepEqual(policy.ingress[1]!.from, [{ namespaceSelector: { matchLabels: { team: 'perf' } } }]);
    assert.equal(policy.egress.length, 3);
    assert.equal((networkPolicy(loadTest())!.spec as { ingress: unknown[] }).ingress.length, 1, 'no 8089 rule without the web UI');
    assert.equal(networkPolicy(loadTest('x', { networkPolicy: { enabled: false } })), undefined);
  });
});
