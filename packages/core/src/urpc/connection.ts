// A control-socket connection that carries urpc calls one at a time. runsc's urpc
// server serves any number of sequential calls on one connection, so a caller that
// queries the same sandbox every scrape may keep it open (`keep`): the next call
// skips the connect, the sandbox's accept and both closes (~40 ms of CPU on each side
// per 1000 sandboxes, measured). A one-shot connection (callUrpcWith) closes after its
// call, as runsc's own client does.
//
// Any failure (timeout, cut, size cap, protocol error, a reply with bytes after it)
// destroys the socket at once; only a call that ended with exactly one complete reply
// leaves a kept connection open. An idle kept connection that receives anything is
// destroyed (a sandbox has nothing to say between calls), and one the sandbox closed
// is noticed by its 'close'. A call that finds its reused connection closed before
// any reply byte (the sandbox went away between calls, or closed while we wrote) is
// retried once on a fresh connection; a fresh connection is never retried.
//
// State: every field is owned by this object and changed only by call() and by the
// current socket's callbacks (one socket at a time; callbacks of a replaced socket are
// ignored). `current` is the call in flight, null while idle.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { type CallCut, cutText } from './cut.js';
import {
  errorText,
  UrpcClosedError,
  UrpcConnectError,
  UrpcProtocolError,
  UrpcTimeout,
  UrpcTooLarge,
} from './errors.js';
import { CLOSE_BRACE, isJsonWhitespace, JsonObjectScanner } from './scanner.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Applied when the caller gives no `timeoutMs`: every call has a deadline (Go caps a scrape at 30 s). */
export const DEFAULT_URPC_TIMEOUT_MS = 30_000;
/** sockaddr_un.sun_path is 108 bytes including the NUL: longer paths go through /proc/self/fd. */
const SUN_PATH_MAX = 108;
/** Linux O_PATH: open the socket inode without read/write access, only to name it. */
const O_PATH = 0o10000000;

export interface UrpcCallOptions {
  /** Aborting destroys the socket and rejects with UrpcTimeout. */
  readonly signal?: AbortSignal;
  /** As `signal`, shared by many calls (one callback each, no listener list). */
  readonly cut?: CallCut;
  /** Bytes of response accepted before the call fails with UrpcTooLarge (default 64 MiB). */
  readonly maxResponseBytes?: number;
  /** Deadline of this call in milliseconds, on top of `signal` (default 30 s). */
  readonly timeoutMs?: number;
}

/** One response object exactly as it arrived: `bytes[0, length)`, its trailing whitespace left out. */
export interface UrpcReply {
  readonly bytes: Buffer;
  readonly length: number;
  /** The scanner's verdict: the text holds numbers JSON.parse would not keep exactly. */
  readonly needsLossless: boolean;
  /** `takeWhole` already declined exactly these bytes (so its decoder need not try them again). */
  readonly wholeDeclined?: boolean;
}

/** A call's options, plus a way to skip the end-of-object scan. */
export interface UrpcTakeOptions<T> extends UrpcCallOptions {
  /**
   * Tried once, on the first read when its last byte other than whitespace is `}`:
   * `takeWhole(bytes, length)` returns the call's result when `bytes[0, length)` is a
   * reply its caller's grammar proves to be one complete JSON object (the canonical
   * decoder's is a strict subset of JSON objects), else undefined, and the read goes
   * through the scanner as usual. It skips the scan of every byte for replies that
   * arrive in one read. A throw fails the call, as from `take`.
   */
  readonly takeWhole?: (bytes: Buffer, length: number) => T | undefined;
  /** The request already encoded (encodeUrpcRequest(method, arg)), when the caller keeps it: `arg` is then not read. */
  readonly request?: Buffer;
}

/** Serialises a request exactly as runsc's Go client does: keys in this order, no whitespace. */
export function encodeUrpcRequest(method: string, arg: unknown): Buffer {
  const argJson = arg === undefined ? 'null' : JSON.stringify(arg);
  return Buffer.from(`{"method":${JSON.stringify(method)},"arg":${argJson}}`, 'utf8');
}

/**
 * Bounds how many kept connections are open at once (the server's --scrape-concurrency:
 * a promise to the sandboxes and to the fd limit). Opening one more than the limit
 * closes the idle connection used longest ago first. Owned by its connections, which
 * report every change; single-threaded, so the counts are exact.
 */
export class UrpcConnectionBudget {
  /** Open sockets of kept connections (idle or busy). */
  private open = 0;
  /** Idle connections, least recently used first (a Set keeps insertion order). */
  private readonly idle = new Set<UrpcConnection>();

