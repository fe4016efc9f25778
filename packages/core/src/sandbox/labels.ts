// Per-sandbox label sets derived from state files (metric-server.md §6.6, §6.7).
import type { Labels } from '@org/metricserver-prom-format';
import type { ContainerState, SandboxState } from '../discovery/index.js';
import { iterationId } from './iteration.js';

/**
 * `sandbox`, `iteration`, `pod_name`, `namespace_name` from the ROOT container; empty values
 * omitted. Frozen: the exposition writer caches the rendered pairs of frozen label objects.
 */
export function sandboxLabels(root: Pick<ContainerState, 'createdAt'> & { readonly sandbox: SandboxState }): Labels {
  const sb = root.sandbox;
  const out: Record<string, string> = {};
  if (sb.id !== '') {
    out.sandbox = sb.id;
    out.iteration = iterationId(sb.id, root.createdAt.when);
  }
  if (sb.podName !== '') out.pod_name = sb.podName;
  if (sb.namespace !== '') out.namespace_name = sb.namespace;
  return Object.freeze(out);
}

const NVPROXY = 'dev.gvisor.internal.nvproxy';
const TPUPROXY = 'dev.gvisor.internal.tpuproxy';

export interface SpecMetadata {
  readonly hasuid0: 'true' | 'false';
  /** The common OCI version, `UNKNOWN` with no containers, `INCONSISTENT` when they differ. */
  readonly ociversion: string;
  readonly nvproxy: 'true' | 'false';
  readonly tpuproxy: 'true' | 'false';
}

/** `spec_metadata` labels over all containers, in load (file-name) order, as runsc 20240729 computes them. */
export function specMetadata(
  containers: readonly Pick<ContainerState, 'uid' | 'ociVersion' | 'annotations'>[],
): SpecMetadata {
  let hasUid0 = false;
  let nv = false;
  let tpu = false;
  let version = 'UNKNOWN';
  for (const c of containers) {
    if (c.uid === 0) hasUid0 = true;
    if (c.annotations[NVPROXY] === 'true') nv = true;
    if (c.annotations[TPUPROXY] === 'true') tpu = true;
    // Quirk kept: an empty first version is taken as-is, and only "UNKNOWN" is replaced.
    if (version === 'UNKNOWN') version = c.ociVersion;
    else if (version !== c.ociVersion) version = 'INCONSISTENT';
  }
  return {
    hasuid0: hasUid0 ? 'true' : 'false',
    ociversion: version,
    nvproxy: nv ? 'true' : 'false',
    tpuproxy: tpu ? 'true' : 'false',
  };
}

/** `sandbox_creation_time_seconds`: Unix seconds plus nanoseconds as a fraction. */
export function creationTimeSeconds(when: { readonly seconds: number; readonly nanos: number }): number {
  return when.seconds + when.nanos / 1e9;
}
