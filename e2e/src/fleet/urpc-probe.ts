// Ground truth for the fleet suites: ask a (fake) sandbox directly what it
// exports, with a minimal urpc client of our own (one JSON object per message,
// cut where the top-level object closes), independent of core's client.
import { connect } from 'node:net';

export interface ExportedSeries {
  name: string;
  labels: Record<string, string>;
}

/** Index just past the top-level JSON object that starts at 0, or -1 if incomplete. */
function messageEnd(buf: Buffer): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Metrics.Export on the control socket; the (unprefixed) series of the snapshot. */
export function probeExport(socketPath: string, onlyMetrics = '', timeoutMs = 5_000): Promise<ExportedSeries[]> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path: socketPath });
    const chunks: Buffer[] = [];
    const timer = setTimeout(
      () => sock.destroy(new Error(`no reply from ${socketPath} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    sock.once('connect', () =>
      sock.write(JSON.stringify({ method: 'Metrics.Export', arg: { only_metrics: onlyMetrics } })),
    );
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks);
      const end = messageEnd(all);
      if (end < 0) return;
      clearTimeout(timer);
      sock.destroy();
      try {
        const reply = JSON.parse(all.subarray(0, end).toString('utf8')) as {
          success: boolean;
          err: string;
          result: { snapshot: { data?: { metric: { name: string }; labels?: Record<string, string> }[] } } | null;
        };
        if (!reply.success || !reply.result) throw new Error(`Metrics.Export failed: ${reply.err}`);
        resolve((reply.result.snapshot.data ?? []).map((d) => ({ name: d.metric.name, labels: d.labels ?? {} })));
      } catch (e) {
        reject(e);
      }
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
