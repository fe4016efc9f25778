export { containerCpuNs, needsHostCpu, populateStatsCpu } from './cpu-share.js';
export {
  containerEvent,
  DEFAULT_EVENT_MAX_RESPONSE_BYTES,
  type EventReading,
  eventRequest,
  METHOD_EVENT,
  readEventReply,
} from './event-call.js';
export {
  type ContainerEvent,
  decodeEventResult,
  INTERFACE_COUNTERS,
  type InterfaceCounter,
  type NetworkInterfaceStats,
} from './event-decode.js';
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
} from './host-cgroup.js';
export { ResourceRejection, type ResourceRejectionCode } from './rejection.js';
export type { Uint64 } from './uint64.js';
export { type ResourceScrape, ResourceVerifier, type ResourceVerifyResult } from './verifier.js';
