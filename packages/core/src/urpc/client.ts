// One urpc call on a fresh connection to a sandbox's control socket, as runsc
// does it: write `{"method":M,"arg":A}` (no framing), read exactly one JSON
// object back, close. The call itself is UrpcConnection's (connection.ts), which
// can also keep a connection for the next call.
import { parseJsonDetected } from '@org/metricserver-prom-format';
import { type UrpcCallOptions, UrpcConnection, type UrpcReply, type UrpcTakeOptions } from './connection.js';
import { errorText, UrpcError, UrpcProtocolError, UrpcRemoteError } from './errors.js';

export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_URPC_TIMEOUT_MS,
  encodeUrpcRequest,
  type UrpcCallOptions,
  type UrpcReply,
  type UrpcTakeOptions,
} from './connection.js';

/**
 * Performs one call and resolves with the raw `result` of a `success:true`
 * response (parsed losslessly: integers beyond 2^53 are bigint). Rejects only
 * with a UrpcError subclass.
 */
export function callUrpc(
  socketPath: string,
  method: string,
  arg: unknown,
  opts: UrpcCallOptions = {},
): Promise<unknown> {
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

/**
 * Performs one call and resolves with the response's bytes (a copy), not yet parsed.
 * Rejects only with a UrpcError subclass. `callUrpcWith` decodes without the copy.
 */
export function callUrpcReply(
  socketPath: string,
  method: string,
  arg: unknown,
  opts: UrpcCallOptions = {},
): Promise<UrpcReply> {
  return callUrpcWith(
    socketPath,
    method,
    arg,
    (r) => ({ bytes: Buffer.from(r.bytes.subarray(0, r.length)), length: r.length, needsLossless: r.needsLossless }),
    opts,
  );
}

/**
 * One call on a connection of its own, closed after it (as runsc's client does): resolves
 * with `take(reply)`, run synchronously as soon as the reply is complete. `reply.bytes`
 * may be a view of a read buffer that is reused by the next read: `take` must copy
 * whatever it keeps (decoders build their own objects). A throw from `take` rejects the
 * call with it; otherwise rejects only with a UrpcError.
 */
export function callUrpcWith<T>(
  socketPath: string,
  method: string,
  arg: unknown,
  take: (reply: UrpcReply) => T,
  opts: UrpcTakeOptions<T> = {},
): Promise<T> {
  return new UrpcConnection(socketPath).call(method, arg, take, opts);
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
  if (typeof success !== 'boolean')
    return new UrpcProtocolError(method, socketPath, 'response has no boolean "success"');
  if (typeof err !== 'string') return new UrpcProtocolError(method, socketPath, 'response "err" is not a string');
  if (!success) return new UrpcRemoteError(method, socketPath, err);
  return { value: env['result'] ?? null };
}
