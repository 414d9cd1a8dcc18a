// Defaulting (the subset an operator comparing desired and actual state is likely to notice).
import { arr, clone, isObj, meta, type Obj, objOr, str } from './util.ts';
import type { ResourceType } from './resource-types.ts';
import type { ServerState } from './state.ts';

export function imagePullPolicy(image: unknown): string {
  const s = str(image) ?? '';
  if (s.includes('@')) return 'IfNotPresent';
  const lastSegment = s.split('/').pop() ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

export function defaultPodSpec(spec: Obj): void {
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  for (const list of ['containers', 'initContainers']) {
    for (const c of arr(spec[list])) {
      if (!isObj(c)) continue;
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.imagePullPolicy ??= imagePullPolicy(c.image);
      c.resources ??= {};
      for (const p of arr(c.ports)) if (isObj(p)) p.protocol ??= 'TCP';
    }
  }
}

export function defaultJob(obj: Obj, creating: boolean): void {
  const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
  const template = isObj(spec.template) ? spec.template : (spec.template = {});
  const tmeta = meta(template);
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex === undefined ? 6 : 2147483647;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.manualSelector ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy === undefined ? 'TerminatingOrFailed' : 'Failed';
  const m = meta(obj);
  if (isObj(tmeta.labels) && Object.keys(tmeta.labels).length > 0 && (!isObj(m.labels) || Object.keys(m.labels).length === 0)) {
    m.labels = clone(tmeta.labels);
  }
  defaultPodSpec(isObj(template.spec) ? template.spec : (template.spec = {}));
  if (creating && spec.manualSelector !== true) {
    // The Job strategy's generateSelector: label the template and select on the controller uid.
    const uid = str(m.uid) ?? '';
    const name = str(m.name) ?? '';
    const labels = isObj(tmeta.labels) ? tmeta.labels : (tmeta.labels = {});
    labels['batch.kubernetes.io/controller-uid'] ??= uid;
    labels['batch.kubernetes.io/job-name'] ??= name;
    labels['controller-uid'] ??= uid;
    labels['job-name'] ??= name;
    const selector = isObj(spec.selector) ? spec.selector : (spec.selector = {});
    const matchLabels = isObj(selector.matchLabels) ? selector.matchLabels : (selector.matchLabels = {});
    matchLabels['batch.kubernetes.io/controller-uid'] ??= uid;
  }
}

export function applyDefaults(srv: ServerState, t: ResourceType, obj: Obj, old: Obj | undefined, api: boolean): void {
  switch (t.storage) {
    case 'pods': {
      const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
      defaultPodSpec(spec);
      spec.enableServiceLinks ??= true;
      if (!old && (api || obj.status === undefined)) obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
      break;
    }
    case 'jobs.batch':
      defaultJob(obj, !old);
      if (!old && obj.status === undefined) obj.status = {};
      break;
    case 'services': {
      const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      for (const p of arr(spec.ports)) {
        if (!isObj(p)) continue;
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      const oldSpec = objOr(old?.spec);
      if (spec.type !== 'ExternalName') {
        if (spec.clusterIP === undefined || spec.clusterIP === '') {
          spec.clusterIP = oldSpec.clusterIP ?? `10.96.${Math.floor(srv.clusterIPs / 250)}.${(srv.clusterIPs++ % 250) + 1}`;
        }
        spec.clusterIPs ??= oldSpec.clusterIPs ?? [spec.clusterIP];
        spec.ipFamilies ??= ['IPv4'];
        spec.ipFamilyPolicy ??= 'SingleStack';
        spec.internalTrafficPolicy ??= 'Cluster';
      }
      if (!old && obj.status === undefined) obj.status = { loadBalancer: {} };
      break;
    }
    case 'networkpolicies.networking.k8s.io': {
      const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
      spec.podSelector ??= {};
      spec.policyTypes ??= spec.egress === undefined ? ['Ingress'] : ['Ingress', 'Egress'];
      for (const dir of ['ingress', 'egress']) {
        for (const rule of arr(spec[dir])) for (const p of arr(objOr(rule).ports)) if (isObj(p)) p.protocol ??= 'TCP';
      }
      break;
    }
    case 'secrets': {
      obj.type ??= 'Opaque';
      if (isObj(obj.stringData)) {
        const data = isObj(obj.data) ? obj.data : (obj.data = {});
        for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
      }
      delete obj.stringData;
      break;
    }
    case 'namespaces':
      obj.spec ??= { finalizers: ['kubernetes'] };
      if (!old) obj.status = { phase: 'Active' };
      break;
  }
}
