// The fake Kubernetes API server, driven by the real @kubernetes/client-node: if these pass, the operator's tests
// talk to something that answers like a cluster (paths, content types, errors, admission, events, auth, faults).
// Watches and informers are in fake-apiserver-watch.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiException,
  ApiextensionsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubernetesObjectApi,
  NetworkingV1Api,
  PatchStrategy,
  V1MicroTime,
  type KubeConfig,
} from '@kubernetes/client-node';
import { kubeConfigFor, podForJob, startFakeApiServer, type FakeApiServer, type StoredObject } from './fake-apiserver.ts';
import { LT, SUITE, T, apiError, asMergePatch, asStrategicMergePatch, job, loadTest, ownedBy } from './fake-apiserver-fixtures.ts';

describe('fake apiserver: Jobs through BatchV1Api', SUITE, () => {
  let server: FakeApiServer;
  let batch: BatchV1Api;
  let core: CoreV1Api;
  before(async () => {
    server = await startFakeApiServer();
    const kc = kubeConfigFor(server);
    batch = kc.makeApiClient(BatchV1Api);
    core = kc.makeApiClient(CoreV1Api);
  });
  after(() => server.close());

  it('creates, reads and lists with label and field selectors', T, async () => {
    const created = await batch.createNamespacedJob({ namespace: 'default', body: job('master', { app: 'cicada', role: 'master' }) });
    assert.match(created.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.equal(created.metadata!.generation, 1);
    assert.ok(Number(created.metadata!.resourceVersion) > 0);
    assert.ok(created.metadata!.creationTimestamp instanceof Date);
    // Server-side defaulting as the real Job strategy does it: selector on the controller uid, template labels.
    assert.equal(created.spec!.selector!.matchLabels!['batch.kubernetes.io/controller-uid'], created.metadata!.uid);
    assert.equal(created.spec!.template.metadata!.labels!['batch.kubernetes.io/job-name'], 'master');
    assert.equal(created.spec!.completions, 1);
    assert.equal(created.spec!.template.spec!.containers[0]!.imagePullPolicy, 'IfNotPresent');
    await batch.createNamespacedJob({ namespace: 'default', body: job('worker', { app: 'cicada', role: 'worker' }) });
    await batch.createNamespacedJob({ namespace: 'other', body: job('worker', { app: 'cicada', role: 'worker' }) });

    const read = await batch.readNamespacedJob({ name: 'master', namespace: 'default' });
    assert.equal(read.metadata!.uid, created.metadata!.uid);

    const all = await batch.listNamespacedJob({ namespace: 'default' });
    assert.deepEqual(all.items.map((j) => j.metadata!.name), ['master', 'worker']);
    assert.equal(all.metadata!.resourceVersion, server.resourceVersion);
    const workers = await batch.listNamespacedJob({ namespace: 'default', labelSelector: 'app=cicada,role=worker' });
    assert.deepEqual(workers.items.map((j) => j.metadata!.name), ['worker']);
    const setBased = await batch.listNamespacedJob({ namespace: 'default', labelSelector: 'app=cicada,role in (master, nobody)' });
    assert.deepEqual(setBased.items.map((j) => j.metadata!.name), ['master']);
    const byName = await batch.listNamespacedJob({ namespace: 'default', fieldSelector: 'metadata.name=worker' });
    assert.equal(byName.items.length, 1);
    const everywhere = await batch.listJobForAllNamespaces({ labelSelector: 'role=worker' });
    assert.deepEqual(everywhere.items.map((j) => j.metadata!.namespace), ['default', 'other']);
    await apiError(batch.listNamespacedJob({ namespace: 'default', fieldSelector: 'spec.parallelism=1' }), 400, 'BadRequest');
  });

  it('patches: merge, strategic merge (as merge) and JSON patch (the client default)', T, async () => {
    const before = await batch.readNamespacedJob({ name: 'master', namespace: 'default' });
    const merged = await batch.patchNamespacedJob(
      { name: 'master', namespace: 'default', body: { metadata: { labels: { phase: 'one', role: null } } } },
      asMergePatch,
    );
    assert.equal(merged.metadata!.labels!.phase, 'one');
    assert.equal(merged.metadata!.labels!.role, undefined);
    assert.equal(merged.metadata!.generation, 1, 'metadata changes do not bump generation');
    assert.ok(Number(merged.metadata!.resourceVersion) > Number(before.metadata!.resourceVersion));

    const strategic = await batch.patchNamespacedJob({ name: 'master', namespace: 'default', body: { spec: { parallelism: 3 } } }, asStrategicMergePatch);
    assert.equal(strategic.spec!.parallelism, 3);
    assert.equal(strategic.metadata!.generation, 2, 'spec changes bump generation');

    const jsonPatched = await batch.patchNamespacedJob({
      name: 'master',
      namespace: 'default',
      body: [
        { op: 'test', path: '/spec/parallelism', value: 3 },
        { op: 'add', path: '/metadata/annotations', value: { 'cicada.dev/note': 'x' } },
      ],
    });
    assert.equal(jsonPatched.metadata!.annotations!['cicada.dev/note'], 'x');
    assert.ok(server.requests.some((r) => r.verb === 'patch' && r.contentType === 'application/json-patch+json'));
    await apiError(
      batch.patchNamespacedJob({ name: 'master', namespace: 'default', body: [{ op: 'test', path: '/spec/parallelism', value: 99 }] }),
      422,
      'Invalid',
    );
    // A patch carrying a stale resourceVersion is an optimistic-lock conflict.
    await apiError(
      batch.patchNamespacedJob({ name: 'master', namespace: 'default', body: { metadata: { resourceVersion: before.metadata!.resourceVersion } } }, asMergePatch),
      409,
      'Conflict',
    );
    // Job templates are immutable (the real server's 422).
    const body = await apiError(
      batch.patchNamespacedJob({ name: 'master', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'main', image: 'x:2' }] } } } } }, asMergePatch),
      422,
      'Invalid',
    );
    assert.match(body.message, /spec\.template: Invalid value: .*field is immutable/);
  });

  it('replace: stale resourceVersion is a 409 Conflict, the fresh one wins, a no-op keeps the resourceVersion', T, async () => {
    const cur = await batch.readNamespacedJob({ name: 'worker', namespace: 'default' });
    const stale = structuredClone(cur);
    cur.metadata!.labels = { ...cur.metadata!.labels, touched: 'yes' };
    const replaced = await batch.replaceNamespacedJob({ name: 'worker', namespace: 'default', body: cur });
    assert.equal(replaced.metadata!.labels!.touched, 'yes');
    stale.metadata!.labels = { lost: 'update' };
    const conflict = await apiError(batch.replaceNamespacedJob({ name: 'worker', namespace: 'default', body: stale }), 409, 'Conflict');
    assert.match(conflict.message, /Operation cannot be fulfilled on jobs\.batch "worker": the object has been modified/);
    assert.equal(conflict.details.name, 'worker');
    const again = await batch.replaceNamespacedJob({ name: 'worker', namespace: 'default', body: replaced });
    assert.equal(again.metadata!.resourceVersion, replaced.metadata!.resourceVersion, 'a no-op update does not bump the resourceVersion');
    // Status sent to the main resource is ignored (status subresource semantics); /status changes only status.
    replaced.status = { succeeded: 1 };
    const ignored = await batch.replaceNamespacedJob({ name: 'worker', namespace: 'default', body: replaced });
    assert.equal(ignored.status!.succeeded, undefined);
    const status = await batch.patchNamespacedJobStatus({ name: 'worker', namespace: 'default', body: { status: { active: 2 }, spec: { parallelism: 7 } } }, asMergePatch);
    assert.equal(status.status!.active, 2);
    assert.equal(status.spec!.parallelism, 1);
  });

  it('deletes, then reads are 404 ApiExceptions with a NotFound Status', T, async () => {
    const status = await batch.deleteNamespacedJob({ name: 'worker', namespace: 'other', propagationPolicy: 'Background' });
    assert.equal(status.status, 'Success');
    assert.equal(status.details!.name, 'worker');
    const body = await apiError(batch.readNamespacedJob({ name: 'worker', namespace: 'other' }), 404, 'NotFound');
    assert.equal(body.message, 'jobs.batch "worker" not found');
    assert.deepEqual(body.details, { name: 'worker', group: 'batch', kind: 'jobs' });
    await apiError(batch.deleteNamespacedJob({ name: 'worker', namespace: 'other' }), 404, 'NotFound');
    await apiError(core.readNamespacedPod({ name: 'nope', namespace: 'default' }), 404, 'NotFound');
  });

  it('a Job deleted without a propagationPolicy orphans its pods (batch/v1 default) and says so', T, async () => {
    const j = await batch.createNamespacedJob({ namespace: 'default', body: job('orphaner', { app: 'orphaner' }) });
    server.create('pods', podForJob(j as never, { name: 'orphaner-a', phase: 'Running' }));
    const res = await batch.deleteNamespacedJobWithHttpInfo({ name: 'orphaner', namespace: 'default' });
    assert.match(res.headers.warning ?? '', /child pods are preserved by default/);
    const pod = server.get('pods', 'orphaner-a');
    assert.ok(pod, 'pod survives');
    assert.equal(pod.metadata.ownerReferences, undefined, 'owner reference removed');

    const k = await batch.createNamespacedJob({ namespace: 'default', body: job('cascader') });
    server.create('pods', podForJob(k as never, { name: 'cascader-a' }));
    await batch.deleteNamespacedJob({ name: 'cascader', namespace: 'default', propagationPolicy: 'Foreground' });
    assert.equal(server.get('pods', 'cascader-a'), undefined);
  });

  it('rejects what the real server rejects: 422 Invalid, 409 AlreadyExists, generateName', T, async () => {
    const noName = job('x');
    delete noName.metadata!.name;
    const invalid = await apiError(batch.createNamespacedJob({ namespace: 'default', body: noName }), 422, 'Invalid');
    assert.equal(invalid.details.causes?.[0]?.field, 'metadata.name');
    assert.match(invalid.message, /Required value: name or generateName is required/);

    const always = job('always');
    always.spec!.template.spec!.restartPolicy = 'Always';
    const rp = await apiError(batch.createNamespacedJob({ namespace: 'default', body: always }), 422, 'Invalid');
    assert.match(rp.message, /spec\.template\.spec\.restartPolicy: Unsupported value: "Always"/);

    await apiError(batch.createNamespacedJob({ namespace: 'default', body: job('Upper_Case') }), 422, 'Invalid');
    await apiError(batch.createNamespacedJob({ namespace: 'default', body: job('a'.repeat(64)) }), 422, 'Invalid');
    await apiError(batch.createNamespacedJob({ namespace: 'default', body: job('master') }), 409, 'AlreadyExists');

    const generated = job('ignored');
    generated.metadata = { generateName: 'cicada-worker-' };
    const g = await batch.createNamespacedJob({ namespace: 'default', body: generated });
    assert.match(g.metadata!.name!, /^cicada-worker-[a-z0-9]{5}$/);

    const echoed = await batch.readNamespacedJob({ name: 'master', namespace: 'default' });
    echoed.metadata!.name = 'copy';
    await apiError(batch.createNamespacedJob({ namespace: 'default', body: echoed }), 500, 'InternalError');
  });
});

