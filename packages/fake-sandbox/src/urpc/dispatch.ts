// Request decoding and the honest answers of runsc's control server for the
// calls a metric server (or runsc itself) makes.

import type { RE2JS } from 're2js';
import { compileFilter } from '../metrics/filter.js';
import { goJson } from '../wire/go-json.js';

export type Decoded =
  | { readonly kind: 'close' }
  | { readonly kind: 'reply'; readonly json: string }
  | { readonly kind: 'export'; readonly re: RE2JS | null };

export const errorReply = (err: string): string => `{"success":false,"err":${goJson(err)},"result":null}`;
export const okReply = (resultJson: string): string => `{"success":true,"err":"","result":${resultJson}}`;

const jsonKind = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v;

export interface DispatchContext {
  readonly registrationJson: string;
  /** containerManager.ContainerRuntimeState for a container id, or undefined if unknown. */
  readonly runtimeState: (containerId: string) => number | undefined;
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
              `json: cannot unmarshal ${jsonKind(om)} into Go struct field MetricsExportOpts.only_metrics of type string`,
            ),
          };
        }
        pattern = typeof om === 'string' ? om : '';
      }
      const f = compileFilter(pattern);
      return f.ok ? { kind: 'export', re: f.re } : { kind: 'reply', json: errorReply(f.err) };
    }
    case 'containerManager.ContainerRuntimeState': {
      const id = typeof r.arg === 'string' ? r.arg : '';
      const state = ctx.runtimeState(id);
      return {
        kind: 'reply',
        json: state === undefined ? errorReply(`container ${JSON.stringify(id)} not found`) : okReply(String(state)),
      };
    }
    default:
      return { kind: 'reply', json: errorReply('unknown method') };
  }
}
