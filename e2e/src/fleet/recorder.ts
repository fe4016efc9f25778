// Measures the server's behaviour from the sandboxes' side: each control socket
// is moved aside and replaced by a recording proxy, so the order in which the
// server connects and how many connections are open at once are observed
// where the sandboxes see them (the state files still name the original path).
import { renameSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Connection {
  id: string;
  /** performance.now() at accept. */
  at: number;
}

export class SocketRecorder {
  /** Accepted connections in accept order; appended only by the proxies' connection handlers. */
  private log: Connection[] = [];
  private open = 0;
  /** Highest number of simultaneously open proxied connections since the last take(). */
  private peak = 0;
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();

  static async interpose(sandboxes: readonly { id: string; socketPath: string }[]): Promise<SocketRecorder> {
    const r = new SocketRecorder();
    for (const sb of sandboxes) await r.proxy(sb.id, sb.socketPath);
    return r;
  }

  private async proxy(id: string, path: string): Promise<void> {
    const real = `${path}.real`;
    renameSync(path, real); // the sandbox keeps listening on the moved inode
    const server = createServer((client) => {
      this.log.push({ id, at: performance.now() });
      this.open++;
      this.peak = Math.max(this.peak, this.open);
      const upstream = connect({ path: real });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      // Count the connection as closed at EOF from the server (seen in the same poll phase as a new
      // accept), not at 'close', which Node emits a loop phase later and would overlap the next one.
      let counted = true;
      const gone = (): void => {
        if (counted) this.open--;
        counted = false;
      };
      client.once('end', gone);
      client.once('close', () => {
        gone();
        upstream.destroy();
        this.sockets.delete(client);
      });
      upstream.once('close', () => {
        client.destroy();
        this.sockets.delete(upstream);
      });
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    this.servers.push(server);
  }

  /** Connections since the last call, and the peak concurrency among them. */
  take(): { connections: Connection[]; peakOpen: number } {
    const out = { connections: this.log, peakOpen: this.peak };
    this.log = [];
    this.peak = this.open;
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