describe('fake apiserver: LoadTest custom resources through CustomObjectsApi', SUITE, () => {
  let server: FakeApiServer;
  let custom: CustomObjectsApi;
  let batch: BatchV1Api;
  before(async () => {
    server = await startFakeApiServer();
    const kc = kubeConfigFor(server);
    custom = kc.makeApiClient(CustomObjectsApi);
    batch = kc.makeApiClient(BatchV1Api);
  });
  after(() => server.close());

  it('create drops status; /status patches change only status; main-resource writes ignore status', T, async () => {
    const created = await custom.createNamespacedCustomObject({ ...LT, namespace: 'default', body: { ...loadTest('lt1'), status: { phase: 'Bogus' } } });
    assert.equal(created.status, undefined);
    assert.equal(created.metadata.generation, 1);

    const patched = await custom.patchNamespacedCustomObjectStatus(
      { ...LT, namespace: 'default', name: 'lt1', body: { status: { phase: 'Running' }, spec: { users: 999 }, metadata: { labels: { sneaky: 'yes' } } } },
      asMergePatch,
    );
    assert.equal(patched.status.phase, 'Running');
    assert.equal(patched.spec.users, 10);
    assert.equal(patched.metadata.labels, undefined);
    assert.equal(patched.metadata.generation, 1);

    const cur = await custom.getNamespacedCustomObject({ ...LT, namespace: 'default', name: 'lt1' });
    cur.spec.users = 20;
    cur.status.phase = 'Hacked';
    const replaced = await custom.replaceNamespacedCustomObject({ ...LT, namespace: 'default', name: 'lt1', body: cur });
    assert.equal(replaced.spec.users, 20);
    assert.equal(replaced.status.phase, 'Running');
    assert.equal(replaced.metadata.generation, 2);

    replaced.status = { phase: 'Done' };
    const viaStatus = await custom.replaceNamespacedCustomObjectStatus({ ...LT, namespace: 'default', name: 'lt1', body: replaced });
    assert.equal(viaStatus.status.phase, 'Done');
    assert.equal(viaStatus.metadata.generation, 2);
    assert.equal(server.objects('loadtests').length, 1);
  });

  it('custom resources need resourceVersion on replace, an object kind, and no strategic merge patch', T, async () => {
    const cur = await custom.getNamespacedCustomObject({ ...LT, namespace: 'default', name: 'lt1' });
    delete cur.metadata.resourceVersion;
    const body = await apiError(custom.replaceNamespacedCustomObject({ ...LT, namespace: 'default', name: 'lt1', body: cur }), 422, 'Invalid');
    assert.match(body.message, /metadata\.resourceVersion: Invalid value: .*must be specified for an update/);
    // The client's default patch Content-Type is application/json-patch+json: an object body is a 400.
    await apiError(custom.patchNamespacedCustomObject({ ...LT, namespace: 'default', name: 'lt1', body: { spec: { users: 1 } } }), 400, 'BadRequest');
    await apiError(
      custom.patchNamespacedCustomObject({ ...LT, namespace: 'default', name: 'lt1', body: { spec: { users: 1 } } }, asStrategicMergePatch),
      415,
      'UnsupportedMediaType',
    );
    const noKind = loadTest('lt-nokind');
    delete noKind.kind;
    await apiError(custom.createNamespacedCustomObject({ ...LT, namespace: 'default', body: noKind }), 400, 'BadRequest');
    await apiError(custom.getNamespacedCustomObject({ ...LT, namespace: 'default', name: 'missing' }), 404, 'NotFound');
  });

  it('deleting a LoadTest garbage-collects its Job and the Job pods (owner references)', T, async () => {
    const lt = await custom.createNamespacedCustomObject({ ...LT, namespace: 'default', body: loadTest('lt-gc') });
    const body = job('lt-gc-master');
    body.metadata!.ownerReferences = ownedBy(lt);
    const j = await batch.createNamespacedJob({ namespace: 'default', body });
    server.create('pods', podForJob(j as never, { name: 'lt-gc-master-0', phase: 'Running' }));
    server.create('configmaps', { metadata: { name: 'unrelated' }, data: { a: 'b' } });
    await custom.deleteNamespacedCustomObject({ ...LT, namespace: 'default', name: 'lt-gc' });
    assert.equal(server.get('loadtests', 'lt-gc'), undefined);
    assert.equal(server.get('jobs', 'lt-gc-master'), undefined);
    assert.equal(server.get('pods', 'lt-gc-master-0'), undefined);
    assert.ok(server.get('configmaps', 'unrelated'));
    await apiError(batch.readNamespacedJob({ name: 'lt-gc-master', namespace: 'default' }), 404);
  });

  it('finalizers hold a deletion until they are removed', T, async () => {
    await custom.createNamespacedCustomObject({ ...LT, namespace: 'default', body: { ...loadTest('lt-fin'), metadata: { name: 'lt-fin', finalizers: ['cicada.dev/cleanup'] } } });
    const pending = await custom.deleteNamespacedCustomObject({ ...LT, namespace: 'default', name: 'lt-fin' });
    assert.ok(pending.metadata.deletionTimestamp, 'delete returns the object marked for deletion');
    assert.ok(server.get('loadtests', 'lt-fin')!.metadata.deletionTimestamp);
    await custom.patchNamespacedCustomObject({ ...LT, namespace: 'default', name: 'lt-fin', body: { metadata: { finalizers: null } } }, asMergePatch);
    assert.equal(server.get('loadtests', 'lt-fin'), undefined);
  });

  it('objects whose owner does not exist are garbage-collected, like the real GC', T, async () => {
    const body = job('dangling');
    body.metadata!.ownerReferences = [{ apiVersion: 'cicada.dev/v1', kind: 'LoadTest', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000', controller: true }];
    await batch.createNamespacedJob({ namespace: 'default', body });
    await server.waitFor(() => server.get('jobs', 'dangling') === undefined, 2000, 'dangling job collected');
  });

  it('stores CustomResourceDefinitions and marks them Established', T, async () => {
    const ext = kubeConfigFor(server).makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } }, subresources: { status: {} } }],
        },
      },
    });
    const crd = await server.waitFor(() => {
      const c = server.get<{ status?: { conditions?: Array<{ type: string }>; storedVersions?: string[] } }>('crd', 'widgets.example.com');
      return c?.status?.conditions?.some((x) => x.type === 'Established') ? c : undefined;
    });
    assert.deepEqual(crd.status!.storedVersions, ['v1']);
    // The new resource is served straight away.
    const w = await custom.createNamespacedCustomObject({ group: 'example.com', version: 'v1', plural: 'widgets', namespace: 'default', body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } } });
    assert.equal(w.metadata.name, 'w');
  });
});

