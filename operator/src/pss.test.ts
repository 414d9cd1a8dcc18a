// The PSS checker against the upstream pod-security-admission fixtures (policy v1.37), then hand-written
// cases for paths, messages and exemptions, and a property: restricted never admits what baseline denies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IContainer } from 'kubernetes-models/v1/Container';
import {
  CONTROLS, PSS_POLICY_VERSION, checkBaseline, checkRestricted, profileControls,
  type PodLike, type PssProfile, type PssViolation,
} from './pss.ts';

// ---------------------------------------------------------------------------------------------------------
// 1. Agreement with the upstream fixtures (operator/test/fixtures/pod-security-standards, copied with their Apache-2.0 LICENSE)

const FIXTURES = process.env.PSS_FIXTURES ?? path.resolve(import.meta.dirname, '../test/fixtures/pod-security-standards');
const CHECKERS: Record<PssProfile, (pod: PodLike) => PssViolation[]> = { baseline: checkBaseline, restricted: checkRestricted };

interface Fixture {
  file: string;
  pod: PodLike;
}

function loadFixtures(profile: PssProfile, outcome: 'pass' | 'fail'): Fixture[] {
  const dir = path.join(FIXTURES, profile, PSS_POLICY_VERSION, outcome);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file, pod: parse(readFileSync(path.join(dir, file), 'utf8')) as PodLike }));
}

/** The control a fail fixture is named after ('capabilities_baseline2.yaml' → 'capabilities_baseline'), as it
 *  applies under `profile`: under restricted a replaced baseline control is reported by its replacement. */
function expectedControl(profile: PssProfile, file: string): string | undefined {
  const prefix = file.replace(/\d*\.yaml$/, '');
  const named = CONTROLS.find((c) => c.id.toLowerCase() === prefix);
  if (named === undefined) return undefined;
  return profileControls(profile).find((c) => c.id === named.id || c.replaces === named.id)?.id;
}

const summary = (vs: PssViolation[]): string => vs.map((v) => `${v.control} at ${v.path}`).join('; ');

for (const profile of ['baseline', 'restricted'] as const) {
  describe(`${profile} ${PSS_POLICY_VERSION}: upstream fixtures`, () => {
    const pass = loadFixtures(profile, 'pass');
    const fail = loadFixtures(profile, 'fail');
    const checkPod = CHECKERS[profile];

    it(`admits all ${pass.length} ${profile} pass fixtures`, () => {
      assert.ok(pass.length > 0, `no fixtures under ${FIXTURES}`);
      const denied = pass.map((f) => [f.file, summary(checkPod(f.pod))]).filter(([, s]) => s !== '');
      assert.deepEqual(denied, []);
    });

    it(`denies all ${fail.length} ${profile} fail fixtures`, () => {
      assert.ok(fail.length > 0, `no fixtures under ${FIXTURES}`);
      const admitted = fail.filter((f) => checkPod(f.pod).length === 0).map((f) => f.file);
      assert.deepEqual(admitted, []);
    });

    it(`reports the control named by the file for all ${fail.length} ${profile} fail fixtures`, () => {
      const wrong: string[] = [];
      for (const f of fail) {
        const expected = expectedControl(profile, f.file);
        const got = checkPod(f.pod);
        if (expected === undefined) wrong.push(`${f.file}: no control matches the file name`);
        else if (!got.some((v) => v.control === expected)) wrong.push(`${f.file}: expected ${expected}, got ${summary(got) || 'nothing'}`);
      }
      assert.deepEqual(wrong, []);
    });
  });
}

