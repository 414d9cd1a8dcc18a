// Pod Security Standards (PSS) checker: the "baseline" and "restricted" profiles at policy version v1.37.
//
// Written for this project from the Kubernetes "Pod Security Standards" page and the behaviour of
// kubernetes/pod-security-admission (policy/check_*.go), which is the authority where the two differ.
// Control ids are upstream's check ids, so a violation names the same control a cluster would.
//
// Shape of the rules, as upstream:
// - "restricted" is every baseline control plus the restricted ones, except that a restricted control
//   *replaces* its baseline counterpart (restrictedVolumes replaces hostPathVolumes, and so on);
// - every container list counts: initContainers, containers, ephemeralContainers;
// - Windows pods (spec.os.name: windows) are exempt from allowPrivilegeEscalation, seccompProfile_restricted
//   and capabilities_restricted (policy v1.25+); for the last two we still apply the baseline rule they replace,
//   which changes nothing for a valid pod (the API forbids seccompProfile and capabilities on Windows pods);
// - user-namespace pods (spec.hostUsers: false) are exempt from runAsNonRoot, runAsUser and the baseline
//   procMount control (policy v1.35+), but never from procMount_restricted.
//
// Input is treated as untrusted data: wrong types never throw, and a value that is not what a control
// allows (for example allowPrivilegeEscalation: "false" as a string) counts as a violation.

export interface PssViolation {
  /** Upstream check id, e.g. 'allowPrivilegeEscalation', 'capabilities_restricted', 'restrictedVolumes'. */
  control: string;
  /** Field path of the offending (or missing) value, e.g. 'spec.containers[0].securityContext.capabilities.drop'. */
  path: string;
  message: string;
}

/** A Pod, or a pod template's { metadata, spec }. */
export interface PodLike {
  metadata?: { annotations?: Record<string, string> } | null;
  spec?: unknown;
}

export type PssProfile = 'baseline' | 'restricted';

export const PSS_POLICY_VERSION = 'v1.37';

/** Checks a Pod (or a pod template's { metadata, spec }) against PSS "baseline" v1.37. Returns [] when admitted. */
export function checkBaseline(pod: PodLike): PssViolation[] {
  return check(pod, 'baseline');
}

/** Checks a Pod (or a pod template's { metadata, spec }) against PSS "restricted" v1.37, which includes every
 *  "baseline" control. Returns [] when admitted. */
export function checkRestricted(pod: PodLike): PssViolation[] {
  return check(pod, 'restricted');
}

/** The controls that make up a profile, in evaluation order (restricted: baseline minus the replaced ones). */
export function profileControls(profile: PssProfile): readonly PssControl[] {
  if (profile === 'baseline') return CONTROLS.filter((c) => c.level === 'baseline');
  const replaced = new Set(CONTROLS.map((c) => c.replaces).filter((id) => id !== undefined));
  return CONTROLS.filter((c) => !replaced.has(c.id));
}

function check(pod: PodLike, profile: PssProfile): PssViolation[] {
  const view = podView(pod);
  return profileControls(profile).flatMap((control) =>
    control.check(view).map((f) => ({ control: control.id, path: f.path, message: f.message })),
  );
}

// ---------------------------------------------------------------------------------------------------------
// A tolerant view of the pod

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
/** Set in the Go sense: present and not null. */
const isSet = (v: unknown): boolean => v !== undefined && v !== null;
/** A value quoted for a message: strings in double quotes, anything else as JSON. */
const show = (v: unknown): string => JSON.stringify(v) ?? 'undefined';

interface ContainerRef {
  name: string;
  /** e.g. 'spec.initContainers[0]' */
  path: string;
  /** the container's securityContext, or {} */
  sc: Obj;
  raw: Obj;
}

interface PodView {
  annotations: Obj;
  spec: Obj;
  /** spec.securityContext, or {} */
  podSC: Obj;
  containers: ContainerRef[];
  /** spec.os.name == windows */
  windows: boolean;
  /** spec.hostUsers == false: the pod runs in its own user namespace */
  userNamespace: boolean;
}

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

