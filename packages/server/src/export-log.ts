// Logging of sandbox export failures: a broken sandbox is logged once per change of error
// (digits masked: times, sizes and offsets in a message must not make every scrape "new"),
// and once when it recovers, not once per scrape.
import type { Logger } from './log.js';

export class ExportErrorLog {
  /** Last logged error (digits masked) per sandbox id; written only in a scrape's synchronous result handling. */
  private readonly lastError = new Map<string, string>();

  constructor(private readonly log: Logger) {}

  failed(id: string, message: string): void {
    const key = message.replace(/\d+/g, '#');
    if (this.lastError.get(id) === key) return;
    this.lastError.set(id, key);
    this.log.warn('Could not export metrics from sandbox', { sandbox: id, error: message });
  }

  succeeded(id: string): void {
    if (this.lastError.delete(id)) this.log.info('Sandbox exports metrics again', { sandbox: id });
  }

  /** Forgets sandboxes no longer served. */
  prune(served: ReadonlySet<string>): void {
    if (this.lastError.size === 0) return;
    for (const id of this.lastError.keys()) if (!served.has(id)) this.lastError.delete(id);
  }
}
