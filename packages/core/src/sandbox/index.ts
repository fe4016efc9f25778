export { CAPABILITY_NAMES, capabilityUnion, trimCapabilityName } from './capabilities.js';
export { type SandboxContainer, sandboxContainers } from './containers.js';
export { iterationId } from './iteration.js';
export { creationTimeSeconds, type SpecMetadata, sandboxLabels, specMetadata } from './labels.js';
export { type LoadDeps, loadContainerState, loadSandbox, SandboxLoadError, type SandboxView } from './load.js';
export { RegistrationBytes } from './registration-bytes.js';
export { internRegistration } from './registration-intern.js';