  /**
   * Whether connections stay open between calls at all. Their owner turns it off while it
   * has more sandboxes than `limit`: kept connections would then mostly be closed again
   * to make room, and sandboxes would see fewer connections than queries.
   */
  keepIdle = true;

  constructor(readonly limit: number) {}

  /** Open kept sockets now. */
  get openCount(): number {
    return this.open;
  }

  /** A socket is about to open for a connection: make room for it. */
  opening(): void {
    while (this.open >= this.limit) {
      const lru = this.idle.values().next();
      if (lru.done === true) break; // every open one is busy: the caller's own concurrency bounds this
      lru.value.close(); // calls closed(), which counts it out
    }
    this.open++; // `c` has no socket, so it is not idle
  }

  /** `c`'s socket is gone. */
  closed(c: UrpcConnection): void {
    this.idle.delete(c);
    this.open--;
  }

  /** `c` finished a call and stays open (now the most recently used). */
  rested(c: UrpcConnection): void {
    this.idle.delete(c);
    this.idle.add(c);
  }

  /** `c` starts a call on its open socket. */
  woke(c: UrpcConnection): void {
    this.idle.delete(c);
  }
}

export interface UrpcConnectionOptions {
  /** Keep the socket open after a call that ended cleanly (default false: one call per connection). */
  readonly keep?: boolean;
  /** Where kept sockets are counted (and the least recently used is closed beyond its limit). */
  readonly budget?: UrpcConnectionBudget;
}

/**
 * Every call's reads land in this one buffer (net's `onread`): a reply that arrives in
 * one read (the common case, up to 64 KiB) is decoded straight from it, with no
 * allocation per read. Safe because reads are handled one at a time on this thread and
 * nothing keeps a view of it past the synchronous `take`.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** The call in flight on a connection: its own state (the socket's callbacks dispatch to it). */
class PendingCall<T> {
  /** Copies of the reads before the last one (they share READ_BUFFER); made on the first such read. */
  chunks: Buffer[] | undefined;
  /** Made on the first read takeWhole does not take (most replies never need one). */
  scanner: JsonObjectScanner | undefined;
  received = 0;
  /** Length takeWhole declined on the first read, else -1. */
  declined = -1;
  settled = false;
  /** Sent on a socket that an earlier call used (a closed one is retried once, fresh). */
  reused = false;
  timer: NodeJS.Timeout | undefined;
  takeWhole: ((bytes: Buffer, length: number) => T | undefined) | undefined;
  readonly onAbort: (() => void) | undefined;

  constructor(
    readonly conn: UrpcConnection,
    readonly method: string,
    readonly request: Buffer,
    readonly take: (reply: UrpcReply) => T,
    readonly opts: UrpcTakeOptions<T>,
    readonly resolve: (value: T) => void,
    readonly reject: (error: Error) => void,
  ) {
    this.takeWhole = opts.takeWhole;
    const signal = opts.signal;
    this.onAbort = signal === undefined ? undefined : (): void => this.onCut(signal.reason);
  }

  /** As a CallCut callback: bound once per call (offCut needs the same function). */
  readonly onCut = (reason: unknown): void => {
    this.fail(
      new UrpcTimeout(
        this.method,
        this.conn.socketPath,
        `call aborted after ${this.received} response bytes: ${cutText(reason)}`,
      ),
    );
  };

  arm(): void {
    const cut = this.opts.cut;
    // A cut sure to fire bounds the call already: no timer per call (1000 per scrape).
    if (this.opts.timeoutMs !== undefined || cut?.bounded !== true) this.armTimer();
    cut?.onCut(this.onCut);
    if (this.onAbort !== undefined) this.opts.signal!.addEventListener('abort', this.onAbort, { once: true });
  }

  private armTimer(): void {
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_URPC_TIMEOUT_MS;
    this.timer = setTimeout(() => {
      this.fail(
        new UrpcTimeout(
          this.method,
          this.conn.socketPath,
          `no complete response within ${timeoutMs} ms (${this.received} bytes received); connection closed`,
        ),
      );
    }, timeoutMs);
  }

  /** Ends the call: no more reads, no more events for it. */
  private disarm(): void {
    this.settled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.opts.signal!.removeEventListener('abort', this.onAbort);
    this.opts.cut?.offCut(this.onCut);
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.disarm();
    this.conn.ended(this, false);
    this.reject(error);
  }

  private succeed(value: T): void {
    this.disarm();
    this.conn.ended(this, true);
    this.resolve(value);
  }

