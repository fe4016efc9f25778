export { type Logger, silentLogger } from './logger.js';
export {
  type RefreshOutcome,
  SandboxRegistry,
  type SandboxRegistryOptions,
  type ServedSandbox,
} from './sandbox-registry.js';
export { sameFileVersion } from './stat-key.js';
