// Request decoding and the honest answers of runsc's control server for the
// calls a metric server (or runsc itself) makes.

import type { RE2JS } from 're2js';
import { compileFilter } from '../metrics/filter.js';
import { goJson, goQuote } from '../wire/go-json.js';

export type Decoded =
  | { readonly kind: 'close' }
  | { readonly kind: 'reply'; readonly json: string }
  | { readonly kind: 'export'; readonly re: RE2JS | null }
  | { readonly kind: 'event'; readonly containerId: string };

export const errorReply = (err: string): string => `{"success":false,"err":${goJson(err)},"result":null}`;
export const okReply = (resultJson: string): string => `{"success":true,"err":"","result":${resultJson}}`;

const jsonKind = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v;

export interface DispatchContext {
  readonly registrationJson: string;
  /** containerManager.ContainerRuntimeState for a container id, or undefined if unknown. */
  readonly runtimeState: (containerId: string) => number | undefined;
}

/** runsc's reply for a container id the sandbox does not have (Go's %q of the id). */
export const notFound = (id: string): string => errorReply(`container ${goQuote(id)} not found`);

/**
 * The `*string` argument of the containerManager calls, decoded as Go does: null leaves the
 * string empty, anything but a string is an unmarshal error (real captures: arg 5, {}, [...]).
 */
function containerIdArg(r: Record<string, unknown>): { ok: true; id: string } | { ok: false; err: string } {
  if (!('arg' in r)) return { ok: false, err: 'unexpected end of JSON input' };
  if (r.arg === null) return { ok: true, id: '' };
  if (typeof r.arg === 'string') return { ok: true, id: r.arg };
  return { ok: false, err: `json: cannot unmarshal ${jsonKind(r.arg)} into Go value of type string` };
}

/** Decodes one complete request text. Malformed JSON closes the connection, as runsc does. */
export function decodeRequest(text: string, ctx: DispatchContext): Decoded {
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch {
    return { kind: 'close' };
  }
  if (req === null || typeof req !== 'object' || Array.isArray(req)) return { kind: 'close' };
  const r = req as Record<string, unknown>;
  const method = typeof r.method === 'string' ? r.method : '';
  switch (method) {
    case 'Metrics.GetRegisteredMetrics':
      if (!('arg' in r)) return { kind: 'reply', json: errorReply('unexpected end of JSON input') };
      return { kind: 'reply', json: okReply(`{"RegisteredMetrics":${ctx.registrationJson}}`) };
    case 'Metrics.Export': {
      if (!('arg' in r)) return { kind: 'reply', json: errorReply('unexpected end of JSON input') };
      const arg = r.arg;
      let pattern = '';
      if (arg !== null) {
        if (typeof arg !== 'object' || Array.isArray(arg)) {
          return {
            kind: 'reply',
            json: errorReply(`json: cannot unmarshal ${jsonKind(arg)} into Go value of type control.MetricsExportOpts`),
          };
        }
        const om = (arg as Record<string, unknown>).only_metrics;
        if (om !== undefined && om !== null && typeof om !== 'string') {
          return {
            kind: 'reply',
            json: errorReply(
              `json: cannot unmarshal ${jsonKind(om)} into Go struct field MetricsExportOpts.only_metrics of type ` +
                `string`,
            ),
          };
        }
        pattern = typeof om === 'string' ? om : '';
      }
      const f = compileFilter(pattern);
      return f.ok ? { kind: 'export', re: f.re } : { kind: 'reply', json: errorReply(f.err) };
    }
    case 'containerManager.ContainerRuntimeState': {
      const id = containerIdArg(r);
      if (!id.ok) return { kind: 'reply', json: errorReply(id.err) };
      const state = ctx.runtimeState(id.id);
      return { kind: 'reply', json: state === undefined ? notFound(id.id) : okReply(String(state)) };
    }
    case 'containerManager.Event': {
      const id = containerIdArg(r);
      return id.ok ? { kind: 'event', containerId: id.id } : { kind: 'reply', json: errorReply(id.err) };
    }
    default:
      return { kind: 'reply', json: errorReply('unknown method') };
  }
}
