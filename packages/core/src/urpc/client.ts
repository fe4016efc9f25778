// One urpc call on a fresh connection to a sandbox's control socket, as runsc
// does it: write `{"method":M,"arg":A}` (no framing), read exactly one JSON
// object back, close. A call that hits its size cap destroys the socket at once;
// one cut by its deadline stops reading at once and is closed shortly after
// (lingerClose). The Go server keeps reading abandoned calls; we do not.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { parseJsonDetected } from '@org/metricserver-prom-format';
import { JsonObjectScanner, LeadingGarbageError, isJsonWhitespace } from './scanner.js';
import {
  UrpcClosedError,
  UrpcConnectError,
  UrpcError,
  UrpcProtocolError,
  UrpcRemoteError,
  UrpcTimeout,
  UrpcTooLarge,
  errorText,
} from './errors.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Applied when the caller gives no `timeoutMs`: every call has a deadline (Go caps a scrape at 30 s). */
export const DEFAULT_URPC_TIMEOUT_MS = 30_000;
/** sockaddr_un.sun_path is 108 bytes including the NUL: longer paths go through /proc/self/fd. */
const SUN_PATH_MAX = 108;
/** Linux O_PATH: open the socket inode without read/write access, only to name it. */
const O_PATH = 0o10000000;

/**
 * How long a call cut by its deadline keeps its (paused) socket before closing it.
 * Deadlines fire in bursts (every stalled sandbox of a scrape at once), exactly when
 * the scrape renders and sends its response; each close costs ~16 us of syscalls here
 * and wakes the sandbox's side. Closing the burst a little later takes that out of the
 * scrape's tail (~5 ms with 500 stalled sandboxes).
 */
export const TIMED_OUT_LINGER_MS = 100;

/** Paused sockets of timed-out calls, closed together by one timer. Owned by lingerClose and its flush. */
const lingering: net.Socket[] = [];
let lingerTimer: NodeJS.Timeout | undefined;

function lingerClose(socket: net.Socket): void {
  socket.pause(); // nothing more is read: the sandbox's writes back up in the kernel
  socket.unref(); // nor does it keep the process alive
  lingering.push(socket);
  if (lingerTimer === undefined) {
    lingerTimer = setTimeout(() => {
      lingerTimer = undefined;
      for (const s of lingering.splice(0)) s.destroy();
    }, TIMED_OUT_LINGER_MS);
    lingerTimer.unref();
  }
}

export interface UrpcCallOptions {
  /** Aborting rejects with UrpcTimeout at once; the socket stops reading and is closed shortly after. */
  readonly signal?: AbortSignal;
  /** Bytes of response accepted before the call fails with UrpcTooLarge (default 64 MiB). */
  readonly maxResponseBytes?: number;
  /** Deadline of this call in milliseconds, on top of `signal` (default 30 s). */
  readonly timeoutMs?: number;
}

/** Serialises a request exactly as runsc's Go client does: keys in this order, no whitespace. */
export function encodeUrpcRequest(method: string, arg: unknown): Buffer {
  const argJson = arg === undefined ? 'null' : JSON.stringify(arg);
  return Buffer.from(`{"method":${JSON.stringify(method)},"arg":${argJson}}`, 'utf8');
}

/**
 * Performs one call and resolves with the raw `result` of a `success:true`
 * response (parsed losslessly: integers beyond 2^53 are bigint). Rejects only
 * with a UrpcError subclass.
 */
export async function callUrpc(socketPath: string, method: string, arg: unknown, opts: UrpcCallOptions = {}): Promise<unknown> {
  const reply = await callUrpcReply(socketPath, method, arg, opts);
  const outcome = decodeEnvelope(method, socketPath, reply);
  if (outcome instanceof UrpcError) throw outcome;
  return outcome.value;
}

/** One response object exactly as it arrived: `bytes[0, length)`, its trailing whitespace left out. */
export interface UrpcReply {
  readonly bytes: Buffer;
  readonly length: number;
  /** The scanner's verdict: the text holds numbers JSON.parse would not keep exactly. */
  readonly needsLossless: boolean;
}

/**
 * Performs one call and resolves with the response's bytes, not yet parsed (for a
 * caller with a faster decoder for the replies it expects; `decodeEnvelope` is the
 * general one). Rejects only with a UrpcError subclass.
 */
