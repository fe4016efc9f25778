// The status report: what the server serves right now and how each sandbox's
// last export went, read from the registry's array snapshot and the scrape
// layer's HealthBook. Building it runs no discovery and queries no sandbox, so
// the status page and its JSON cost one kill(pid, 0) per sandbox.

import type { ScrapeTarget } from './backend.js';
import type { ExportFailureKind } from './health.js';
import type { AppState } from './state.js';

export interface SandboxStatus {
  readonly id: string;
  /** `pod_name` / `namespace_name` labels ('' when not in a pod). Sandbox-controlled. */
  readonly pod: string;
  readonly namespace: string;
  readonly iteration: string;
  /** The state files loaded (else never queried, shown as not running). */
  readonly loaded: boolean;
  readonly running: boolean;
  /** undefined until a scrape queried it. */
  readonly lastExport: LastExport | undefined;
  readonly exports: number;
  readonly failures: number;
  /** With --resource-metrics: its containers' latest CPU and memory; undefined until first collected. */
  readonly resources: LastResources | undefined;
}

export interface LastResources {
  /** RFC 3339 (UTC, milliseconds). */
  readonly finishedAt: string;
  /** Sums over its containers of the last accepted collection (kept through failed ones after it). */
  readonly cpuSeconds: number | undefined;
  readonly memoryBytes: number | undefined;
  /** The last collection's error, when it failed. */
  readonly error: string | undefined;
}

export interface LastExport {
  /** RFC 3339 (UTC, milliseconds). */
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly ok: boolean;
  readonly failure: ExportFailureKind | undefined;
  readonly error: string | undefined;
}

export interface StatusReport {
  readonly root: string;
  readonly address: string;
  /** Instant discovery: enabled by flag, and whether the inotify watch is armed. */
  readonly instantDiscovery: { readonly enabled: boolean; readonly watching: boolean };
  /** Sorted by id. */
  readonly sandboxes: readonly SandboxStatus[];
}

export function buildStatus(app: AppState): StatusReport {
  const targets = app.scraper.servedTargets().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    root: app.config.root,
    address: app.config.address,
    instantDiscovery: { enabled: app.watcher !== undefined, watching: app.watcher?.active ?? false },
    sandboxes: targets.map((t) => sandboxStatus(app, t)),
  };
}

function sandboxStatus(app: AppState, t: ScrapeTarget): SandboxStatus {
  const h = app.scraper.health.get(t.id);
  const last = h?.last;
  return {
    id: t.id,
    pod: t.labels.pod_name ?? '',
    namespace: t.labels.namespace_name ?? '',
    iteration: t.labels.iteration ?? '',
    loaded: t.meta !== undefined,
    running: t.meta !== undefined && t.isRunning(),
    lastExport:
      last === undefined
        ? undefined
        : {
            finishedAt: new Date(last.finishedAtMs).toISOString(),
            durationMs: Math.round(last.durationMs * 10) / 10,
            ok: last.failure === undefined,
            failure: last.failure,
            error: last.error,
          },
    exports: h?.exports ?? 0,
    failures: h?.failures ?? 0,
    resources:
      h?.resources === undefined
        ? undefined
        : {
            finishedAt: new Date(h.resources.finishedAtMs).toISOString(),
            cpuSeconds: h.resources.cpuSeconds,
            memoryBytes: h.resources.memoryBytes,
            error: h.resources.error,
          },
  };
}

/** JSON for machines: undefined fields become null so every key is always present. */
export function statusJson(report: StatusReport): string {
  return `${JSON.stringify(report, (_k, v: unknown) => (v === undefined ? null : v), 2)}\n`;
}
