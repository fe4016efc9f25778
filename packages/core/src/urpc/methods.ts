// The two control-socket methods the metric side uses, with their results
// decoded strictly (runsc-interfaces.md §6). The sandbox is untrusted: a
// result that does not have the documented shape is a protocol error.

import {
  type CanonicalSnapshotDecoder,
  DecodedPoints,
  decodeRegistration,
  type MetricRegistration,
  type Snapshot,
  snapshotOf,
} from '@org/metricserver-prom-format';
import { callUrpc, type UrpcCallOptions } from './client.js';
import { UrpcConnection } from './connection.js';
import { UrpcProtocolError } from './errors.js';
import {
  decodeFailure,
  type ExportReading,
  exportRequest,
  METHOD_EXPORT,
  readExportReply,
  readWholeExportReply,
} from './export-reply.js';

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
}

/**
 * `Metrics.Export` with `{"only_metrics": filter}` ("" = all metrics); resolves with the
 * decoded, filter-checked snapshot, Data objects of its own. (The server reads replies
 * into reused points instead: server/src/reply.ts.)
 */
export function exportMetrics(socketPath: string, filter: string, opts: ExportMetricsOptions = {}): Promise<Snapshot> {
  const connection = opts.connection ?? new UrpcConnection(socketPath);
  const reading: ExportReading = {
    socketPath: connection.socketPath, // what errors name: the socket actually called
    decoder: opts.decoder,
    into: new DecodedPoints(),
    matches: filter === '' ? undefined : opts.matchesFilter,
  };
  return connection.call(METHOD_EXPORT, undefined, (reply) => snapshotOf(readExportReply(reading, reply)), {
    signal: opts.signal,
    cut: opts.cut,
    maxResponseBytes: opts.maxResponseBytes,
    timeoutMs: opts.timeoutMs,
    request: exportRequest(filter),
    takeWhole: (bytes, length) => {
      const points = readWholeExportReply(reading, bytes, length);
      return points === undefined ? undefined : snapshotOf(points);
    },
  });
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