export function callUrpcReply(socketPath: string, method: string, arg: unknown, opts: UrpcCallOptions = {}): Promise<UrpcReply> {
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_URPC_TIMEOUT_MS;
  const signal = opts.signal;
  const request = encodeUrpcRequest(method, arg);

  return new Promise<UrpcReply>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new UrpcTimeout(method, socketPath, `aborted before connecting: ${abortText(signal)}`));
      return;
    }

    let pathFd = -1;
    let connectPath = socketPath;
    if (Buffer.byteLength(socketPath) >= SUN_PATH_MAX) {
      try {
        pathFd = fs.openSync(socketPath, O_PATH);
      } catch (e) {
        reject(new UrpcConnectError(method, socketPath, (e as NodeJS.ErrnoException).code, e));
        return;
      }
      connectPath = `/proc/self/fd/${pathFd}`;
    }

    // All mutable state below is owned by this promise's executor and the
    // socket's event handlers; `settled` guards against late events.
    const chunks: Buffer[] = [];
    const scanner = new JsonObjectScanner();
    let received = 0;
    let connected = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const socket = net.createConnection({ path: connectPath });

    const closePathFd = (): void => {
      if (pathFd >= 0) {
        try {
          fs.closeSync(pathFd);
        } catch {
          // already closed: nothing to release
        }
        pathFd = -1;
      }
    };
    const onAbort = (): void => {
      finish(new UrpcTimeout(method, socketPath, `call aborted after ${received} response bytes: ${abortText(signal!)}`));
    };
    const finish = (outcome: UrpcError | UrpcReply): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      closePathFd();
      if (outcome instanceof UrpcTimeout) lingerClose(socket);
      else socket.destroy();
      if (outcome instanceof UrpcError) reject(outcome);
      else resolve(outcome);
    };

    timer = setTimeout(() => {
      finish(new UrpcTimeout(method, socketPath, `no complete response within ${timeoutMs} ms (${received} bytes received); connection closed`));
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });

    socket.on('connect', () => {
      connected = true;
      closePathFd();
      if (settled) return; // cut while connecting: the sandbox gets no request
      socket.write(request);
    });

    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > maxBytes) {
        finish(new UrpcTooLarge(method, socketPath, maxBytes));
        return;
      }
      let end: number;
      try {
        end = scanner.push(chunk);
      } catch (e) {
        finish(new UrpcProtocolError(method, socketPath, errorText(e), { cause: e }));
        return;
      }
      chunks.push(chunk);
      if (end < 0) return;
      for (let i = end; i < chunk.length; i++) {
        if (!isJsonWhitespace(chunk[i]!)) {
          finish(new UrpcProtocolError(method, socketPath, 'unexpected data after the response object (one call per connection)'));
          return;
        }
      }
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      finish({ bytes, length: received - (chunk.length - end), needsLossless: scanner.needsLossless });
    });

    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected) finish(new UrpcConnectError(method, socketPath, e.code, e));
      else finish(new UrpcClosedError(method, socketPath, `connection failed after ${received} response bytes without a complete response: ${e.message}`, { cause: e }));
    });
    socket.on('close', () => {
      if (!connected) finish(new UrpcConnectError(method, socketPath, undefined, new Error('connection closed while connecting')));
      else finish(new UrpcClosedError(method, socketPath, `sandbox closed the connection after ${received} response bytes without a complete response`));
    });
  });
}

/** Parses a reply and checks `{"success":bool,"err":string,"result":...}`: the general path for any reply. */
export function decodeEnvelope(method: string, socketPath: string, reply: UrpcReply): UrpcError | { value: unknown } {
  let parsed: unknown;
  try {
    parsed = parseJsonDetected(reply.bytes.toString('utf8', 0, reply.length), reply.needsLossless);
  } catch (e) {
    return new UrpcProtocolError(method, socketPath, `malformed JSON response: ${errorText(e)}`, { cause: e });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return new UrpcProtocolError(method, socketPath, 'response is not a JSON object');
  }
  const env = parsed as Record<string, unknown>;
  const success = env['success'];
  const err = env['err'] ?? '';
  if (typeof success !== 'boolean') return new UrpcProtocolError(method, socketPath, 'response has no boolean "success"');
  if (typeof err !== 'string') return new UrpcProtocolError(method, socketPath, 'response "err" is not a string');
  if (!success) return new UrpcRemoteError(method, socketPath, err);
  return { value: env['result'] ?? null };
}

function abortText(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.name === 'TimeoutError' ? 'deadline exceeded' : r.message;
  return r === undefined ? 'aborted' : String(r);
}
