// One `Metrics.Export` reply made into points, for whoever calls Export: the canonical
// decoder first (runsc's exact encoding, straight from the bytes), else the general path
// (parseJson + decodeExportResult, the one place that defines errors), then the filter
// re-check (a sandbox may ignore the filter it was given). Synchronous and plain: points
// in, points or a typed error out.
import {
  type CanonicalSnapshotDecoder,
  type DecodedPoints,
  DecodeError,
  decodeExportResult,
  pointsOf,
  type SnapshotPoints,
} from '@org/metricserver-prom-format';
import { decodeEnvelope, encodeUrpcRequest, type UrpcReply } from './client.js';
import { errorText, UrpcError, UrpcProtocolError } from './errors.js';

export const METHOD_EXPORT = 'Metrics.Export';

/** What reading an Export reply needs to know of the call. */
export interface ExportReading {
  /** The socket called (what errors name). */
  readonly socketPath: string;
  /** The registration's canonical decoder (core's `snapshotDecoderFor`); undefined: the general path only. */
  readonly decoder: CanonicalSnapshotDecoder | undefined;
  /** Where the decoder writes: the caller's, read before its next use. */
  readonly into: DecodedPoints;
  /** The filter's matcher; undefined when no filter was given. */
  readonly matches: ((metricName: string) => boolean) | undefined;
}

/** The reply's points (`r.into` or a decoded Snapshot's), filter-checked; throws UrpcProtocolError, UrpcRemoteError. */
export function readExportReply(r: ExportReading, reply: UrpcReply): SnapshotPoints {
  // A reply the decoder declined whole is not offered to it again.
  const fast = reply.wholeDeclined === true ? undefined : r.decoder?.decodeReply(reply.bytes, reply.length, r.into);
  return checkFilter(r, fast ?? decodeGeneral(r.socketPath, reply));
}

/**
 * The points of a reply that arrived in one read, when the canonical decoder takes it whole
 * (its grammar proves the reply complete, so no end-of-object scan runs first); undefined
 * to let the connection scan it and call readExportReply.
 */
export function readWholeExportReply(r: ExportReading, bytes: Buffer, length: number): SnapshotPoints | undefined {
  const points = r.decoder?.decodeReply(bytes, length, r.into);
  return points === undefined ? undefined : checkFilter(r, points);
}

/** The points, when every metric in them matches the filter the sandbox was given; else a UrpcProtocolError. */
function checkFilter(r: ExportReading, points: SnapshotPoints): SnapshotPoints {
  const matches = r.matches;
  if (matches === undefined) return points;
  for (let i = 0; i < points.length; i++) {
    const name = points.pointAt(i).metric.name;
    if (!matches(name)) {
      throw new UrpcProtocolError(
        METHOD_EXPORT,
        r.socketPath,
        `metric ${name} violated the filter set in export options`,
      );
    }
  }
  return points;
}

function decodeGeneral(socketPath: string, reply: UrpcReply): SnapshotPoints {
  const outcome = decodeEnvelope(METHOD_EXPORT, socketPath, reply);
  if (outcome instanceof UrpcError) throw outcome;
  try {
    return pointsOf(decodeExportResult(outcome.value, '$.result').snapshot);
  } catch (e) {
    throw decodeFailure(METHOD_EXPORT, socketPath, e);
  }
}

export function decodeFailure(method: string, socketPath: string, e: unknown): UrpcProtocolError {
  const what =
    e instanceof DecodeError
      ? `result does not have the expected shape at ${errorText(e)}`
      : `cannot decode result: ${errorText(e)}`;
  return new UrpcProtocolError(method, socketPath, what, { cause: e });
}

/** Encoded Export requests by filter: every sandbox of a scrape gets the same bytes (a few filters at most). */
const exportRequests = new Map<string, Buffer>();

/** `{"method":"Metrics.Export","arg":{"only_metrics":filter}}`, encoded once per filter. */
export function exportRequest(filter: string): Buffer {
  let request = exportRequests.get(filter);
  if (request === undefined) {
    if (exportRequests.size >= 64) exportRequests.clear();
    request = encodeUrpcRequest(METHOD_EXPORT, { only_metrics: filter });
    exportRequests.set(filter, request);
  }
  return request;
}
