// Public API of @org/metricserver-core: what the server and a library user need of the
// runsc side. Everything else is internal to its module (import it by path in tests).

export { addressMatches, isProcessAlive, substituteRuntimeRoot } from './discovery/address.js';
export type { SandboxCgroup } from './discovery/cgroup-field.js';
// Discovery: the root directory and its state files.
export { RootDirError, StateFileError, StateFileMissingError } from './discovery/errors.js';
export { listSandboxIds, parseStateFileName } from './discovery/file-names.js';
export { registrationValueAt } from './discovery/json-scan.js';
export { type ContainerState, parseStateFile, type SandboxState } from './discovery/state-file.js';
// Errors reported by message (no stack).
export { ExpectedError } from './errors/expected-error.js';
// RE2 filters of /metrics requests.
export { capabilityFilterMatches, compileRe2Filter, FilterError, type Re2Filter } from './filter/re2-filter.js';
export { type DiscoveryFs, nodeFs } from './fs/discovery-fs.js';
// Locking state files exactly as runsc does.
export { LockBusyError, LockError } from './lock/errors.js';
export { flockLocker } from './lock/flock.js';
export type { LockHandle, StateLocker } from './lock/locker.js';
export { lockPath, parseStateLocked, readStateLocked, statePath } from './lock/read-locked.js';
export type { Logger } from './registry/logger.js';
export { type RefreshOutcome, SandboxRegistry, type ServedSandbox } from './registry/sandbox-registry.js';
// Resource usage of a sandbox's containers (containerManager.Event, runsc events --stats).
export { containerCpuNs, needsHostCpu, populateStatsCpu } from './resources/cpu-share.js';
export {
  containerEvent,
  DEFAULT_EVENT_MAX_RESPONSE_BYTES,
  type EventReading,
  eventRequest,
  METHOD_EVENT,
  readEventReply,
} from './resources/event-call.js';
export {
  type ContainerEvent,
  decodeEventResult,
  INTERFACE_COUNTERS,
  type InterfaceCounter,
  type NetworkInterfaceStats,
} from './resources/event-decode.js';
export {
  CGROUP_ROOT,
  type HostCgroup,
  HostCgroupCpu,
  type HostCgroupDeps,
  type HostCpuReading,
  isOnlyCgroupV2,
  readHostCpuUsage,
  resolveHostCgroup,
  stateFileCpuUsageFile,
} from './resources/host-cgroup.js';
export { ResourceRejection, type ResourceRejectionCode } from './resources/rejection.js';
export type { Uint64 } from './resources/uint64.js';
export { type ResourceScrape, ResourceVerifier, type ResourceVerifyResult } from './resources/verifier.js';
export { type SandboxContainer, sandboxContainers } from './sandbox/containers.js';
export { iterationId } from './sandbox/iteration.js';
// One sandbox's view, and the served-sandbox registry.
export { loadSandbox, SandboxLoadError, type SandboxView } from './sandbox/load.js';
export { RegistrationBytes } from './sandbox/registration-bytes.js';
export { internRegistration } from './sandbox/registration-intern.js';
export { UrpcConnection, UrpcConnectionBudget } from './urpc/connection.js';
// The urpc control socket and the metric calls.
export type { CallCut } from './urpc/cut.js';
export {
  UrpcClosedError,
  UrpcConnectError,
  UrpcError,
  type UrpcErrorKind,
  UrpcProtocolError,
  UrpcRemoteError,
  UrpcTimeout,
  UrpcTooLarge,
} from './urpc/errors.js';
export {
  type ExportReading,
  exportRequest,
  METHOD_EXPORT,
  readExportReply,
  readWholeExportReply,
} from './urpc/export-reply.js';
export { type ExportMetricsOptions, exportMetrics, getRegisteredMetrics } from './urpc/methods.js';
// Verifying what an untrusted sandbox sends.
export { snapshotDecoderFor } from './verifier/decoder.js';
export { RegistrationError, VerifyRejection, type VerifyRejectionCode, type VerifyResult } from './verifier/errors.js';
export { Verifier } from './verifier/verifier.js';