function podView(pod: PodLike): PodView {
  const spec = obj(isObj(pod) ? pod.spec : undefined);
  const metadata = obj(isObj(pod) ? pod.metadata : undefined);
  const containers = CONTAINER_LISTS.flatMap((kind) =>
    list(spec[kind]).map((raw, i): ContainerRef => {
      const c = obj(raw);
      return { name: typeof c.name === 'string' ? c.name : '', path: `spec.${kind}[${i}]`, sc: obj(c.securityContext), raw: c };
    }),
  );
  return {
    annotations: obj(metadata.annotations),
    spec,
    podSC: obj(spec.securityContext),
    containers,
    windows: obj(spec.os).name === 'windows',
    userNamespace: spec.hostUsers === false,
  };
}

const who = (c: ContainerRef): string => `container ${JSON.stringify(c.name)}`;

// ---------------------------------------------------------------------------------------------------------
// The controls

interface Finding {
  path: string;
  message: string;
}

export interface PssControl {
  id: string;
  level: PssProfile;
  /** Under "restricted", the baseline control this one replaces (upstream's OverrideCheckIDs). */
  replaces?: string;
  check: (pod: PodView) => Finding[];
}

// --- baseline ---

/** HostProcess: no Windows HostProcess containers (pod or container windowsOptions.hostProcess: true). */
function windowsHostProcess(pod: PodView): Finding[] {
  const out: Finding[] = [];
  if (obj(pod.podSC.windowsOptions).hostProcess === true) {
    out.push({ path: 'spec.securityContext.windowsOptions.hostProcess', message: 'pod must not set securityContext.windowsOptions.hostProcess=true' });
  }
  for (const c of pod.containers) {
    if (obj(c.sc.windowsOptions).hostProcess === true) {
      out.push({ path: `${c.path}.securityContext.windowsOptions.hostProcess`, message: `${who(c)} must not set securityContext.windowsOptions.hostProcess=true` });
    }
  }
  return out;
}

/** Host namespaces: hostNetwork, hostPID and hostIPC must be unset or false. */
function hostNamespaces(pod: PodView): Finding[] {
  return (['hostNetwork', 'hostPID', 'hostIPC'] as const)
    .filter((key) => pod.spec[key] === true)
    .map((key) => ({ path: `spec.${key}`, message: `pod must not set ${key}=true` }));
}

/** Privileged containers: securityContext.privileged must be unset or false. */
function privileged(pod: PodView): Finding[] {
  return pod.containers
    .filter((c) => c.sc.privileged === true)
    .map((c) => ({ path: `${c.path}.securityContext.privileged`, message: `${who(c)} must not set securityContext.privileged=true` }));
}

/** The container runtime's default capability set: the only capabilities baseline lets a container add. */
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD',
  'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);

/** Capabilities (baseline): capabilities.add only from the default set (exact, upper-case names; no NET_RAW). */
function capabilitiesBaseline(pod: PodView): Finding[] {
  const out: Finding[] = [];
  for (const c of pod.containers) {
    const bad = list(obj(c.sc.capabilities).add).filter((cap) => typeof cap !== 'string' || !BASELINE_CAPABILITIES.has(cap));
    if (bad.length > 0) {
      out.push({ path: `${c.path}.securityContext.capabilities.add`, message: `${who(c)} must not add non-default capabilities ${bad.map(show).join(', ')}` });
    }
  }
  return out;
}

/** HostPath volumes: no spec.volumes[*].hostPath. */
function hostPathVolumes(pod: PodView): Finding[] {
  const out: Finding[] = [];
  list(pod.spec.volumes).forEach((raw, i) => {
    const v = obj(raw);
    if (isSet(v.hostPath)) out.push({ path: `spec.volumes[${i}].hostPath`, message: `volume ${show(v.name)} must not use hostPath` });
  });
  return out;
}

/** Host ports: ports[*].hostPort must be unset or 0 in every container. */
function hostPorts(pod: PodView): Finding[] {
  const out: Finding[] = [];
  for (const c of pod.containers) {
    list(c.raw.ports).forEach((raw, j) => {
      const hostPort = obj(raw).hostPort;
      if (isSet(hostPort) && hostPort !== 0) {
        out.push({ path: `${c.path}.ports[${j}].hostPort`, message: `${who(c)} must not set hostPort (got ${show(hostPort)})` });
      }
    });
  }
  return out;
}

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const APPARMOR_TYPES = new Set(['RuntimeDefault', 'Localhost']);

/** AppArmor: appArmorProfile.type (pod and containers) is RuntimeDefault or Localhost; the legacy per-container
 *  annotation is empty, runtime/default or localhost/*. */
