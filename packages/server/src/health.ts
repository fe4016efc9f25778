// Per-sandbox export health: the outcome of each sandbox's last export, kept by
// the scrape layer (scrape.ts writes it where it produces the result) and read
// by the status page and the per-sandbox health meta-metrics. Shared record:
// extend it with fields, keep writes inside Scraper's synchronous result handling.

import { ExpectedError, UrpcError } from '@org/metricserver-core';

/** Why an export produced no served snapshot. */
export type ExportFailureKind =
  /** The sandbox's snapshot failed the Verifier (or the filter re-check): it lied. */
  | 'verify'
  /** No verified answer within the per-sandbox deadline (or the scrape's). */
  | 'timeout'
  /** Connect, protocol, size or decode errors. */
  | 'error'
  /** The sandbox could not be loaded: never queried. */
  | 'not-loaded';

export interface ExportResult {
  /** Wall-clock ms when the export settled. */
  readonly finishedAtMs: number;
  /** From the start of this sandbox's query (queue wait included) to its settlement. */
  readonly durationMs: number;
  /** undefined: exported and verified. */
  readonly failure: ExportFailureKind | undefined;
  /** The operator-readable error when `failure` is set. */
  readonly error: string | undefined;
  /** Meta-metric reason when `failure` is 'verify' or 'error' (see failureReason). */
  readonly reason?: string | undefined;
}

/** One served sandbox's health; mutated only by HealthBook.record (no await in between). */
export interface SandboxHealth {
  readonly id: string;
  last: ExportResult | undefined;
  /** Counts since the sandbox was first seen by a scrape. */
  exports: number;
  failures: number;
  /** Exports that missed their deadline (`sandbox_export_timeouts`). */
  timeouts: number;
  /**
   * Other failures by reason (`sandbox_export_failures{reason}`); not-loaded is not counted.
   * Resource collections that failed count here too, under `resources-<reason>`.
   */
  readonly failuresByReason: Map<string, number>;
  /** The last resource collection (`--resource-metrics`); undefined before the first. */
  resources: ResourceHealth | undefined;
}

/** The outcome of one resource collection of a sandbox. */
export interface ResourceHealth {
  /** Wall-clock ms when it settled. */
  readonly finishedAtMs: number;
  /** Sums over the sandbox's containers of what was served last (undefined before any was). */
  readonly cpuSeconds: number | undefined;
  readonly memoryBytes: number | undefined;
  /** The operator-readable error, and its `resources-*` reason, when it failed. */
  readonly error: string | undefined;
  readonly reason: string | undefined;
}

/**
 * A reply refused by one of the sandbox's verifiers (its snapshot, or with --resource-metrics its
 * resource usage). Thrown by the backend so the scrape layer can tell a lying sandbox from a
 * broken one.
 */
export class VerificationError extends ExpectedError {
  constructor(
    message: string,
    /** The rejection code (e.g. `counter-decreased`), for grouping by reason. */
    readonly code: string,
  ) {
    super(message);
    this.name = 'VerificationError';
  }
}

/**
 * The `reason` label of a failed resource collection: `resources-` and what failureReason says of
 * it (the resource verifier's code, the urpc error kind, `other`), or `resources-timeout`.
 */
export function resourceFailureReason(e: Error, timedOut: boolean): string {
  return `resources-${timedOut ? 'timeout' : failureReason(e)}`;
}

/**
 * The `reason` label of `sandbox_export_failures`: the verifier's rejection code
 * (`counter-decreased`, `unknown-metric`, ...), the urpc error kind (`connect`, `closed`,
 * `protocol` - undecodable replies and filter violations included -, `remote`, `too-large`),
 * or `other`. A closed set, so an alert can group on it.
 */
export function failureReason(e: Error): string {
  if (e instanceof VerificationError) return e.code;
  if (e instanceof UrpcError) return e.kind;
  return 'other';
}

/** Health of every sandbox scraped at least once, by id. Owned by the Scraper. */
export class HealthBook {
  private readonly byId = new Map<string, SandboxHealth>();

  /** Per sandbox per scrape: one result object; the health record is reused. */
  record(id: string, result: ExportResult): SandboxHealth {
    let h = this.byId.get(id);
    if (h === undefined) {
      h = newHealth(id);
      this.byId.set(id, h);
    }
    h.last = result;
    h.exports++;
    if (result.failure !== undefined) h.failures++;
    if (result.failure === 'timeout') h.timeouts++;
    else if (result.reason !== undefined)
      h.failuresByReason.set(result.reason, (h.failuresByReason.get(result.reason) ?? 0) + 1);
    return h;
  }

  /** A resource collection's outcome; a failure counts under its reason. */
  recordResources(id: string, result: ResourceHealth): void {
    let h = this.byId.get(id);
    if (h === undefined) {
      h = newHealth(id);
      this.byId.set(id, h);
    }
    // A failed collection keeps the last accepted figures (the status page shows them with the error).
    const last = h.resources;
    h.resources =
      result.cpuSeconds === undefined && last !== undefined
        ? { ...result, cpuSeconds: last.cpuSeconds, memoryBytes: last.memoryBytes }
        : result;
    if (result.reason !== undefined) {
      h.failuresByReason.set(result.reason, (h.failuresByReason.get(result.reason) ?? 0) + 1);
    }
  }

  get(id: string): SandboxHealth | undefined {
    return this.byId.get(id);
  }

  /** Forgets sandboxes no longer served. */
  prune(served: ReadonlySet<string>): void {
    for (const id of this.byId.keys()) if (!served.has(id)) this.byId.delete(id);
  }
}

function newHealth(id: string): SandboxHealth {
  return {
    id,
    last: undefined,
    exports: 0,
    failures: 0,
    timeouts: 0,
    failuresByReason: new Map(),
    resources: undefined,
  };
}