  /** A throw from take or takeWhole fails the call with it. */
  private takeFailed(e: unknown): void {
    this.fail(e instanceof Error ? e : new Error(String(e)));
  }

  /** One read of `nread` bytes in `buf`; false pauses the socket. */
  onRead(nread: number, buf: Buffer): boolean {
    if (this.settled) return false;
    this.received += nread;
    const maxBytes = this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (this.received > maxBytes) {
      this.fail(new UrpcTooLarge(this.method, this.conn.socketPath, maxBytes));
      return false;
    }
    const chunk = buf.subarray(0, nread);
    if (this.takeWhole !== undefined) {
      const tryWhole = this.takeWhole;
      this.takeWhole = undefined; // the first read only: a later read is never judged on its own
      let last = nread;
      while (last > 0 && isJsonWhitespace(chunk[last - 1]!)) last--;
      if (last > 0 && chunk[last - 1] === CLOSE_BRACE) {
        let whole: T | undefined;
        try {
          whole = tryWhole(chunk, last);
        } catch (e) {
          this.takeFailed(e);
          return false;
        }
        if (whole !== undefined) {
          this.succeed(whole);
          return this.conn.keepsReading();
        }
        this.declined = last;
      }
    }
    const scanner = (this.scanner ??= new JsonObjectScanner());
    let stop: number;
    try {
      stop = scanner.push(chunk);
    } catch (e) {
      this.fail(new UrpcProtocolError(this.method, this.conn.socketPath, errorText(e), { cause: e }));
      return false;
    }
    if (stop < 0) {
      (this.chunks ??= []).push(Buffer.from(chunk)); // the next read reuses READ_BUFFER
      return true;
    }
    for (let i = stop; i < nread; i++) {
      if (!isJsonWhitespace(chunk[i]!)) {
        this.fail(
          new UrpcProtocolError(
            this.method,
            this.conn.socketPath,
            'unexpected data after the response object (one call per connection)',
          ),
        );
        return false;
      }
    }
    const length = this.received - (nread - stop);
    const chunks = this.chunks;
    const bytes = chunks === undefined ? chunk : Buffer.concat([...chunks, chunk.subarray(0, stop)], length);
    let value: T;
    try {
      value = this.take({
        bytes,
        length,
        needsLossless: scanner.needsLossless,
        wholeDeclined: chunks === undefined && length === this.declined,
      });
    } catch (e) {
      this.takeFailed(e);
      return false;
    }
    this.succeed(value);
    return this.conn.keepsReading();
  }

  /** The socket failed or closed before the reply was complete. */
  lost(error: NodeJS.ErrnoException | undefined, connected: boolean): void {
    const path = this.conn.socketPath;
    if (!connected) {
      this.fail(
        new UrpcConnectError(this.method, path, error?.code, error ?? new Error('connection closed while connecting')),
      );
    } else if (error !== undefined) {
      this.fail(
        new UrpcClosedError(
          this.method,
          path,
          `connection failed after ${this.received} response bytes without a complete response: ${error.message}`,
          {
            cause: error,
          },
        ),
      );
    } else {
      this.fail(
        new UrpcClosedError(
          this.method,
          path,
          `sandbox closed the connection after ${this.received} response bytes without a complete response`,
        ),
      );
    }
  }
}

/** The connection holds one call of whatever result type at a time. */
// biome-ignore lint/suspicious/noExplicitAny: calls of every result type share the slot (PendingCall is invariant)
type AnyCall = PendingCall<any>;

export class UrpcConnection {
  private socket: net.Socket | null = null;
  private connected = false;
  private pathFd = -1;
  private current: AnyCall | null = null;
  /** Calls that ended cleanly on the current socket. */
  private served = 0;
  private readonly keep: boolean;
  private readonly budget: UrpcConnectionBudget | undefined;
  /** Bound once per connection: net's onread callback and the socket's events. */
  private readonly onread = {
    buffer: READ_BUFFER,
    callback: (nread: number, buf: Buffer): boolean => this.read(nread, buf),
  };

  constructor(
    readonly socketPath: string,
    options: UrpcConnectionOptions = {},
  ) {
    this.keep = options.keep === true;
    this.budget = this.keep ? options.budget : undefined;
  }

  /** A socket is open (or opening). */
  get isOpen(): boolean {
    return this.socket !== null;
  }

  /** Calls that ended cleanly on the current socket (0 for none, or no socket). */
  get callsOnSocket(): number {
    return this.served;
  }