function appArmorProfile(pod: PodView): Finding[] {
  const out: Finding[] = [];
  const field = (owner: string, sc: Obj, path: string): void => {
    if (!isSet(sc.appArmorProfile)) return;
    const type = obj(sc.appArmorProfile).type;
    if (typeof type !== 'string' || !APPARMOR_TYPES.has(type)) {
      out.push({ path: `${path}.appArmorProfile.type`, message: `${owner} must not set AppArmor profile type ${show(type)}` });
    }
  };
  field('pod', pod.podSC, 'spec.securityContext');
  for (const c of pod.containers) field(who(c), c.sc, `${c.path}.securityContext`);
  for (const [key, value] of Object.entries(pod.annotations)) {
    if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    const ok = typeof value === 'string' && (value === '' || value === 'runtime/default' || value.startsWith('localhost/'));
    if (!ok) out.push({ path: `metadata.annotations[${key}]`, message: `annotation ${key} must not set AppArmor profile ${show(value)}` });
  }
  return out;
}

/** SELinux types a container may use (the v1.31+ set, which added container_engine_t); '' means unset. */
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

/** SELinux: seLinuxOptions.type from the allowed set; seLinuxOptions.user and .role unset (pod and containers). */
function seLinuxOptions(pod: PodView): Finding[] {
  const out: Finding[] = [];
  const inspect = (owner: string, sc: Obj, path: string): void => {
    const opts = obj(sc.seLinuxOptions);
    const type = opts.type ?? '';
    if (typeof type !== 'string' || !SELINUX_TYPES.has(type)) {
      out.push({ path: `${path}.seLinuxOptions.type`, message: `${owner} must not set securityContext.seLinuxOptions.type to ${show(type)}` });
    }
    for (const key of ['user', 'role'] as const) {
      if (isSet(opts[key]) && opts[key] !== '') {
        out.push({ path: `${path}.seLinuxOptions.${key}`, message: `${owner} must not set securityContext.seLinuxOptions.${key}` });
      }
    }
  };
  inspect('pod', pod.podSC, 'spec.securityContext');
  for (const c of pod.containers) inspect(who(c), c.sc, `${c.path}.securityContext`);
  return out;
}

/** Containers whose securityContext.procMount is set to anything but Default. */
function nonDefaultProcMounts(pod: PodView): Finding[] {
  return pod.containers
    .filter((c) => isSet(c.sc.procMount) && c.sc.procMount !== 'Default')
    .map((c) => ({ path: `${c.path}.securityContext.procMount`, message: `${who(c)} must not set securityContext.procMount to ${show(c.sc.procMount)}` }));
}

/** /proc mount (baseline): procMount unset or Default, except in a user-namespace pod (hostUsers: false, v1.35+). */
function procMountBaseline(pod: PodView): Finding[] {
  return pod.userNamespace ? [] : nonDefaultProcMounts(pod);
}

const SECCOMP_TYPES = new Set(['RuntimeDefault', 'Localhost']);
const seccompType = (sc: Obj): unknown => obj(sc.seccompProfile).type;
const validSeccomp = (sc: Obj): boolean => {
  const type = seccompType(sc);
  return typeof type === 'string' && SECCOMP_TYPES.has(type);
};

/** Seccomp (baseline): a seccompProfile, where set (pod or container), is RuntimeDefault or Localhost (never Unconfined). */
function seccompProfileBaseline(pod: PodView): Finding[] {
  const out: Finding[] = [];
  if (isSet(pod.podSC.seccompProfile) && !validSeccomp(pod.podSC)) {
    out.push({ path: 'spec.securityContext.seccompProfile.type', message: `pod must not set securityContext.seccompProfile.type to ${show(seccompType(pod.podSC))}` });
  }
  for (const c of pod.containers) {
    if (isSet(c.sc.seccompProfile) && !validSeccomp(c.sc)) {
      out.push({ path: `${c.path}.securityContext.seccompProfile.type`, message: `${who(c)} must not set securityContext.seccompProfile.type to ${show(seccompType(c.sc))}` });
    }
  }
  return out;
}

