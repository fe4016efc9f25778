// The two control-socket methods the metric side uses, with their results
// decoded strictly (runsc-interfaces.md §6). The sandbox is untrusted: a
// result that does not have the documented shape is a protocol error.
import { callUrpc, type UrpcCallOptions } from './client.js';
import { UrpcProtocolError, errorText } from './errors.js';
import {
  DecodeError,
  decodeExportResult,
  decodeRegistration,
  type MetricRegistration,
  type Snapshot,
} from '@org/metricserver-prom-format';

export const METHOD_EXPORT = 'Metrics.Export';
export const METHOD_GET_REGISTERED = 'Metrics.GetRegisteredMetrics';

export interface ExportMetricsOptions extends UrpcCallOptions {
  /**
   * The filter's compiled matcher (RE2, unanchored). When given, every returned
   * metric name must match it: the sandbox could ignore the filter.
   */
  readonly matchesFilter?: (metricName: string) => boolean;
}

/** `Metrics.Export` with `{"only_metrics": filter}` ("" = all metrics); resolves with the decoded snapshot. */
export async function exportMetrics(socketPath: string, filter: string, opts: ExportMetricsOptions = {}): Promise<Snapshot> {
  const result = await callUrpc(socketPath, METHOD_EXPORT, { only_metrics: filter }, opts);
  let snapshot: Snapshot;
  try {
    snapshot = decodeExportResult(result, '$.result').snapshot;
  } catch (e) {
    throw decodeFailure(METHOD_EXPORT, socketPath, e);
  }
  const matches = opts.matchesFilter;
  if (matches !== undefined && filter !== '') {
    for (const d of snapshot.data) {
      if (!matches(d.metric.name)) {
        throw new UrpcProtocolError(METHOD_EXPORT, socketPath, `metric ${d.metric.name} violated the filter set in export options`);
      }
    }
  }
  return snapshot;
}

/**
 * `Metrics.GetRegisteredMetrics` (result key `RegisteredMetrics`, capital R).
 * Resolves with null when the sandbox reports no registration. Never use this
 * to build a Verifier: trust only the copy runsc stored in the state file.
 */
export async function getRegisteredMetrics(socketPath: string, opts: UrpcCallOptions = {}): Promise<MetricRegistration | null> {
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
  const what = e instanceof DecodeError ? `result does not have the expected shape at ${errorText(e)}` : `cannot decode result: ${errorText(e)}`;
  return new UrpcProtocolError(method, socketPath, what, { cause: e });
}