  /**
   * One call: resolves with `take(reply)`, run synchronously as soon as the reply is
   * complete. `reply.bytes` may be a view of a read buffer that the next read reuses:
   * `take` must copy whatever it keeps. A throw from `take` rejects the call with it;
   * otherwise rejects only with a UrpcError. One call at a time per connection.
   */
  call<T>(method: string, arg: unknown, take: (reply: UrpcReply) => T, opts: UrpcTakeOptions<T> = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = opts.signal;
      const cut = opts.cut;
      if (signal?.aborted || cut?.isCut === true) {
        const reason: unknown = signal?.aborted ? signal.reason : cut!.cutReason;
        reject(new UrpcTimeout(method, this.socketPath, `aborted before connecting: ${cutText(reason)}`));
        return;
      }
      if (this.current !== null) {
        reject(
          new UrpcProtocolError(
            method,
            this.socketPath,
            'a call is already running on this connection (one at a time)',
          ),
        );
        return;
      }
      const call = new PendingCall<T>(
        this,
        method,
        opts.request ?? encodeUrpcRequest(method, arg),
        take,
        opts,
        resolve,
        reject,
      );
      this.current = call;
      call.arm();
      if (this.socket !== null) {
        // Idle and open (a failed or one-shot call drops its socket): reuse it.
        call.reused = true;
        this.budget?.woke(this);
        this.socket.write(call.request);
      } else {
        this.open(call);
      }
    });
  }

  /** Closes the socket (an idle kept connection; a call in flight fails as closed). */
  close(): void {
    const c = this.current;
    if (c !== null) {
      c.fail(
        new UrpcClosedError(
          c.method,
          this.socketPath,
          `connection closed by its owner after ${c.received} response bytes`,
        ),
      );
      return; // ended() dropped the socket
    }
    this.drop();
  }

  /** Whether the socket keeps reading after the call that just ended (an idle kept one listens for misbehaviour). */
  keepsReading(): boolean {
    return this.socket !== null;
  }

  /** Told by the call when it ends; a clean end of a kept connection leaves the socket open. */
  ended(call: AnyCall, clean: boolean): void {
    if (this.current !== call) return;
    this.current = null;
    if (clean && this.keep && this.socket !== null && this.budget?.keepIdle !== false) {
      this.served++;
      this.budget?.rested(this);
      return;
    }
    // At once, also for a timeout: a socket left open would count against no bound,
    // and --scrape-concurrency promises sandboxes (and the fd limit) at most that many.
    this.drop();
  }

  private open(call: AnyCall): void {
    let connectPath = this.socketPath;
    if (Buffer.byteLength(this.socketPath) >= SUN_PATH_MAX) {
      try {
        this.pathFd = fs.openSync(this.socketPath, O_PATH);
      } catch (e) {
        call.fail(new UrpcConnectError(call.method, this.socketPath, (e as NodeJS.ErrnoException).code, e));
        return;
      }
      connectPath = `/proc/self/fd/${this.pathFd}`;
    }
    this.budget?.opening();
    this.connected = false;
    this.served = 0;
    const socket = net.createConnection({ path: connectPath, onread: this.onread });
    this.socket = socket;
    socket.on('connect', () => {
      if (socket !== this.socket) return;
      this.connected = true;
      this.closePathFd();
      const c = this.current;
      if (c !== null) socket.write(c.request);
    });
    // Both come after every socket's end, ours included: only the current socket's count.
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (socket === this.socket) this.socketLost(e);
    });
    socket.on('close', () => {
      if (socket === this.socket) this.socketLost(undefined);
    });
  }

  private read(nread: number, buf: Buffer): boolean {
    const c = this.current;
    if (c !== null) return c.onRead(nread, buf);
    // Idle: a sandbox has nothing to send between calls.
    this.drop();
    return false;
  }

  private socketLost(error: NodeJS.ErrnoException | undefined): void {
    const c = this.current;
    const connected = this.connected;
    this.drop();
    if (c === null || c.settled) return;
    if (c.reused && c.received === 0) {
      // The sandbox closed our idle connection (it went away, or closed as we wrote): once more, fresh.
      c.reused = false;
      this.open(c);
      return;
    }
    c.lost(error, connected);
  }

  /** Forgets and destroys the socket (its late events are ignored). */
  private drop(): void {
    const socket = this.socket;
    if (socket === null) return;
    this.socket = null;
    this.connected = false;
    this.served = 0;
    this.closePathFd();
    socket.destroy();
    this.budget?.closed(this);
  }

  private closePathFd(): void {
    if (this.pathFd >= 0) {
      try {
        fs.closeSync(this.pathFd);
      } catch {
        // already closed: nothing to release
      }
      this.pathFd = -1;
    }
  }
}