/** The "safe" (namespaced, isolated) sysctls as of policy v1.37, with the version that allowed each. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start', // v1.0
  'net.ipv4.ip_local_reserved_ports', // v1.27
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes', // v1.29
  'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem', // v1.32
  'net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat', // v1.37
]);

/** Sysctls: spec.securityContext.sysctls[*].name only from the safe set. */
function sysctls(pod: PodView): Finding[] {
  const out: Finding[] = [];
  list(pod.podSC.sysctls).forEach((raw, i) => {
    const name = obj(raw).name;
    if (typeof name !== 'string' || !SAFE_SYSCTLS.has(name)) {
      out.push({ path: `spec.securityContext.sysctls[${i}].name`, message: `pod must not set sysctl ${show(name)}` });
    }
  });
  return out;
}

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const LIFECYCLE_HOOKS = ['postStart', 'preStop'] as const;
const HOST_HANDLERS = ['httpGet', 'tcpSocket'] as const;

/** Host probes and lifecycle hooks (v1.34+): no `host` in httpGet/tcpSocket of probes or postStart/preStop hooks
 *  (not even localhost: the kubelet would connect from the node). */
function hostProbesAndHostLifecycle(pod: PodView): Finding[] {
  const out: Finding[] = [];
  for (const c of pod.containers) {
    const handlers: Array<[string, unknown]> = [
      ...PROBES.map((p): [string, unknown] => [`${c.path}.${p}`, c.raw[p]]),
      ...LIFECYCLE_HOOKS.map((h): [string, unknown] => [`${c.path}.lifecycle.${h}`, obj(c.raw.lifecycle)[h]]),
    ];
    for (const [path, handler] of handlers) {
      for (const kind of HOST_HANDLERS) {
        const host = obj(obj(handler)[kind]).host;
        if (isSet(host) && host !== '') {
          out.push({ path: `${path}.${kind}.host`, message: `${who(c)} must not set a probe or lifecycle host (got ${show(host)})` });
        }
      }
    }
  }
  return out;
}

// --- restricted ---

/** Volume sources "restricted" allows (v1.33+ added image). A volume with no source is an implicit emptyDir. */
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret',
]);

/** Volume types: every spec.volumes[*] source is from the allowed list (no hostPath, nfs, gitRepo, ...). */
function restrictedVolumes(pod: PodView): Finding[] {
  const out: Finding[] = [];
  list(pod.spec.volumes).forEach((raw, i) => {
    const v = obj(raw);
    const sources = Object.keys(v).filter((key) => key !== 'name' && isSet(v[key]));
    for (const source of sources.filter((s) => !RESTRICTED_VOLUME_TYPES.has(s))) {
      out.push({ path: `spec.volumes[${i}].${source}`, message: `volume ${show(v.name)} must not use restricted volume type ${show(source)}` });
    }
  });
  return out;
}

/** Privilege escalation: every container sets allowPrivilegeEscalation: false (Windows pods exempt). */
function allowPrivilegeEscalation(pod: PodView): Finding[] {
  if (pod.windows) return [];
  return pod.containers
    .filter((c) => c.sc.allowPrivilegeEscalation !== false)
    .map((c) => ({ path: `${c.path}.securityContext.allowPrivilegeEscalation`, message: `${who(c)} must set securityContext.allowPrivilegeEscalation=false` }));
}

/** Running as non-root: runAsNonRoot: true at pod level or on every container, and false nowhere
 *  (user-namespace pods exempt). */
function runAsNonRoot(pod: PodView): Finding[] {
  if (pod.userNamespace) return [];
  const out: Finding[] = [];
  const podValue = pod.podSC.runAsNonRoot;
  if (isSet(podValue) && podValue !== true) {
    out.push({ path: 'spec.securityContext.runAsNonRoot', message: 'pod must not set securityContext.runAsNonRoot=false' });
  }
  for (const c of pod.containers) {
    const value = c.sc.runAsNonRoot;
    if (isSet(value) && value !== true) {
      out.push({ path: `${c.path}.securityContext.runAsNonRoot`, message: `${who(c)} must not set securityContext.runAsNonRoot=false` });
    } else if (!isSet(value) && podValue !== true) {
      out.push({ path: `${c.path}.securityContext.runAsNonRoot`, message: `pod or ${who(c)} must set securityContext.runAsNonRoot=true` });
    }
  }
  return out;
}

/** Running as non-root user: runAsUser is never 0, at pod or container level (user-namespace pods exempt). */
function runAsUser(pod: PodView): Finding[] {
  if (pod.userNamespace) return [];
  const out: Finding[] = [];
  if (pod.podSC.runAsUser === 0) out.push({ path: 'spec.securityContext.runAsUser', message: 'pod must not set runAsUser=0' });
  for (const c of pod.containers) {
    if (c.sc.runAsUser === 0) out.push({ path: `${c.path}.securityContext.runAsUser`, message: `${who(c)} must not set runAsUser=0` });
  }
  return out;
}

