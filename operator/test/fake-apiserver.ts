// A fake Kubernetes API server for operator tests. Real HTTP on 127.0.0.1 serving the REST paths, content types
// and watch framing that @kubernetes/client-node 1.4 uses, with the server-side behaviour an operator can trip over:
// resourceVersion conflicts, the status subresource, generation, defaulting, validation (422), owner-reference
// garbage collection, finalizers, watch resume/expiry (410) and bookmarks. Test hooks let a test play the kubelet,
// the Job controller, an admission webhook or a flaky network.
//
// Real-server behaviour mimicked on purpose (each one is something an operator gets wrong in a real cluster):
// - PUT needs a current resourceVersion (409 Conflict when stale; 422 when missing on custom resources and CRDs);
//   a write that changes nothing gets no new resourceVersion and no watch event;
// - with a status subresource, writes to the main resource keep the old status and /status writes change only status;
//   API creates drop the status;
// - Job defaulting (selector on the controller uid, template labels, backoffLimit...), Job validation (restartPolicy
//   must be Never/OnFailure, name <= 63, immutable template/selector); Service clusterIP; NetworkPolicy policyTypes;
// - Jobs deleted without a propagationPolicy orphan their pods (batch/v1 default) with a Warning header;
// - custom resources: kind/apiVersion required, no strategic-merge-patch (415); typed lists omit items' kind;
// - core v1 and events.k8s.io/v1 Events share one storage; eventTime must have microseconds (V1MicroTime, not Date);
// - objects whose ownerReferences all point at missing owners are garbage-collected.
//
// Deliberate simplifications:
// - strategic-merge-patch is applied as a JSON merge patch (lists are replaced, not merged by key);
// - server-side apply is a merge of the applied object (no field ownership, no removal of dropped fields);
// - deletion is immediate (no graceful pod termination); garbage collection runs synchronously on delete and, for
//   owners that never existed, right after (setImmediate) the write that created the dangling reference;
// - no RBAC (use setFault for 403s), no namespace lifecycle (objects can be created in any namespace), no schema or
//   CEL validation for custom resources (use setAdmission), no managedFields, list resourceVersion is ignored.
//
// The implementation lives in ./fake-apiserver/ (one module per purpose); this module is its public API.
export type {
  AdmissionHook,
  AdmissionRequest,
  AdmissionResult,
  DeletePolicy,
  FakeApiServerOptions,
  FaultHook,
  FaultResult,
  KubeObject,
  ObjectMeta,
  ObjectRef,
  OwnerReference,
  RequestRecord,
  StoredObject,
  Verb,
  WatchEventType,
} from './fake-apiserver/types.ts';
export { applyJsonPatch, mergePatch } from './fake-apiserver/patch.ts';
export { ApiError } from './fake-apiserver/resource-types.ts';
export { parseLabelSelector, type LabelRequirement } from './fake-apiserver/selectors.ts';
export { FakeApiServer } from './fake-apiserver/server.ts';
export { kubeConfigFor, podForJob, startFakeApiServer } from './fake-apiserver/helpers.ts';
