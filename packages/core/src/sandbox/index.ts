export { iterationId } from './iteration.js';
export { CAPABILITY_NAMES, capabilityUnion, trimCapabilityName } from './capabilities.js';
export { type SpecMetadata, creationTimeSeconds, sandboxLabels, specMetadata } from './labels.js';
export { type LoadDeps, type SandboxView, SandboxLoadError, loadContainerState, loadSandbox } from './load.js';
export { RegistrationBytes } from './registration-bytes.js';
export { internRegistration } from './registration-intern.js';
