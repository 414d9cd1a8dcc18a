// The CRD refuses bad LoadTests with the field named (structural schema + CEL), and admits good ones.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { admissionErrors } from './crd-validator.ts';
import { fullLoadTest, loadTest } from './samples.ts';
import { crd } from '../src/crd.ts';
import type { JsonObject, LoadTest } from '../src/types.ts';

function withSpec(change: (spec: Record<string, unknown>) => void): LoadTest {
  const lt = structuredClone(fullLoadTest());
  change(lt.spec as unknown as Record<string, unknown>);
  return lt;
}
const run = (lt: LoadTest): Record<string, unknown> => lt.spec.run;

describe('LoadTest CRD', () => {
  it('admits a minimal and a fully loaded LoadTest', () => {
    assert.deepEqual(admissionErrors(loadTest()), []);
    assert.deepEqual(admissionErrors(fullLoadTest()), []);
  });

  const bad: [string, LoadTest, RegExp][] = [
    ['no image', withSpec((s) => delete s.image), /spec\.image: Required value/],
    ['no cluster secret', withSpec((s) => (s.security = {})), /spec\.security\.clusterSecretRef: Required value/],
    ['negative users', withSpec((s) => (run({ spec: s } as unknown as LoadTest).users = -1)), /spec\.run\.users/],
    ['spawn rate 0', withSpec((s) => ((s.run as Record<string, unknown>).spawnRate = 0)), /spec\.run\.spawnRate/],
    ['0 workers', withSpec((s) => ((s.worker as Record<string, unknown>).replicas = 0)), /spec\.worker\.replicas/],
    ['501 workers', withSpec((s) => ((s.worker as Record<string, unknown>).replicas = 501)), /spec\.worker\.replicas/],
    ['a run time with a bad unit', withSpec((s) => ((s.run as Record<string, unknown>).runTime = '5x')), /spec\.run\.runTime/],
    ['an ftp host', withSpec((s) => ((s.run as Record<string, unknown>).host = 'ftp://x')), /spec\.run\.host/],
    ['an unknown field', withSpec((s) => (s.replicas = 3)), /spec\.replicas: unknown field/],
    ['a command string instead of typed fields', withSpec((s) => ((s.run as Record<string, unknown>).command = 'cicada -u 5')), /spec\.run\.command: unknown field/],
    ['the web UI without a users file', withSpec((s) => ((s.master as Record<string, unknown>).webUI = { enabled: true })), /spec\.master\.webUI: Invalid value: webUI\.enabled needs usersSecretRef/],
    ['extraArgs --insecure', withSpec((s) => ((s.run as Record<string, unknown>).extraArgs = ['--insecure'])), /spec\.run\.extraArgs: Invalid value/],
    ['extraArgs --master-host=evil', withSpec((s) => ((s.run as Record<string, unknown>).extraArgs = ['--master-host=evil'])), /spec\.run\.extraArgs: Invalid value/],
    ['extraArgs -u', withSpec((s) => ((s.run as Record<string, unknown>).extraArgs = ['-u', '5'])), /spec\.run\.extraArgs: Invalid value/],
    ['a hostPath volume (strict field validation)', withSpec((s) => (s.volumes = [{ name: 'host', hostPath: { path: '/' } }])), /spec\.volumes\.0\.hostPath: unknown field/],
    ['a volume whose hostPath a lax client let the server prune', withSpec((s) => (s.volumes = [{ name: 'host' }])), /spec\.volumes: Invalid value: each volume needs a name and exactly one of/],
    ['extraArgs -u5000 (value attached)', withSpec((s) => ((s.run as Record<string, unknown>).extraArgs = ['-u5000'])), /spec\.run\.extraArgs: Invalid value/],
    ['extraArgs --config', withSpec((s) => ((s.run as Record<string, unknown>).extraArgs = ['--config=/tmp/x.toml'])), /spec\.run\.extraArgs: Invalid value/],
    ['a volumeMount over /cicada', withSpec((s) => (s.volumeMounts = [{ name: 'data', mountPath: '/cicada/test' }])), /spec\.volumeMounts: Invalid value/],
    ['a Bidirectional mount', withSpec((s) => (s.volumeMounts = [{ name: 'data', mountPath: '/data', mountPropagation: 'Bidirectional' }])), /spec\.volumeMounts\.0\.mountPropagation/],
    ['a label value over 63 characters', withSpec((s) => ((s.worker as Record<string, unknown>).labels = { team: 'x'.repeat(64) })), /spec\.worker\.labels\.team/],
    ['a TTL too short to see the outcome', withSpec((s) => (s.ttlSecondsAfterFinished = 0)), /spec\.ttlSecondsAfterFinished/],
    ['a volume with two sources', withSpec((s) => (s.volumes = [{ name: 'data', configMap: { name: 'a' }, emptyDir: {} }])), /spec\.volumes: Invalid value/],
    ['a volume named like the operator\'s', withSpec((s) => (s.volumes = [{ name: 'tmp', emptyDir: {} }])), /spec\.volumes: Invalid value: volume names/],
    ['a mount of a missing volume', withSpec((s) => (s.volumeMounts = [{ name: 'nope', mountPath: '/x' }])), /spec: Invalid value: every volumeMount must name one of volumes/],
    ['a secret mounted over /cicada', withSpec((s) => (s.secretMounts = [{ secretRef: 'x', mountPath: '/cicada/secret' }])), /spec\.secretMounts: Invalid value/],
    ['an env variable CICADA_SECRET', withSpec((s) => ((s.env as Record<string, unknown>).variables = [{ name: 'CICADA_SECRET', value: 'x' }])), /spec\.env\.variables: Invalid value/],
    ['a label taking over the selector', withSpec((s) => ((s.worker as Record<string, unknown>).labels = { 'app.kubernetes.io/instance': 'other' })), /spec\.worker\.labels: Invalid value/],
    ['an upper-case ConfigMap name', withSpec((s) => (s.testFiles = { configMapRef: 'My_Files' })), /spec\.testFiles\.configMapRef/],
    ['a cicadafile key with a path', withSpec((s) => (s.testFiles = { configMapRef: 'x', cicadafile: '../etc/passwd' })), /spec\.testFiles\.cicadafile/],
    ['a quantity that is not one', withSpec((s) => ((s.worker as Record<string, unknown>).resources = { limits: { cpu: 'lots' } })), /spec\.worker\.resources\.limits\.cpu/],
    ['an OTel endpoint without a scheme', withSpec((s) => (s.observability = { openTelemetry: { endpoint: 'collector:4317' } })), /spec\.observability\.openTelemetry\.endpoint/],
  ];
  for (const [label, lt, expected] of bad) {
    it(`refuses ${label}, naming the field`, () => {
      const errors = admissionErrors(lt);
      assert.ok(errors.some((e) => expected.test(e)), errors.join('\n') || '(admitted)');
    });
  }

  it('lets CEL rules read only fields the schema declares (the API server cannot see preserved unknown fields)', () => {
    const spec = ((crd.spec as { versions: { schema: { openAPIV3Schema: { properties: { spec: JsonObject } } } }[] }).versions[0]!).schema.openAPIV3Schema.properties.spec;
    const props = spec.properties as Record<string, JsonObject>;
    for (const [field, variable] of [['volumes', 'v'], ['volumeMounts', 'm'], ['secretMounts', 'm']] as const) {
      const list = props[field]!;
      const items = list.items as JsonObject;
      assert.equal(items['x-kubernetes-preserve-unknown-fields'], undefined, `${field} items are typed`);
      const declared = Object.keys(items.properties as JsonObject);
      for (const r of (list['x-kubernetes-validations'] as { rule: string }[] | undefined) ?? []) {
        for (const [, name] of r.rule.matchAll(new RegExp(`\\b${variable}\\.([A-Za-z]+)`, 'g'))) {
          if (['startsWith', 'size'].includes(name!)) continue;
          assert.ok(declared.includes(name!), `${field}: the rule reads ${variable}.${name}, which the item schema does not declare`);
        }
      }
    }
  });

  it('refuses a name too long for the children\'s names', () => {
    const lt = loadTest('a'.repeat(53));
    assert.ok(admissionErrors(lt).some((e) => /metadata\.name/.test(e)));
  });

  it('refuses any change of the spec once created (CEL transition rule), but not a status or label change', () => {
    const old = loadTest();
    const changed = structuredClone(old);
    changed.spec.run.users = 20;
    assert.ok(admissionErrors(changed, old).some((e) => /spec: Invalid value: the spec of a LoadTest cannot change: delete it and create a new one/.test(e)));
    const relabeled = structuredClone(old);
    relabeled.metadata.labels = { team: 'perf' };
    relabeled.status = { phase: 'Running' };
    assert.deepEqual(admissionErrors(relabeled, old), []);
  });
});