/** Seccomp (restricted): seccompProfile.type RuntimeDefault or Localhost at pod level, or on every container
 *  that does not inherit a valid pod-level one (Windows pods exempt from the requirement). */
function seccompProfileRestricted(pod: PodView): Finding[] {
  // Upstream admits any Windows pod here, relying on API validation to forbid seccompProfile on Windows pods.
  // We still apply the baseline rule it replaces, so restricted never admits what baseline denies.
  if (pod.windows) return seccompProfileBaseline(pod);
  const out = seccompProfileBaseline(pod); // anything explicitly set must be valid
  const podValid = isSet(pod.podSC.seccompProfile) && validSeccomp(pod.podSC);
  for (const c of pod.containers) {
    if (!isSet(c.sc.seccompProfile) && !podValid) {
      out.push({ path: `${c.path}.securityContext.seccompProfile.type`, message: `pod or ${who(c)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` });
    }
  }
  return out;
}

/** Capabilities (restricted): every container drops ALL and adds nothing but NET_BIND_SERVICE (Windows pods exempt
 *  from the requirement). */
function capabilitiesRestricted(pod: PodView): Finding[] {
  // As for seccomp: upstream relies on API validation (no capabilities on Windows pods); we keep the baseline rule.
  if (pod.windows) return capabilitiesBaseline(pod);
  const out: Finding[] = [];
  for (const c of pod.containers) {
    const caps = obj(c.sc.capabilities);
    if (!list(caps.drop).includes('ALL')) {
      out.push({ path: `${c.path}.securityContext.capabilities.drop`, message: `${who(c)} must set securityContext.capabilities.drop=["ALL"]` });
    }
    const bad = list(caps.add).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (bad.length > 0) {
      out.push({ path: `${c.path}.securityContext.capabilities.add`, message: `${who(c)} must not add capabilities ${bad.map(show).join(', ')} (only "NET_BIND_SERVICE")` });
    }
  }
  return out;
}

/** /proc mount (restricted, v1.35+): procMount unset or Default, even in a user-namespace pod. */
function procMountRestricted(pod: PodView): Finding[] {
  return nonDefaultProcMounts(pod);
}

/** Every control of PSS v1.37, baseline first. Ids are upstream's check ids. */
export const CONTROLS: readonly PssControl[] = [
  { id: 'windowsHostProcess', level: 'baseline', check: windowsHostProcess },
  { id: 'hostNamespaces', level: 'baseline', check: hostNamespaces },
  { id: 'privileged', level: 'baseline', check: privileged },
  { id: 'capabilities_baseline', level: 'baseline', check: capabilitiesBaseline },
  { id: 'hostPathVolumes', level: 'baseline', check: hostPathVolumes },
  { id: 'hostPorts', level: 'baseline', check: hostPorts },
  { id: 'appArmorProfile', level: 'baseline', check: appArmorProfile },
  { id: 'seLinuxOptions', level: 'baseline', check: seLinuxOptions },
  { id: 'procMount', level: 'baseline', check: procMountBaseline },
  { id: 'seccompProfile_baseline', level: 'baseline', check: seccompProfileBaseline },
  { id: 'sysctls', level: 'baseline', check: sysctls },
  { id: 'hostProbesAndHostLifecycle', level: 'baseline', check: hostProbesAndHostLifecycle },
  { id: 'restrictedVolumes', level: 'restricted', replaces: 'hostPathVolumes', check: restrictedVolumes },
  { id: 'allowPrivilegeEscalation', level: 'restricted', check: allowPrivilegeEscalation },
  { id: 'runAsNonRoot', level: 'restricted', check: runAsNonRoot },
  { id: 'runAsUser', level: 'restricted', check: runAsUser },
  { id: 'seccompProfile_restricted', level: 'restricted', replaces: 'seccompProfile_baseline', check: seccompProfileRestricted },
  { id: 'capabilities_restricted', level: 'restricted', replaces: 'capabilities_baseline', check: capabilitiesRestricted },
  { id: 'procMount_restricted', level: 'restricted', replaces: 'procMount', check: procMountRestricted },
];
