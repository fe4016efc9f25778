// `containerManager.Event` on a sandbox's control socket: the call behind `runsc events --stats`,
// made for one container id. Like Export (urpc/export-reply.ts), the reading step is plain and
// synchronous so it runs inside the connection's `take`, on the reply's bytes before the read
// buffer is reused: one JSON.parse (lossless only where a 16+ digit run needs it), the strict
// decode, and the id check. Errors are core's typed UrpcErrors.
import type { UrpcCallOptions, UrpcReply } from '../urpc/client.js';
import { decodeEnvelope, encodeUrpcRequest } from '../urpc/client.js';
import type { UrpcConnection } from '../urpc/connection.js';
import { UrpcError, UrpcProtocolError } from '../urpc/errors.js';
import { decodeFailure } from '../urpc/export-reply.js';
import { decodeCanonicalEvent } from './event-canonical.js';
import { type ContainerEvent, decodeEventResult } from './event-decode.js';

export const METHOD_EVENT = 'containerManager.Event';

/**
 * Default reply cap of an Event call. A real reply is ~600 bytes (`lo` only), plus ~170 bytes per
 * network interface and ~90 per container in `containerUsage`: 1 MiB leaves room for thousands of
 * either while a hostile sandbox can make the server hold at most that much per call in flight
 * (the Export cap is far larger because registrations and snapshots are).
 */
export const DEFAULT_EVENT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** What reading an Event reply needs to know of the call. */
export interface EventReading {
  /** The socket called (what errors name). */
  readonly socketPath: string;
  /** The container id asked for: the reply must be about it. */
  readonly containerId: string;
}

/**
 * The decoded event of a complete reply, checked to be about `r.containerId`. Throws UrpcRemoteError
 * for `success:false` (an unknown id is `container "<id>" not found`, verbatim in `remoteMessage`)
 * and UrpcProtocolError for anything malformed or about another container.
 */
export function readEventReply(r: EventReading, reply: UrpcReply): ContainerEvent {
  const outcome = decodeEnvelope(METHOD_EVENT, r.socketPath, reply);
  if (outcome instanceof UrpcError) throw outcome;
  let event: ContainerEvent;
  try {
    event = decodeEventResult(outcome.value, '$.result');
  } catch (e) {
    throw decodeFailure(METHOD_EVENT, r.socketPath, e);
  }
  return aboutAsked(r, event);
}

/** The event, when it is about the container asked for; else the protocol error. */
function aboutAsked(r: EventReading, event: ContainerEvent): ContainerEvent {
  if (event.id !== r.containerId) {
    throw new UrpcProtocolError(
      METHOD_EVENT,
      r.socketPath,
      `asked for container ${JSON.stringify(r.containerId)}, the reply is about container ${JSON.stringify(event.id)}`,
    );
  }
  return event;
}

/** Encoded requests by container id; cleared when full (bounded, and rebuilt in ~1 µs each). */
const eventRequests = new Map<string, Buffer>();
const MAX_CACHED_REQUESTS = 8192;

/** `{"method":"containerManager.Event","arg":"<id>"}` as runsc's client writes it, encoded once per id. */
export function eventRequest(containerId: string): Buffer {
  let request = eventRequests.get(containerId);
  if (request === undefined) {
    if (eventRequests.size >= MAX_CACHED_REQUESTS) eventRequests.clear();
    request = encodeUrpcRequest(METHOD_EVENT, containerId);
    eventRequests.set(containerId, request);
  }
  return request;
}

/**
 * One Event call for `containerId` on `connection` (the sandbox's kept one, or a fresh
 * `new UrpcConnection(socketPath)`). `maxResponseBytes` defaults to
 * DEFAULT_EVENT_MAX_RESPONSE_BYTES; `cut`, `signal` and `timeoutMs` as for any call. Rejects
 * only with UrpcErrors.
 */
export function containerEvent(
  connection: UrpcConnection,
  containerId: string,
  opts: UrpcCallOptions = {},
): Promise<ContainerEvent> {
  const reading: EventReading = { socketPath: connection.socketPath, containerId };
  return connection.call(METHOD_EVENT, containerId, (reply) => readEventReply(reading, reply), {
    // runsc's exact encoding in one read, straight from the bytes; anything else: readEventReply.
    takeWhole: (bytes, length) => {
      const event = decodeCanonicalEvent(bytes, length);
      return event === undefined ? undefined : aboutAsked(reading, event);
    },
    signal: opts.signal,
    cut: opts.cut,
    maxResponseBytes: opts.maxResponseBytes ?? DEFAULT_EVENT_MAX_RESPONSE_BYTES,
    timeoutMs: opts.timeoutMs,
    request: eventRequest(containerId),
  });
}
