// The status page (`/` for browsers) and its JSON (`/runsc-metrics/status`).
// Every value shown comes from a sandbox's state file or its export error, so
// everything is HTML-escaped, and the page forbids scripts and remote loads (CSP).

import type { ServerResponse } from 'node:http';
import type { Handler } from '../http.js';
import type { AppState } from '../state.js';
import { buildStatus, type SandboxStatus, type StatusReport, statusJson } from '../status.js';

export const STATUS_PATH = '/runsc-metrics/status';

/** Scripts, frames, forms and remote loads off; inline CSS only. */
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function statusJsonHandler(app: AppState): Handler {
  return (_req, res) => {
    const body = statusJson(buildStatus(app));
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(body);
  };
}

/** Sends `prefix` (the Go index page up to `</body></html>`) + the status table + the closing tags. */
export function sendStatusPage(res: ServerResponse, app: AppState, prefix: string, suffix: string): void {
  const body = prefix + renderStatusHtml(buildStatus(app)) + suffix;
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes for both text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const STYLE =
  'body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:14px}' +
  'th,td{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eee}' +
  'td.num{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#176b1d}.bad{color:#a1141b;font-weight:bold}' +
  '.muted{color:#777}td.id,td.when{white-space:nowrap}' +
  'td.err{max-width:40em;overflow-wrap:anywhere;font-family:monospace;font-size:12px}';

/** The part inserted after the Go page's paragraphs. Per sandbox: one row string. */
export function renderStatusHtml(r: StatusReport): string {
  const running = r.sandboxes.filter((s) => s.running).length;
  const broken = r.sandboxes.filter((s) => s.lastExport !== undefined && !s.lastExport.ok).length;
  const watch = r.instantDiscovery.enabled
    ? r.instantDiscovery.watching
      ? 'on (watching the root directory)'
      : 'on, but the root directory is not watched right now (20 s loop)'
    : 'off';
  const parts: string[] = [
    `<style>${STYLE}</style>`,
    `<h2 id="sandboxes">Served sandboxes</h2>`,
    `<p>Root directory <code>${escapeHtml(r.root)}</code>: <b>${r.sandboxes.length}</b> served, <b>${running}</b> ` +
      `running, ` +
      `<b>${broken}</b> whose last export failed. Instant discovery: ${escapeHtml(watch)}. ` +
      `Export results are those of the last <a href="/metrics">/metrics</a> scrape; this page queries no sandbox. ` +
      `As JSON: <a href="${STATUS_PATH}">${STATUS_PATH}</a>.</p>`,
  ];
  if (r.sandboxes.length === 0) {
    parts.push(
      '<p class="muted" id="no-sandboxes">No sandbox is served (none found yet in the root directory, or none ' +
        'names this server).</p>',
    );
    return parts.join('');
  }
  // Resource columns only once some sandbox has resource data (--resource-metrics).
  const withResources = r.sandboxes.some((s) => s.resources !== undefined);
  parts.push(
    '<table id="sandbox-table"><thead><tr><th>sandbox</th><th>pod</th><th>namespace</th><th>running</th>' +
      '<th>last export</th><th>duration (ms)</th><th>result</th><th>verifier error</th>' +
      (withResources ? '<th>CPU (s)</th><th>memory (MiB)</th>' : '') +
      '</tr></thead><tbody>',
  );
  for (const s of r.sandboxes) parts.push(row(s, withResources));
  parts.push('</tbody></table>');
  return parts.join('');
}

function row(s: SandboxStatus, withResources: boolean): string {
  const e = s.lastExport;
  const running = !s.loaded
    ? '<span class="bad">not loaded</span>'
    : s.running
      ? '<span class="ok">yes</span>'
      : '<span class="bad">no</span>';
  let when = '<span class="muted">not scraped yet</span>';
  let duration = '';
  let result = '';
  let verifier = '';
  if (e !== undefined) {
    when = escapeHtml(e.finishedAt);
    duration = e.durationMs.toFixed(1);
    if (e.ok) result = '<span class="ok">ok</span>';
    else if (e.failure === 'verify') {
      result = '<span class="bad">rejected</span>';
      verifier = escapeHtml(e.error ?? '');
    } else result = `<span class="bad">${escapeHtml(e.failure ?? 'error')}</span>: ${escapeHtml(e.error ?? '')}`;
  }
  return (
    `<tr data-sandbox="${escapeHtml(s.id)}"><td ` +
    `class="id"><code>${escapeHtml(s.id)}</code></td><td>${escapeHtml(s.pod)}</td>` +
    `<td>${escapeHtml(s.namespace)}</td><td>${running}</td><td class="when">${when}</td><td ` +
    `class="num">${duration}</td>` +
    `<td class="err">${result}</td><td class="err">${verifier}</td>` +
    (withResources ? resourceCells(s) : '') +
    '</tr>'
  );
}

/** The sandbox's latest CPU and memory; a failed last collection marks them (its error as the title). */
function resourceCells(s: SandboxStatus): string {
  const r = s.resources;
  if (r === undefined) return '<td class="num"></td><td class="num"></td>';
  const cpu = r.cpuSeconds === undefined ? '' : r.cpuSeconds.toFixed(2);
  const memory = r.memoryBytes === undefined ? '' : (r.memoryBytes / 2 ** 20).toFixed(1);
  const mark = r.error === undefined ? '' : ` <span class="bad" title="${escapeHtml(r.error)}">(stale)</span>`;
  return `<td class="num resources-cpu">${cpu}</td><td class="num resources-memory">${memory}${mark}</td>`;
}