describe('baseline and restricted agree on the fixtures', () => {
  const all = (['baseline', 'restricted'] as const).flatMap((p) => [...loadFixtures(p, 'pass'), ...loadFixtures(p, 'fail')]);

  it(`restricted denies each of the ${all.length} fixtures that baseline denies`, () => {
    const leaks = all.filter((f) => checkBaseline(f.pod).length > 0 && checkRestricted(f.pod).length === 0).map((f) => f.file);
    assert.deepEqual(leaks, []);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 2. Hand-written cases

function container(name: string): IContainer {
  return { name, image: 'cicada:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } };
}

/** A fresh pod that passes "restricted". */
function goodPod(): IPod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      initContainers: [container('init')],
      containers: [container('app'), container('sidecar')],
    },
  };
}

const controls = (vs: PssViolation[]): string[] => vs.map((v) => v.control);

describe('checkRestricted: paths and messages', () => {
  it('admits the hardened pod, as a Pod and as a pod template', () => {
    const pod = goodPod();
    assert.deepEqual(checkRestricted(pod), []);
    assert.deepEqual(checkRestricted({ metadata: { annotations: {} }, spec: pod.spec }), []);
    assert.deepEqual(checkBaseline(pod), []);
  });

  it('reports a missing allowPrivilegeEscalation=false on the container that lacks it', () => {
    const pod = goodPod();
    delete pod.spec!.containers[1]!.securityContext!.allowPrivilegeEscalation;
    assert.deepEqual(checkRestricted(pod), [{
      control: 'allowPrivilegeEscalation',
      path: 'spec.containers[1].securityContext.allowPrivilegeEscalation',
      message: 'container "sidecar" must set securityContext.allowPrivilegeEscalation=false',
    }]);
  });

  it('reports drop ALL and forbidden adds separately, with their paths', () => {
    const pod = goodPod();
    pod.spec!.initContainers![0]!.securityContext!.capabilities = { add: ['NET_BIND_SERVICE', 'SYS_ADMIN'], drop: ['all'] };
    assert.deepEqual(checkRestricted(pod), [
      { control: 'capabilities_restricted', path: 'spec.initContainers[0].securityContext.capabilities.drop', message: 'container "init" must set securityContext.capabilities.drop=["ALL"]' },
      { control: 'capabilities_restricted', path: 'spec.initContainers[0].securityContext.capabilities.add', message: 'container "init" must not add capabilities "SYS_ADMIN" (only "NET_BIND_SERVICE")' },
    ]);
    // Baseline only looks at add, and SYS_ADMIN is not in the default set.
    assert.deepEqual(checkBaseline(pod).map((v) => [v.control, v.path]), [['capabilities_baseline', 'spec.initContainers[0].securityContext.capabilities.add']]);
  });

  it('reports runAsNonRoot per container when the pod level is missing, and false wherever it is set', () => {
    const pod = goodPod();
    delete pod.spec!.securityContext!.runAsNonRoot;
    pod.spec!.containers[0]!.securityContext!.runAsNonRoot = true;
    pod.spec!.containers[1]!.securityContext!.runAsNonRoot = false;
    assert.deepEqual(checkRestricted(pod), [
      { control: 'runAsNonRoot', path: 'spec.initContainers[0].securityContext.runAsNonRoot', message: 'pod or container "init" must set securityContext.runAsNonRoot=true' },
      { control: 'runAsNonRoot', path: 'spec.containers[1].securityContext.runAsNonRoot', message: 'container "sidecar" must not set securityContext.runAsNonRoot=false' },
    ]);
  });

  it('reports runAsUser 0 at the pod level', () => {
    const pod = goodPod();
    pod.spec!.securityContext!.runAsUser = 0;
    assert.deepEqual(checkRestricted(pod), [{ control: 'runAsUser', path: 'spec.securityContext.runAsUser', message: 'pod must not set runAsUser=0' }]);
  });

  it('requires a seccomp profile on each container when the pod has none, and rejects Unconfined anywhere', () => {
    const pod = goodPod();
    delete pod.spec!.securityContext!.seccompProfile;
    pod.spec!.containers[0]!.securityContext!.seccompProfile = { type: 'Localhost', localhostProfile: 'cicada.json' };
    pod.spec!.containers[1]!.securityContext!.seccompProfile = { type: 'Unconfined' };
    assert.deepEqual(checkRestricted(pod).map((v) => [v.control, v.path, v.message]), [
      ['seccompProfile_restricted', 'spec.containers[1].securityContext.seccompProfile.type', 'container "sidecar" must not set securityContext.seccompProfile.type to "Unconfined"'],
      ['seccompProfile_restricted', 'spec.initContainers[0].securityContext.seccompProfile.type', 'pod or container "init" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"'],
    ]);
    assert.deepEqual(controls(checkBaseline(pod)), ['seccompProfile_baseline']);
  });

  it('checks ephemeral containers too', () => {
    const pod = goodPod();
    pod.spec!.ephemeralContainers = [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }];
    assert.deepEqual(controls(checkBaseline(pod)), ['privileged']);
    assert.equal(checkBaseline(pod)[0]!.path, 'spec.ephemeralContainers[0].securityContext.privileged');
    // The pod-level seccomp profile covers it; the rest of the restricted context must be on the container.
    assert.deepEqual(controls(checkRestricted(pod)), ['privileged', 'allowPrivilegeEscalation', 'capabilities_restricted']);
  });

  it('allows only the restricted volume types; a volume with no source is an implicit emptyDir', () => {
    const pod = goodPod();
    pod.spec!.volumes = [
      { name: 'implicit' },
      { name: 'tmp', emptyDir: { medium: 'Memory' } },
      { name: 'img', image: { reference: 'registry.example/data:1' } },
      { name: 'eph', ephemeral: {} },
      { name: 'csi', csi: { driver: 'x' } },
      { name: 'share', nfs: { server: 'nas', path: '/x' } },
      { name: 'host', hostPath: { path: '/var/run' } },
    ];
    assert.deepEqual(checkRestricted(pod), [
      { control: 'restrictedVolumes', path: 'spec.volumes[5].nfs', message: 'volume "share" must not use restricted volume type "nfs"' },
      { control: 'restrictedVolumes', path: 'spec.volumes[6].hostPath', message: 'volume "host" must not use restricted volume type "hostPath"' },
    ]);
    // Baseline forbids hostPath only; nfs is fine there.
    assert.deepEqual(checkBaseline(pod), [{ control: 'hostPathVolumes', path: 'spec.volumes[6].hostPath', message: 'volume "host" must not use hostPath' }]);
  });

  it('checks AppArmor fields and the legacy annotations', () => {
    const pod = goodPod();
    pod.spec!.securityContext!.appArmorProfile = { type: 'Localhost', localhostProfile: 'cicada' };
    pod.spec!.containers[0]!.securityContext!.appArmorProfile = { type: 'Unconfined' };
    pod.metadata!.annotations = {
      'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default',
      'container.apparmor.security.beta.kubernetes.io/sidecar': 'unconfined',
    };
    assert.deepEqual(checkBaseline(pod), [
      { control: 'appArmorProfile', path: 'spec.containers[0].securityContext.appArmorProfile.type', message: 'container "app" must not set AppArmor profile type "Unconfined"' },
      { control: 'appArmorProfile', path: 'metadata.annotations[container.apparmor.security.beta.kubernetes.io/sidecar]', message: 'annotation container.apparmor.security.beta.kubernetes.io/sidecar must not set AppArmor profile "unconfined"' },
    ]);
  });

  it('knows the v1.37 safe sysctls and the v1.31 SELinux types', () => {
    const pod = goodPod();
    pod.spec!.securityContext!.sysctls = [{ name: 'net.ipv4.tcp_notsent_lowat', value: '16384' }, { name: 'kernel.msgmax', value: '1' }];
    pod.spec!.containers[0]!.securityContext!.seLinuxOptions = { type: 'container_engine_t', level: 's0:c1' };
    pod.spec!.containers[1]!.securityContext!.seLinuxOptions = { user: 'system_u', type: 'spc_t' };
    assert.deepEqual(checkBaseline(pod).map((v) => [v.control, v.path]), [
      ['seLinuxOptions', 'spec.containers[1].securityContext.seLinuxOptions.type'],
      ['seLinuxOptions', 'spec.containers[1].securityContext.seLinuxOptions.user'],
      ['sysctls', 'spec.securityContext.sysctls[1].name'],
    ]);
  });

  it('forbids a host in probes and lifecycle hooks, even localhost', () => {
    const pod = goodPod();
    pod.spec!.containers[0]!.startupProbe = { httpGet: { host: 'localhost', port: 8089 } };
    pod.spec!.containers[0]!.readinessProbe = { httpGet: { host: '', port: 8089 } };
    pod.spec!.containers[1]!.lifecycle = { preStop: { tcpSocket: { host: '10.0.0.1', port: 5557 } } };
    assert.deepEqual(checkBaseline(pod).map((v) => [v.control, v.path]), [
      ['hostProbesAndHostLifecycle', 'spec.containers[0].startupProbe.httpGet.host'],
      ['hostProbesAndHostLifecycle', 'spec.containers[1].lifecycle.preStop.tcpSocket.host'],
    ]);
  });

  it('forbids host namespaces, host ports and HostProcess', () => {
    const pod = goodPod();
    pod.spec!.hostPID = true;
    pod.spec!.hostNetwork = false;
    pod.spec!.containers[0]!.ports = [{ containerPort: 8089 }, { containerPort: 5557, hostPort: 5557 }];
    pod.spec!.initContainers![0]!.securityContext!.windowsOptions = { hostProcess: true };
    assert.deepEqual(checkRestricted(pod).map((v) => [v.control, v.path]), [
      ['windowsHostProcess', 'spec.initContainers[0].securityContext.windowsOptions.hostProcess'],
      ['hostNamespaces', 'spec.hostPID'],
      ['hostPorts', 'spec.containers[0].ports[1].hostPort'],
    ]);
  });
});

describe('exemptions, as upstream', () => {
  it('Windows pods need no allowPrivilegeEscalation, seccomp or capabilities, but still runAsNonRoot', () => {
    const bare = (name: string): IContainer => ({ name, image: 'mcr.microsoft.com/windows/nanoserver' });
    const pod: IPod = { apiVersion: 'v1', kind: 'Pod', spec: { os: { name: 'windows' }, securityContext: { runAsNonRoot: true }, containers: [bare('app')] } };
    assert.deepEqual(checkRestricted(pod), []);
    delete pod.spec!.securityContext;
    assert.deepEqual(controls(checkRestricted(pod)), ['runAsNonRoot']);
    // The exemption waives requirements only: what baseline forbids stays forbidden (the API rejects it anyway).
    pod.spec!.containers[0]!.securityContext = { capabilities: { add: ['NET_RAW'] }, seccompProfile: { type: 'Unconfined' } };
    pod.spec!.securityContext = { runAsNonRoot: true };
    assert.deepEqual(controls(checkRestricted(pod)), ['seccompProfile_restricted', 'capabilities_restricted']);
    delete pod.spec!.securityContext;
    pod.spec!.containers[0]!.securityContext = {};
    pod.spec!.os = { name: 'linux' };
    assert.deepEqual(controls(checkRestricted(pod)), ['allowPrivilegeEscalation', 'runAsNonRoot', 'seccompProfile_restricted', 'capabilities_restricted']);
  });

  it('user-namespace pods (hostUsers: false) may run as UID 0, and baseline allows them an Unmasked /proc', () => {
    const pod = goodPod();
    pod.spec!.hostUsers = false;
    delete pod.spec!.securityContext!.runAsNonRoot;
    pod.spec!.securityContext!.runAsUser = 0;
    assert.deepEqual(checkRestricted(pod), []);
    pod.spec!.containers[0]!.securityContext!.procMount = 'Unmasked';
    assert.deepEqual(checkBaseline(pod), []);
    assert.deepEqual(checkRestricted(pod), [{
      control: 'procMount_restricted',
      path: 'spec.containers[0].securityContext.procMount',
      message: 'container "app" must not set securityContext.procMount to "Unmasked"',
    }]);
    pod.spec!.hostUsers = true;
    assert.deepEqual(controls(checkBaseline(pod)), ['procMount']);
    assert.deepEqual(controls(checkRestricted(pod)), ['runAsNonRoot', 'runAsNonRoot', 'runAsNonRoot', 'runAsUser', 'procMount_restricted']);
  });

  it('restricted replaces its baseline counterparts instead of reporting twice', () => {
    const pod = goodPod();
    pod.spec!.containers[0]!.securityContext!.capabilities!.add = ['NET_RAW'];
    assert.deepEqual(controls(checkBaseline(pod)), ['capabilities_baseline']);
    assert.deepEqual(controls(checkRestricted(pod)), ['capabilities_restricted']);
  });
});

describe('robustness', () => {
  it('never throws on malformed input, and fails closed on values of the wrong type', () => {
    const malformed: unknown[] = [
      {}, null, 'pod', { spec: null }, { spec: 'x' }, { metadata: null, spec: [] }, { metadata: { annotations: 'x' } },
      { spec: { containers: 'nope', volumes: [null, 3], securityContext: { sysctls: {} } } },
      { spec: { containers: [null, 7, { securityContext: 'x', ports: 'y', livenessProbe: [] }] } },
    ];
    for (const pod of malformed) {
      assert.doesNotThrow(() => checkRestricted(pod as PodLike));
      assert.doesNotThrow(() => checkBaseline(pod as PodLike));
    }
    const pod = goodPod();
    (pod.spec!.containers[0]!.securityContext as Record<string, unknown>).allowPrivilegeEscalation = 'false';
    assert.deepEqual(controls(checkRestricted(pod)), ['allowPrivilegeEscalation']);
  });

  it('property: whatever baseline denies, restricted denies too', () => {
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const securityContext = fc.record({
      privileged: maybe(fc.boolean()),
      allowPrivilegeEscalation: maybe(fc.boolean()),
      runAsNonRoot: maybe(fc.boolean()),
      runAsUser: maybe(fc.constantFrom(0, 1000)),
      procMount: maybe(fc.constantFrom('Default', 'Unmasked')),
      capabilities: maybe(fc.record({ add: maybe(fc.subarray(['NET_RAW', 'CHOWN', 'NET_BIND_SERVICE'])), drop: maybe(fc.subarray(['ALL', 'NET_RAW'])) })),
      seccompProfile: maybe(fc.record({ type: fc.constantFrom('RuntimeDefault', 'Localhost', 'Unconfined') })),
    }, { requiredKeys: [] });
    const pod = fc.record({
      hostUsers: maybe(fc.boolean()),
      hostNetwork: maybe(fc.boolean()),
      os: maybe(fc.record({ name: fc.constantFrom('linux', 'windows') })),
      securityContext: maybe(securityContext),
      containers: fc.array(fc.record({ name: fc.constantFrom('a', 'b'), securityContext: maybe(securityContext) }), { minLength: 1, maxLength: 3 }),
      volumes: maybe(fc.array(fc.constantFrom({ name: 'v', emptyDir: {} }, { name: 'v', hostPath: { path: '/' } }, { name: 'v', nfs: {} }))),
    }, { requiredKeys: ['containers'] });
    fc.assert(fc.property(pod, (spec) => {
      if (checkBaseline({ spec }).length > 0) assert.ok(checkRestricted({ spec }).length > 0);
    }), { numRuns: 500 });
  });
});
