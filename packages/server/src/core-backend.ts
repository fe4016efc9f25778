// The production ScrapeBackend: core's SandboxRegistry (discovery, loading,
// liveness) plus urpc export and per-sandbox verification.
import type { ScrapeBackend } from './backend.js';
import type { ResolvedConfig } from './config.js';
import type { Logger } from './log.js';

export function createCoreBackend(_config: ResolvedConfig, _log: Logger): ScrapeBackend {
  throw new Error('core backend not wired yet');
}
