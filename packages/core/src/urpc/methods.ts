// The two control-socket methods the metric side uses, with their results
// decoded strictly (runsc-interfaces.md §6). The sandbox is untrusted: a
// result that does not have the documented shape is a protocol error.

import {
  CanonicalSnapshot,
  type CanonicalSnapshotDecoder,
  DecodeError,
  decodeExportResult,
  decodeRegistration,
  type MetricRegistration,
  type Snapshot,
} from '@org/metricserver-prom-format';
import { callUrpc, decodeEnvelope, encodeUrpcRequest, type UrpcCallOptions, type UrpcReply } from './client.js';
import { UrpcConnection } from './connection.js';
import { errorText, UrpcError, UrpcProtocolError } from './errors.js';

export const METHOD_EXPORT = 'Metrics.Export';
export const METHOD_GET_REGISTERED = 'Metrics.GetRegisteredMetrics';

export interface ExportMetricsOptions extends UrpcCallOptions {
  /**
   * The filter's compiled matcher (RE2, unanchored). When given, every returned
   * metric name must match it: the sandbox could ignore the filter.
   */
  readonly matchesFilter?: (metricName: string) => boolean;
  /**
   * The fast path for canonical replies of the sandbox's registration (core's
   * `snapshotDecoderFor`); any reply it does not take goes the general way, so the
   * result and every error are the same with or without it.
   */
  readonly decoder?: CanonicalSnapshotDecoder;
  /**
   * The sandbox's connection to call on (kept open from call to call when it was made
   * with `keep`); its socket path is used. Default: a connection of the call's own.
   */
  readonly connection?: UrpcConnection;
  /**
   * Run on the decoded snapshot inside the read, after the filter check: what it returns
   * is the result, what it throws fails the call (and drops the connection). The
   * server's verifier goes here, so no promise per call is left waiting to run it.
   */
  readonly check?: (snapshot: Snapshot) => Snapshot;
}

/** `Metrics.Export` with `{"only_metrics": filter}` ("" = all metrics); resolves with the decoded snapshot. */
export function exportMetrics(socketPath: string, filter: string, opts: ExportMetricsOptions = {}): Promise<Snapshot> {
  // Decoded and checked inside the read (the reply's bytes may be the shared read buffer):
  // no copy of the reply, and no async frame per call.
  const decoder = opts.decoder;
  const matches = filter === '' ? undefined : opts.matchesFilter;
  const check = opts.check;
  const connection = opts.connection ?? new UrpcConnection(socketPath);
  const path = connection.socketPath; // what errors name: the socket actually called
  return connection.call(
    METHOD_EXPORT,
    undefined, // `{"only_metrics": filter}`, sent as the cached `request` below
    (reply) => {
      const fast = reply.wholeDeclined === true ? undefined : decoder?.decodeReply(reply.bytes, reply.length);
      return accepted(path, matches, check, fast ?? decodeGeneral(path, reply));
    },
    {
      signal: opts.signal,
      cut: opts.cut,
      maxResponseBytes: opts.maxResponseBytes,
      timeoutMs: opts.timeoutMs,
      request: exportRequest(filter),
      // A canonical reply is one complete JSON object by its grammar: one that arrives in
      // one read is decoded without scanning it for its end first.
      takeWhole:
        decoder === undefined
          ? undefined
          : (bytes, length) => {
              const snapshot = decoder.decodeReply(bytes, length);
              return snapshot === undefined ? undefined : accepted(path, matches, check, snapshot);
            },
    },
  );
}

/** Encoded Export requests by filter: every sandbox of a scrape gets the same bytes (a few filters at most). */
const exportRequests = new Map<string, Buffer>();

function exportRequest(filter: string): Buffer {
  let request = exportRequests.get(filter);
  if (request === undefined) {
    if (exportRequests.size >= 64) exportRequests.clear();
    request = encodeUrpcRequest(METHOD_EXPORT, { only_metrics: filter });
    exportRequests.set(filter, request);
  }
  return request;
}

/** A decoded reply's result: filter-checked, then through the caller's `check`. Both decode paths end here. */
function accepted(
  socketPath: string,
  matches: ((metricName: string) => boolean) | undefined,
  check: ((snapshot: Snapshot) => Snapshot) | undefined,
  snapshot: Snapshot,
): Snapshot {
  const filtered = checkFilter(socketPath, matches, snapshot);
  return check === undefined ? filtered : check(filtered);
}

/** The snapshot, when every metric in it matches the filter the sandbox was given; else a UrpcProtocolError. */
function checkFilter(
  socketPath: string,
  matches: ((metricName: string) => boolean) | undefined,
  snapshot: Snapshot,
): Snapshot {
  if (matches === undefined) return snapshot;
  const canonical = snapshot instanceof CanonicalSnapshot ? snapshot : undefined;
  const metrics = canonical?.metrics ?? snapshot.data.map((d) => d.metric);
  const n = canonical?.length ?? metrics.length;
  for (let i = 0; i < n; i++) {
    const m = metrics[i]!;
    if (!matches(m.name)) {
      throw new UrpcProtocolError(
        METHOD_EXPORT,
        socketPath,
        `metric ${m.name} violated the filter set in export options`,
      );
    }
  }
  return snapshot;
}

function decodeGeneral(socketPath: string, reply: UrpcReply): Snapshot {
  const outcome = decodeEnvelope(METHOD_EXPORT, socketPath, reply);
  if (outcome instanceof UrpcError) throw outcome;
  try {
    return decodeExportResult(outcome.value, '$.result').snapshot;
  } catch (e) {
    throw decodeFailure(METHOD_EXPORT, socketPath, e);
  }
}

/**
 * `Metrics.GetRegisteredMetrics` (result key `RegisteredMetrics`, capital R).
 * Resolves with null when the sandbox reports no registration. Never use this
 * to build a Verifier: trust only the copy runsc stored in the state file.
 */
export async function getRegisteredMetrics(
  socketPath: string,
  opts: UrpcCallOptions = {},
): Promise<MetricRegistration | null> {
  const result = await callUrpc(socketPath, METHOD_GET_REGISTERED, null, opts);
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw new UrpcProtocolError(METHOD_GET_REGISTERED, socketPath, 'result is not an object');
  }
  // Go matches keys case-insensitively (exact spelling first).
  const obj = result as Record<string, unknown>;
  let raw: unknown = obj['RegisteredMetrics'];
  if (raw === undefined) {
    for (const k in obj) if (k.toLowerCase() === 'registeredmetrics') raw = obj[k];
  }
  if (raw === undefined || raw === null) return null;
  try {
    return decodeRegistration(raw, '$.result.RegisteredMetrics');
  } catch (e) {
    throw decodeFailure(METHOD_GET_REGISTERED, socketPath, e);
  }
}

function decodeFailure(method: string, socketPath: string, e: unknown): UrpcProtocolError {
  const what =
    e instanceof DecodeError
      ? `result does not have the expected shape at ${errorText(e)}`
      : `cannot decode result: ${errorText(e)}`;
  return new UrpcProtocolError(method, socketPath, what, { cause: e });
}
