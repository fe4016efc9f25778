// One urpc call on a fresh connection to a sandbox's control socket, as runsc
// does it: write `{"method":M,"arg":A}` (no framing), read exactly one JSON
// object back, close. A call that hits its deadline or size cap destroys the
// socket at once (the Go server keeps reading abandoned calls; we do not).
import * as fs from 'node:fs';
import * as net from 'node:net';
import { parseJsonDetected } from '@org/metricserver-prom-format';
import { type CallCut, cutText } from './cut.js';
import { CLOSE_BRACE, JsonObjectScanner, LeadingGarbageError, isJsonWhitespace } from './scanner.js';
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
export function callUrpc(socketPath: string, method: string, arg: unknown, opts: UrpcCallOptions = {}): Promise<unknown> {
  return callUrpcWith(
    socketPath,
    method,
    arg,
    (reply) => {
      const outcome = decodeEnvelope(method, socketPath, reply);
      if (outcome instanceof UrpcError) throw outcome;
      return outcome.value;
    },
    opts,
  );
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

/** callUrpcWith's options: a call's, plus a way to skip the end-of-object scan. */
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

/**
 * Performs one call and resolves with the response's bytes (a copy), not yet parsed.
 * Rejects only with a UrpcError subclass. `callUrpcWith` decodes without the copy.
 */
export function callUrpcReply(socketPath: string, method: string, arg: unknown, opts: UrpcCallOptions = {}): Promise<UrpcReply> {
  return callUrpcWith(socketPath, method, arg, (r) => ({ bytes: Buffer.from(r.bytes.subarray(0, r.length)), length: r.length, needsLossless: r.needsLossless }), opts);
}

/**
 * Every call's reads land in this one buffer (net's `onread`): a reply that arrives in
 * one read (the common case, up to 64 KiB) is decoded straight from it, with no
 * allocation per read. Safe because reads are handled one at a time on this thread and
 * nothing keeps a view of it past the synchronous `take` (see callUrpcWith).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * Performs one call and resolves with `take(reply)`, run synchronously as soon as the
 * reply is complete. `reply.bytes` may be a view of a read buffer that is reused by the
 * next read: `take` must copy whatever it keeps (decoders build their own objects). A
 * throw from `take` rejects the call with it; otherwise rejects only with a UrpcError.
 */
export function callUrpcWith<T>(
  socketPath: string,
  method: string,
  arg: unknown,
  take: (reply: UrpcReply) => T,
  opts: UrpcTakeOptions<T> = {},
): Promise<T> {
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_URPC_TIMEOUT_MS;
  const signal = opts.signal;
  const cut = opts.cut;
  let takeWhole = opts.takeWhole;
  const request = opts.request ?? encodeUrpcRequest(method, arg);

  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted || cut?.isCut === true) {
      const reason: unknown = signal?.aborted ? signal.reason : cut!.cutReason;
      reject(new UrpcTimeout(method, socketPath, `aborted before connecting: ${cutText(reason)}`));
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
    // socket's callbacks; `settled` guards against late events.
    const chunks: Buffer[] = []; // copies of the reads before the last one (they share READ_BUFFER)
    const scanner = new JsonObjectScanner();
    let received = 0;
    /** Length takeWhole declined on the first read, else -1. */
    let declined = -1;
    let connected = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

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
    const onCut = (reason: unknown): void => {
      fail(new UrpcTimeout(method, socketPath, `call aborted after ${received} response bytes: ${cutText(reason)}`));
    };
    const onAbort = signal === undefined ? undefined : (): void => onCut(signal.reason);
    /** Ends the call: no more reads, no more events (`settled`). */
    const end = (): void => {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
      cut?.offCut(onCut);
      closePathFd();
      // At once, also for a timeout: a socket left open would count against no bound,
      // and --scrape-concurrency promises sandboxes (and the fd limit) at most that many.
      socket.destroy();
    };
    const fail = (error: Error): void => {
      if (settled) return;
      end();
      reject(error);
    };

    /** One read of `nread` bytes in READ_BUFFER; false pauses the socket. */
    const onRead = (nread: number, buf: Buffer): boolean => {
      if (settled) return false;
      received += nread;
      if (received > maxBytes) {
        fail(new UrpcTooLarge(method, socketPath, maxBytes));
        return false;
      }
      const chunk = buf.subarray(0, nread);
      if (takeWhole !== undefined) {
        const tryWhole = takeWhole;
        takeWhole = undefined; // the first read only: a later read is never judged on its own
        let last = nread;
        while (last > 0 && isJsonWhitespace(chunk[last - 1]!)) last--;
        if (last > 0 && chunk[last - 1] === CLOSE_BRACE) {
          let whole: T | undefined;
          try {
            whole = tryWhole(chunk, last);
          } catch (e) {
            fail(e instanceof Error ? e : new Error(String(e)));
            return false;
          }
          if (whole !== undefined) {
            end();
            resolve(whole);
            return false;
          }
          declined = last;
        }
      }
      let stop: number;
      try {
        stop = scanner.push(chunk);
      } catch (e) {
        fail(new UrpcProtocolError(method, socketPath, errorText(e), { cause: e }));
        return false;
      }
      if (stop < 0) {
        chunks.push(Buffer.from(chunk)); // the next read reuses READ_BUFFER
        return true;
      }
      for (let i = stop; i < nread; i++) {
        if (!isJsonWhitespace(chunk[i]!)) {
          fail(new UrpcProtocolError(method, socketPath, 'unexpected data after the response object (one call per connection)'));
          return false;
        }
      }
      const length = received - (nread - stop);
      const bytes = chunks.length === 0 ? chunk : Buffer.concat([...chunks, chunk.subarray(0, stop)], length);
      let value: T;
      try {
        value = take({ bytes, length, needsLossless: scanner.needsLossless, wholeDeclined: chunks.length === 0 && length === declined });
      } catch (e) {
        fail(e instanceof Error ? e : new Error(String(e)));
        return false;
      }
      end();
      resolve(value);
      return false;
    };

    const socket = net.createConnection({ path: connectPath, onread: { buffer: READ_BUFFER, callback: onRead } });

    timer = setTimeout(() => {
      fail(new UrpcTimeout(method, socketPath, `no complete response within ${timeoutMs} ms (${received} bytes received); connection closed`));
    }, timeoutMs);
    if (onAbort !== undefined) signal!.addEventListener('abort', onAbort, { once: true });
    cut?.onCut(onCut);

    socket.on('connect', () => {
      connected = true;
      closePathFd();
      socket.write(request);
    });

    // Both come after every call, ours closing the socket included: no error is made then.
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      if (!connected) fail(new UrpcConnectError(method, socketPath, e.code, e));
      else fail(new UrpcClosedError(method, socketPath, `connection failed after ${received} response bytes without a complete response: ${e.message}`, { cause: e }));
    });
    socket.on('close', () => {
      if (settled) return;
      if (!connected) fail(new UrpcConnectError(method, socketPath, undefined, new Error('connection closed while connecting')));
      else fail(new UrpcClosedError(method, socketPath, `sandbox closed the connection after ${received} response bytes without a complete response`));
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

