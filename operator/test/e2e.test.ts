// End to end on one machine: a LoadTest on the fake API server, the real operator, and a fake kubelet running the
// Jobs' containers as real cicada processes (a master and 2 workers) against a local target. The LoadTest ends
// Succeeded and the master's totals equal what the target received. Volumes are laid out as the kubelet does
// (links through a timestamped `..data` folder), and the cicadafile imports a module from the lib ConfigMap.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '../src/controller.ts';
import { kubeFor } from '../src/kube.ts';
import type { LoadTest } from '../src/types.ts';
import { freePort, startCountingTarget, type CountingTarget } from '../../test/helpers.ts';
import { kubeConfigFor, startFakeApiServer, type FakeApiServer } from './fake-apiserver.ts';
import { FakeKubelet } from './fake-kubelet.ts';

const NS = 'perf';
const CICADAFILE = `
import { HttpUser, task, constant } from 'cicada';
import { ITEMS } from '../lib/paths.ts';
export class Shopper extends HttpUser {
  waitTime = constant(0.02);
  @task(3) async browse() { await this.client.get(ITEMS); }
  @task async cart() { await this.client.post('/cart', { json: { id: 1 } }); }
}
`;

describe('operator end to end (fake API server + fake kubelet + real cicada processes)', () => {
  let api: FakeApiServer;
  let target: CountingTarget;
  let controller: Controller;
  let kubelet: FakeKubelet;
  before(async () => {
    api = await startFakeApiServer({ namespaces: ['default', NS] });
    target = await startCountingTarget();
    controller = new Controller(kubeFor(kubeConfigFor(api, NS)), { namespaces: [NS], logger: { info: () => {}, warning: () => {}, error: () => {} }, retryMs: 200 });
    await controller.start();
    kubelet = new FakeKubelet(api, NS, { 5557: await freePort() }, ['shop-master']);
    kubelet.start();
  });
  after(async () => {
    await kubelet.stop();
    await controller.stop();
    await api.close();
    await target.close();
  });

  it('runs a master and 2 workers; the LoadTest ends Succeeded with the counts the target saw', async () => {
    api.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shop-test', namespace: NS }, data: { 'cicadafile.ts': CICADAFILE } });
    api.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shop-lib', namespace: NS }, data: { 'paths.ts': "export const ITEMS = '/items';\n" } });
    api.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-secret', namespace: NS }, data: { secret: Buffer.from('a shared secret for the e2e test, 32+ chars').toString('base64') } });
    api.create('loadtests', {
      apiVersion: 'cicada.dev/v1',
      kind: 'LoadTest',
      metadata: { name: 'shop', namespace: NS },
      spec: {
        image: 'cicada:test',
        testFiles: { configMapRef: 'shop-test', libConfigMapRef: 'shop-lib' },
        run: { users: 4, spawnRate: 20, runTime: '3s', host: target.url, extraArgs: ['--json'] },
        worker: { replicas: 2 },
        security: { clusterSecretRef: 'shop-secret' },
      },
    });
    const outputs = (): string => kubelet.pods.map((p) => `--- ${p.name} (exit ${String(p.exitCode)}):\n${p.output}`).join('\n');
    await api.waitFor(() => ['Succeeded', 'Failed'].includes(api.get<LoadTest>('loadtests', 'shop', NS)?.status?.phase ?? ''), 30_000, 'the LoadTest to finish')
      .catch((error: Error) => {
        throw new Error(`${error.message}\nstatus: ${JSON.stringify(api.get<LoadTest>('loadtests', 'shop', NS)?.status)}\n${outputs()}`);
      });
    const lt = api.get<LoadTest>('loadtests', 'shop', NS)!;
    const master = kubelet.pods.find((p) => p.job === 'shop-master')!;
    assert.equal(lt.status!.phase, 'Succeeded', `${JSON.stringify(lt.status, null, 2)}\nmaster output:\n${master.output}\nworkers:\n${kubelet.pods.filter((p) => p.job === 'shop-worker').map((p) => p.output).join('\n---\n')}`);
    assert.equal(kubelet.pods.filter((p) => p.job === 'shop-worker').length, 2);
    assert.ok(kubelet.pods.every((p) => p.exitCode === 0), kubelet.pods.map((p) => `${p.name}: ${p.exitCode}`).join(', '));
    // --json prints Locust's list of entries on the master's stdout.
    const json = master.stdout.slice(master.stdout.indexOf('['), master.stdout.lastIndexOf(']') + 1);
    const entries = JSON.parse(json) as { name: string; method: string; num_requests: number }[];
    const counted = entries.reduce((sum, e) => sum + e.num_requests, 0);
    assert.ok(counted > 20, `a real load ran (${counted} requests)`);
    assert.equal(counted, target.total(), 'the master counted exactly what the target received');
    assert.equal(entries.find((e) => e.name === '/items')!.num_requests, target.counts.get('GET /items'));
    assert.equal(lt.status!.conditions!.find((c) => c.type === 'Completed')!.reason, 'Succeeded');
    assert.ok(lt.status!.startTime && lt.status!.completionTime);
    // The event follows the status write.
    const reasons = (): string[] => api.objects<{ reason: string }>('events', NS).map((e) => e.reason);
    await api.waitFor(() => reasons().includes('Succeeded'), 5000, 'the Succeeded event');
    for (const reason of ['Created', 'Running', 'Succeeded']) assert.ok(reasons().includes(reason), `event ${reason} in ${reasons().join(', ')}`);
    assert.deepEqual(api.requests.filter((r) => /\/(secrets|configmaps)\b/.test(r.path)), [], 'the operator never touched a Secret or ConfigMap');
  });
});
