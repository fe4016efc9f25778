export { createFleet, Fleet, runLimited, type AddOptions, type BehaviourCount, type FleetOptions } from './fleet/fleet.js';
export { FakeSandbox, FakeSandboxError, type SandboxOptions, type SandboxStatus, type SubcontainerOptions } from './sandbox/sandbox.js';
export { renderStateFile, METRIC_METADATA, DEFAULT_CAPABILITIES, type Capabilities, type PodInfo } from './sandbox/state-file.js';
export {
  BEHAVIOUR_NAMES,
  BehaviourError,
  CREATE_TIME_BEHAVIOURS,
  TRANSPORT_BEHAVIOURS,
  normaliseBehaviour,
  type Behaviour,
  type BehaviourName,
} from './behaviour.js';
export { LIES, type LieName } from './metrics/lies.js';
export { SERIES_RAMP_SECONDS } from './metrics/source.js';
export { REAL_REGISTRATION, FAKE_DISTRIBUTION, type WireRegistration, type WireMetricMetadata } from './metrics/registration.js';
export { INJECTED_ERROR } from './urpc/server.js';
export { PidHolder } from './os/pid-holder.js';
export { formatRfc3339Nano } from './wire/clock.js';
