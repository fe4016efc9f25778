export {
  BEHAVIOUR_NAMES,
  type Behaviour,
  BehaviourError,
  type BehaviourName,
  CREATE_TIME_BEHAVIOURS,
  EVENT_BEHAVIOURS,
  normaliseBehaviour,
  TRANSPORT_BEHAVIOURS,
} from './behaviour.js';
export type { ContainerEvent } from './events/encode.js';
export { EVENT_LIES, type EventLie } from './events/lies.js';
export { EventSource, type EventSourceOptions } from './events/source.js';
export {
  type AddOptions,
  type BehaviourCount,
  createFleet,
  Fleet,
  type FleetOptions,
  runLimited,
} from './fleet/fleet.js';
export { LIES, type LieName } from './metrics/lies.js';
export {
  FAKE_DISTRIBUTION,
  REAL_REGISTRATION,
  type WireMetricMetadata,
  type WireRegistration,
} from './metrics/registration.js';
export { SERIES_RAMP_SECONDS } from './metrics/source.js';
export { PidHolder } from './os/pid-holder.js';
export {
  FakeSandbox,
  FakeSandboxError,
  type SandboxOptions,
  type SandboxStatus,
  type SubcontainerOptions,
} from './sandbox/sandbox.js';
export {
  type Capabilities,
  DEFAULT_CAPABILITIES,
  METRIC_METADATA,
  type PodInfo,
  renderStateFile,
} from './sandbox/state-file.js';
export { INJECTED_ERROR } from './urpc/server.js';
export { formatRfc3339Nano } from './wire/clock.js';
