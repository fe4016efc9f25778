// One sandbox's Metrics.Export reply, from its bytes to its lines in a scrape's body, in
// one synchronous step: read it (the registration's canonical decoder, else the general
// path; then the filter re-check), verify it, render it. The step runs inside the socket
// read that completed the reply, so no snapshot waits in a promise for its turn.
//
// Who owns what, and for how long:
// - the reply's bytes belong to core's read (its shared read buffer): valid during the step;
// - the decoded points are this module's one DecodedPoints, overwritten by the next reply:
//   steps never overlap (each runs to its end inside one read), so one is enough;
// - `render` (the scrape's builder) turns the points into bytes at once and keeps none of
//   them; the verifier keeps values only.
// So nothing of a reply outlives its step but its rendered lines and the verifier's memo.

import type { Re2Filter } from '@org/metricserver-core';
import {
  type CallCut,
  type ExportReading,
  exportRequest,
  METHOD_EXPORT,
  readExportReply,
  readWholeExportReply,
  type UrpcConnection,
  type Verifier,
} from '@org/metricserver-core';
import { type CanonicalSnapshotDecoder, DecodedPoints, type SnapshotPoints } from '@org/metricserver-prom-format';
import { verifyNow } from './clock.js';
import { VerificationError } from './health.js';

/** Every reply's points, one at a time (see the ownership note above). */
const points = new DecodedPoints();

/** What a sandbox brings to the step: its registration's decoder and its own verifier. */
export interface ReplyChecks {
  readonly decoder: CanonicalSnapshotDecoder;
  readonly verifier: Verifier;
}

export interface ExportRequest {
  /** The metrics filter as given ('' = none) and its matcher. */
  readonly filter: string;
  readonly matcher: Re2Filter | undefined;
  readonly cut: CallCut;
  readonly maxResponseBytes: number;
}

/**
 * Exports `connection`'s sandbox metrics and hands the verified points to `render`, inside
 * the read that completes the reply. Resolves once rendered; rejects with the reason
 * otherwise (a urpc error, a VerificationError), having rendered nothing.
 */
export function exportAndRender(
  connection: UrpcConnection,
  checks: ReplyChecks,
  req: ExportRequest,
  render: (points: SnapshotPoints) => void,
): Promise<true> {
  const matcher = req.matcher;
  const reading: ExportReading = {
    socketPath: connection.socketPath,
    decoder: checks.decoder,
    into: points,
    // One shape for every call (a conditional spread made a slower, larger object).
    matches: req.filter === '' || matcher === undefined ? undefined : (name: string) => matcher.test(name),
  };
  const accept = (p: SnapshotPoints): true => {
    const verdict = checks.verifier.verify(p, verifyNow());
    if (!verdict.ok) throw new VerificationError(verdict.reason.toString(), verdict.reason.code);
    render(p);
    return true;
  };
  return connection.call(METHOD_EXPORT, undefined, (reply) => accept(readExportReply(reading, reply)), {
    cut: req.cut,
    maxResponseBytes: req.maxResponseBytes,
    request: exportRequest(req.filter),
    // A canonical reply is one complete JSON object by its grammar: one that arrives in one
    // read is taken without scanning it for its end first.
    takeWhole: (bytes, length) => {
      const p = readWholeExportReply(reading, bytes, length);
      return p === undefined ? undefined : accept(p);
    },
  });
}
