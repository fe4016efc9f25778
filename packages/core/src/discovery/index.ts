export { addressMatches, isProcessAlive, RUNTIME_ROOT_PLACEHOLDER, substituteRuntimeRoot } from './address.js';
export { type SandboxCgroup, sandboxCgroupOf } from './cgroup-field.js';
export { RootDirError, StateFileError, StateFileMissingError } from './errors.js';
export {
  type ContainerFile,
  compareBytewise,
  containerFileStem,
  isValidId,
  listContainersOf,
  listSandboxIds,
  listStateFiles,
  parseStateFileName,
  type StateFileName,
  sandboxIdsOf,
} from './file-names.js';
export { registrationValueAt } from './json-scan.js';
export {
  type CapabilitySets,
  type ContainerState,
  isSandboxRoot,
  parseStateFile,
  type RegistrationReader,
  type SandboxState,
} from './state-file.js';
