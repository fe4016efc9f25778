// Logging of sandbox export failures (metrics; resource usage with --resource-metrics): a
// broken sandbox is logged once per change of error (digits masked: times, sizes and offsets
// in a message must not make every scrape "new"), and once when it recovers, not once per scrape.
import type { Logger } from './log.js';

export class ExportErrorLog {
  /** Last logged error (digits masked) per sandbox id; written only in a scrape's synchronous result handling. */
  private readonly lastError = new Map<string, string>();

  constructor(
    private readonly log: Logger,
    private readonly what = {
      failed: 'Could not export metrics from sandbox',
      recovered: 'Sandbox exports metrics again',
    },
  ) {}

  failed(id: string, message: string): void {
    const key = message.replace(/\d+/g, '#');
    if (this.lastError.get(id) === key) return;
    this.lastError.set(id, key);
    this.log.warn(this.what.failed, { sandbox: id, error: message });
  }

  succeeded(id: string): void {
    if (this.lastError.delete(id)) this.log.info(this.what.recovered, { sandbox: id });
  }

  /** Forgets sandboxes no longer served. */
  prune(served: ReadonlySet<string>): void {
    if (this.lastError.size === 0) return;
    for (const id of this.lastError.keys()) if (!served.has(id)) this.lastError.delete(id);
  }
}
