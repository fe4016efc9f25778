export { RootDirError, StateFileError, StateFileMissingError } from './errors.js';
export {
  type ContainerFile,
  type StateFileName,
  compareBytewise,
  containerFileStem,
  isValidId,
  listContainersOf,
  listSandboxIds,
  listStateFiles,
  sandboxIdsOf,
  parseStateFileName,
} from './file-names.js';
export {
  type CapabilitySets,
  type ContainerState,
  type SandboxState,
  type RegistrationReader,
  isSandboxRoot,
  parseStateFile,
} from './state-file.js';
export { registrationValueAt } from './json-scan.js';
export { RUNTIME_ROOT_PLACEHOLDER, addressMatches, isProcessAlive, substituteRuntimeRoot } from './address.js';
