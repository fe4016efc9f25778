// The sandbox side of urpc on one control socket: one JSON request at a time
// per connection, several sequential calls allowed, misbehaviours applied to
// Metrics.Export replies (runsc create's registration call stays honest) and,
// for the event-* behaviours, to containerManager.Event replies.
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { RE2JS } from 're2js';
import { type Behaviour, paramOf } from '../behaviour.js';
import { goJson } from '../wire/go-json.js';
import { type DispatchContext, decodeRequest, errorReply } from './dispatch.js';
import { RequestScanner } from './scanner.js';
import { streamRepeated } from './stream.js';

export interface ControlHandler extends DispatchContext {
  /** Read per request, so a behaviour change applies to the next call. */
  behaviour(): Behaviour;
  /** The honest or lying Metrics.Export reply for the current behaviour. */
  exportReply(re: RE2JS | null): string;
  /** The honest or lying containerManager.Event reply, or runsc's error for an unknown id. */
  eventReply(containerId: string): string;
  /** A valid Event reply in parts to stream at any size (event-huge); null for an unknown id. */
  eventHugeParts(containerId: string): { head: string; chunk: Buffer; tail: string } | null;
}

const ENDLESS_ENTRY = '{"metric":{"name":"fs_reads","type":2,"help":"Number of file reads."},"val":{"int":1}}';
const STREAM_HEAD =
  `{"success":true,"err":"","result":{"snapshot":{"when":"2026-01-01T00:00:00Z","data":[` + ENDLESS_ENTRY;
const STREAM_CHUNK = Buffer.from(`,${ENDLESS_ENTRY}`.repeat(Math.ceil(65536 / (ENDLESS_ENTRY.length + 1))));
const STREAM_TAIL = ']}}}';
export const INJECTED_ERROR = 'fake sandbox: injected Metrics.Export failure';
/** Balanced braces, so a reader that cuts at the closing brace gets it whole, but not JSON. */
const eventGarbage = (id: string): string =>
  `{"success":true,"err":"","result":{"event":{"type":"stats","id":${goJson(id)},"data":{"cpu":{"usage":{}},` +
  `"memory":{"usage":{"limit":0,"usage":0x1F,"failcnt":0}},"pids":{current:1},"network_interfaces":[,]}},` +
  `"containerUsage":{'x':NaN}}}`;

export class ControlServer {
  private server: Server | null = null;
  /** Open client connections; owned by this server, destroyed on detach(true)/close. */
  private readonly conns = new Set<Socket>();
  /** Pending slow/drip timers, cleared when the server closes. */
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly handler: ControlHandler) {}

  get accepting(): boolean {
    return this.server !== null;
  }

  /** Starts accepting on `fd` (a dup of the sandbox's listening socket; closing the server closes it). */
  attach(fd: number): Promise<void> {
    const server = createServer((sock) => this.onConnection(sock));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ fd }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting; queued connections stay in the kernel backlog. */
  async detach(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Stops accepting and resets every open connection (the process is gone). */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    await this.detach();
  }

  private onConnection(sock: Socket): void {
    this.conns.add(sock);
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => {}); // a client resetting is its business
    const scanner = new RequestScanner();
    let busy = false; // a reply is in progress: Go's decoder buffer is dropped with it
    sock.on('data', (chunk: Buffer) => {
      if (busy) return;
      const r = scanner.push(chunk);
      if (r.kind === 'incomplete') return;
      if (r.kind === 'invalid') {
        sock.destroy();
        return;
      }
      const d = decodeRequest(r.text, this.handler);
      if (d.kind === 'close') {
        sock.destroy();
        return;
      }
      if (d.kind === 'reply') {
        sock.write(d.json);
        return;
      }
      busy = true;
      const answer = d.kind === 'export' ? this.answerExport(sock, d.re) : this.answerEvent(sock, d.containerId);
      void answer.then((finished) => {
        if (finished) busy = false;
      });
    });
  }

  /** Resolves true when the reply is complete and the connection can take another call. */
  private async answerExport(sock: Socket, re: RE2JS | null): Promise<boolean> {
    const b = this.handler.behaviour();
    switch (b.name) {
      case 'no-answer':
      case 'stall-accept': // only reachable for a connection accepted before the switch
        return false;
      case 'error-reply':
        sock.write(errorReply(INJECTED_ERROR));
        return true;
      case 'garbage':
        sock.end(Buffer.concat([Buffer.from('\x00\xffgarbage}]"'), randomBytes(64)]));
        return false;
      case 'endless':
        await streamRepeated(sock, STREAM_HEAD, STREAM_CHUNK, Number.POSITIVE_INFINITY, STREAM_TAIL);
        return false;
      case 'huge':
        await streamRepeated(sock, STREAM_HEAD, STREAM_CHUNK, paramOf(b) ?? 0, STREAM_TAIL);
        return true;
      case 'half-json': {
        const reply = Buffer.from(this.handler.exportReply(re));
        sock.write(reply.subarray(0, reply.length >> 1));
        return false;
      }
      case 'slow':
        await this.sleep(paramOf(b) ?? 0);
        if (sock.destroyed) return false;
        sock.write(this.handler.exportReply(re)); // the snapshot is taken when the answer goes out
        return true;
      case 'drip': {
        const reply = Buffer.from(this.handler.exportReply(re));
        for (let i = 0; i < reply.length && !sock.destroyed; i++) {
          sock.write(reply.subarray(i, i + 1));
          if (i + 1 < reply.length) await this.sleep(paramOf(b) ?? 0);
        }
        return !sock.destroyed;
      }
      default:
        sock.write(this.handler.exportReply(re));
        return true;
    }
  }

  /** Resolves true when the reply is complete and the connection can take another call. */
  private async answerEvent(sock: Socket, containerId: string): Promise<boolean> {
    const b = this.handler.behaviour();
    switch (b.name) {
      case 'event-stall':
        return false;
      case 'event-garbage':
        sock.write(eventGarbage(containerId));
        return true;
      case 'event-huge': {
        const parts = this.handler.eventHugeParts(containerId);
        if (!parts) break; // an unknown id still gets runsc's error
        await streamRepeated(sock, parts.head, parts.chunk, paramOf(b) ?? 0, parts.tail);
        return !sock.destroyed;
      }
      default:
        break;
    }
    sock.write(this.handler.eventReply(containerId));
    return true;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}
