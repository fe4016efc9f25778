// Loading one sandbox for serving (metric-server.md §6.4), containers by EXACT sandbox id.

import { decodeRegistration, type Labels, type MetricRegistration } from '@org/metricserver-prom-format';
import { errorText } from '../discovery/errors.js';
import {
  addressMatches,
  type ContainerFile,
  type ContainerState,
  isSandboxRoot,
  listContainersOf,
  parseStateFile,
  type SandboxState,
  StateFileMissingError,
  substituteRuntimeRoot,
} from '../discovery/index.js';
import type { DiscoveryFs } from '../fs/index.js';
import { nodeFs } from '../fs/index.js';
import { flockLocker, LockBusyError, parseStateLocked, type StateLocker } from '../lock/index.js';
import { capabilityUnion } from './capabilities.js';
import { creationTimeSeconds, type SpecMetadata, sandboxLabels, specMetadata } from './labels.js';
import { RegistrationBytes } from './registration-bytes.js';
import { internRegistration } from './registration-intern.js';

/** Everything the server needs about one served sandbox; immutable once built. */
export interface SandboxView {
  readonly id: string;
  /** sandbox, iteration, pod_name, namespace_name (empty ones omitted). */
  readonly labels: Labels;
  /** Trimmed names (`NET_RAW`), ascending by capability number. */
  readonly capabilities: readonly string[];
  readonly specMetadata: SpecMetadata;
  /** `sandbox_metadata` labels, verbatim (empty values kept). */
  readonly metricMetadata: Labels;
  readonly creationTimeSeconds: number;
  /**
   * `sandbox.registeredMetrics`, decoded (shape only; `new Verifier(registration)` validates the rules)
   * and interned: sandboxes with equal registrations share this object.
   */
  readonly registration: MetricRegistration;
  readonly controlSocketPath: string;
  readonly pid: number;
  /** As stored (may hold `%RUNTIME_ROOT%`). */
  readonly metricServerAddress: string;
  /** Its `sandbox.registeredMetrics` is `registration` (the raw parsed copy is not kept). */
  readonly rootState: ContainerState & { readonly sandbox: SandboxState };
  /** All containers of the sandbox, in file-name order, root included (raw registrations replaced like rootState's). */
  readonly containers: readonly ContainerState[];
}

export interface LoadDeps {
  /** This server's `--metric-server` address (`%RUNTIME_ROOT%` is substituted if present). */
  readonly serverAddress: string;
  readonly fs?: DiscoveryFs;
  readonly locker?: StateLocker;
  /**
   * This sandbox's state files from a listing the caller just made (saves one readdir per
   * sandbox in a discovery pass); listed from `root` when absent. Must be exact-id matches.
   */
  readonly containerFiles?: readonly ContainerFile[];
  /**
   * The root container's state as the caller read it moments ago in the same pass
   * (discovery reads it first to check the address and the process): not read again.
   */
  readonly rootState?: ContainerState;
}

/** A sandbox that cannot be served (message as runsc words it). `LockBusyError` is thrown separately. */
export class SandboxLoadError extends Error {
  override readonly name = 'SandboxLoadError';
  constructor(
    readonly sandboxId: string,
    message: string,
  ) {
    super(message);
  }
}

/** Lock, read, unlock and parse one container's state file. Missing file -> undefined. */
export async function loadContainerState(
  root: string,
  containerId: string,
  sandboxId: string,
  deps: { readonly fs?: DiscoveryFs; readonly locker?: StateLocker },
): Promise<ContainerState | undefined> {
  const name = `${containerId}_sandbox:${sandboxId}.state`;
  try {
    // Parsed while the read buffer is ours (parseStateFile keeps copies only).
    return await parseStateLocked(root, containerId, sandboxId, deps, (bytes) =>
      parseStateFile(bytes, name, knownRegistrations),
    );
  } catch (e) {
    if (e instanceof StateFileMissingError) return undefined;
    throw e;
  }
}

/** Registrations recognised by their bytes in state files (one per process, like interning). */
const knownRegistrations = new RegistrationBytes((raw) =>
  internRegistration(decodeRegistration(raw, '$.sandbox.registeredMetrics')),
);