describe('fake apiserver: request log, admission, events, auth, faults', SUITE, () => {
  let server: FakeApiServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  before(async () => {
    server = await startFakeApiServer();
    kc = kubeConfigFor(server);
    core = kc.makeApiClient(CoreV1Api);
  });
  after(() => server.close());

  it('records every request, so a test can prove secrets were (not) read', T, async () => {
    server.clearRequests();
    server.create('secrets', { metadata: { name: 'token' }, stringData: { token: 's3cr3t' } });
    const secret = await core.readNamespacedSecret({ name: 'token', namespace: 'default' });
    assert.equal(Buffer.from(secret.data!.token!, 'base64').toString(), 's3cr3t');
    await core.listNamespacedConfigMap({ namespace: 'default' });
    const secretRequests = server.requests.filter((r) => r.resource === 'secrets');
    assert.equal(secretRequests.length, 1);
    assert.deepEqual(
      { method: secretRequests[0]!.method, path: secretRequests[0]!.path, verb: secretRequests[0]!.verb, status: secretRequests[0]!.status },
      { method: 'GET', path: '/api/v1/namespaces/default/secrets/token', verb: 'get', status: 200 },
    );
  });

  it('an admission hook can refuse a create with a 422, and nothing is stored', T, async () => {
    server.setAdmission((req) => (req.operation === 'CREATE' && req.resource === 'configmaps' && req.object?.metadata.name === 'forbidden' ? 'denied by policy' : undefined));
    try {
      const body = await apiError(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'forbidden' } } }), 422, 'Invalid');
      assert.equal(body.message, 'denied by policy');
      assert.equal(server.get('configmaps', 'forbidden'), undefined);
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'allowed' } } });
    } finally {
      server.setAdmission(undefined);
    }
  });

  it('events.k8s.io/v1 and core v1 events share storage; eventTime must be a MicroTime', T, async () => {
    const events = kc.makeApiClient(EventsV1Api);
    const regarding = { apiVersion: 'cicada.dev/v1', kind: 'LoadTest', name: 'lt', namespace: 'default', uid: 'u-1' };
    const base = { metadata: { generateName: 'lt.' }, regarding, reason: 'Started', note: 'workers up', type: 'Normal', action: 'Reconcile', reportingController: 'cicada.dev/operator', reportingInstance: 'operator-0' };
    const created = await events.createNamespacedEvent({ namespace: 'default', body: { ...base, eventTime: new V1MicroTime() } });
    assert.equal(created.note, 'workers up');
    const legacy = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=lt' });
    assert.equal(legacy.items.length, 1);
    assert.equal(legacy.items[0]!.message, 'workers up');
    assert.equal(legacy.items[0]!.reportingComponent, 'cicada.dev/operator');
    await apiError(events.createNamespacedEvent({ namespace: 'default', body: { ...base, eventTime: new Date() } }), 400, 'BadRequest');
    const { reportingController: _rc, ...noController } = base;
    await apiError(events.createNamespacedEvent({ namespace: 'default', body: { ...noController, eventTime: new V1MicroTime() } }), 422, 'Invalid');
  });

  it('serves services, network policies and pod logs with server-side defaults', T, async () => {
    const svc = await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'cicada-master' }, spec: { selector: { app: 'm' }, ports: [{ port: 5557 }] } } });
    assert.match(svc.spec!.clusterIP!, /^10\.96\./);
    assert.equal(svc.spec!.ports![0]!.protocol, 'TCP');
    const net = kc.makeApiClient(NetworkingV1Api);
    const np = await net.createNamespacedNetworkPolicy({ namespace: 'default', body: { metadata: { name: 'np' }, spec: { podSelector: {}, egress: [{}] } } });
    assert.deepEqual(np.spec!.policyTypes, ['Ingress', 'Egress']);
    server.create('pods', { metadata: { name: 'logger' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    server.setPodLog('default', 'logger', 'hello\n');
    assert.equal(await core.readNamespacedPodLog({ name: 'logger', namespace: 'default' }), 'hello\n');
  });

  it('KubernetesObjectApi works (discovery) including server-side apply', T, async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const applied = await objects.patch(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: 'default' }, data: { a: '1' } },
      undefined,
      undefined,
      'cicada-operator',
      true,
      PatchStrategy.ServerSideApply,
    );
    assert.equal(applied.metadata?.name, 'applied');
    const read = await objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: 'default' } });
    assert.deepEqual((read as unknown as StoredObject).data, { a: '1' });
  });

  it('refuses a wrong token with 401, and injects faults', T, async () => {
    const wrong = kubeConfigFor({ url: server.url, token: 'nope' }).makeApiClient(CoreV1Api);
    await assert.rejects(wrong.listNamespacedPod({ namespace: 'default' }), (err: unknown) => err instanceof ApiException && err.code === 401);
    server.setFault((r) => (r.verb === 'list' && r.resource === 'pods' ? { code: 429, reason: 'TooManyRequests', retryAfterSeconds: 1 } : undefined));
    try {
      await apiError(core.listNamespacedPod({ namespace: 'default' }), 429, 'TooManyRequests');
    } finally {
      server.setFault(undefined);
    }
    await core.listNamespacedPod({ namespace: 'default' });
  });
});