/**
 * Loads every container of exactly `sandboxId` (one lock at a time), finds its single root,
 * checks the address and the registration, and derives labels, capabilities and metadata.
 * Throws `LockBusyError` if any container file is locked (retry later), `RootDirError` if
 * the root cannot be listed, `SandboxLoadError` otherwise.
 */
export async function loadSandbox(root: string, sandboxId: string, deps: LoadDeps): Promise<SandboxView> {
  const fs = deps.fs ?? nodeFs;
  const locker = deps.locker ?? flockLocker;
  const files = deps.containerFiles ?? (await listContainersOf(fs, root, sandboxId));
  const containers: ContainerState[] = [];
  for (const f of files) {
    try {
      const known = deps.rootState !== undefined && f.containerId === deps.rootState.id ? deps.rootState : undefined;
      const state = known ?? (await loadContainerState(root, f.containerId, f.sandboxId, { fs, locker }));
      if (state !== undefined) containers.push(state);
    } catch (e) {
      if (e instanceof LockBusyError) throw e;
      throw new SandboxLoadError(sandboxId, `cannot load sandbox ${JSON.stringify(sandboxId)}: ${errorText(e)}`);
    }
  }

  let rootState: ContainerState | undefined;
  for (const c of containers) {
    if (!isSandboxRoot(c)) continue;
    if (rootState !== undefined) {
      throw new SandboxLoadError(
        sandboxId,
        `multiple root contains found for sandbox ID ${JSON.stringify(sandboxId)}: ` +
          `${JSON.stringify(c.id)} and ${JSON.stringify(rootState.id)}`,
      );
    }
    rootState = c;
  }
  if (rootState === undefined) {
    throw new SandboxLoadError(sandboxId, `no root container found for sandbox ID ${JSON.stringify(sandboxId)}`);
  }
  const sb = rootState.sandbox;
  if (sb === null) {
    throw new SandboxLoadError(sandboxId, `root container state file ${rootState.fileName} has no sandbox object`);
  }
  const wanted = substituteRuntimeRoot(sb.metricServerAddress, root);
  if (wanted === '') throw new SandboxLoadError(sandboxId, 'sandbox did not request instrumentation');
  if (!addressMatches(sb.metricServerAddress, deps.serverAddress, root)) {
    throw new SandboxLoadError(
      sandboxId,
      `sandbox requested instrumentation by a metric server running at a different address ` +
        `(sandbox wants ${JSON.stringify(wanted)}, this metric server serves ` +
        `${JSON.stringify(substituteRuntimeRoot(deps.serverAddress, root))})`,
    );
  }
  if (sb.registeredMetrics === null) {
    throw new SandboxLoadError(sandboxId, 'sandbox did not request instrumentation when it was created');
  }
  let registration: MetricRegistration;
  try {
    registration =
      sb.decodedRegistration ??
      internRegistration(decodeRegistration(sb.registeredMetrics, '$.sandbox.registeredMetrics'));
  } catch (e) {
    throw new SandboxLoadError(
      sandboxId,
      `invalid registered metrics in state file ${rootState.fileName}: ${errorText(e)}`,
    );
  }
  // The view lives as long as the sandbox is served: keep no raw registration JSON in it.
  const kept = containers.map((c) =>
    c.sandbox === null ? c : { ...c, sandbox: { ...c.sandbox, registeredMetrics: registration } },
  );
  const rootWithSandbox = kept[containers.indexOf(rootState)] as ContainerState & { readonly sandbox: SandboxState };
  return {
    id: sandboxId,
    labels: sandboxLabels(rootWithSandbox),
    capabilities: capabilityUnion(kept),
    specMetadata: specMetadata(kept),
    metricMetadata: sb.metricMetadata,
    creationTimeSeconds: creationTimeSeconds(rootState.createdAt.when),
    registration,
    controlSocketPath: sb.controlSocketPath,
    pid: sb.pid,
    metricServerAddress: sb.metricServerAddress,
    rootState: rootWithSandbox,
    containers: kept,
  };
}
