// The containers of a served sandbox as the resource metrics need them: which ids to ask
// `containerManager.Event` for, and how to name each one. Derived from the state files already in
// a SandboxView (one per container, root included); nothing is read again.
import { type ContainerState, isSandboxRoot } from '../discovery/state-file.js';

const CRI_CONTAINER_NAME = 'io.kubernetes.cri.container-name';
const CRI_CONTAINER_TYPE = 'io.kubernetes.cri.container-type';
const CRI_SANDBOX_NAME = 'io.kubernetes.cri.sandbox-name';
const CRI_SANDBOX_NAMESPACE = 'io.kubernetes.cri.sandbox-namespace';

/** One container of a sandbox, from its state file. */
export interface SandboxContainer {
  /** The container id: the argument of its Event call, and the key of `containerUsage`. */
  readonly id: string;
  /** The sandbox's root container (a pod's pause container): not `container` by the CRI type annotations. */
  readonly root: boolean;
  /**
   * The state file's status (`created`, `running`, `paused`, `stopped`...). `runsc events` refuses a
   * stopped container; the sandbox still answers for it until it is deleted (`pids` then `{}`).
   */
  readonly status: string;
  /** The state file's `createdAt` text: a different one under the same id is a new container. */
  readonly createdAt: string;
  /** containerd's `io.kubernetes.cri.container-name` annotation, '' when absent (not a Kubernetes container). */
  readonly containerName: string;
  /** `io.kubernetes.cri.container-type`: `sandbox` for a pod's root, `container` for the others, '' when absent. */
  readonly containerType: string;
  /** `io.kubernetes.cri.sandbox-name` of this container's spec, '' when absent. */
  readonly podName: string;
  /** `io.kubernetes.cri.sandbox-namespace` of this container's spec, '' when absent. */
  readonly podNamespace: string;
}

/**
 * Every container of the sandbox, in the view's (state-file name) order. Annotations are read as
 * containerd writes them; CRI-O's own annotation names are not read (only its container type, for
 * `root`, as discovery does).
 */
export function sandboxContainers(view: {
  readonly containers: readonly Pick<ContainerState, 'id' | 'annotations' | 'status' | 'createdAt'>[];
}): SandboxContainer[] {
  return view.containers.map((c) => ({
    id: c.id,
    root: isSandboxRoot(c),
    status: c.status,
    createdAt: c.createdAt.text,
    containerName: c.annotations[CRI_CONTAINER_NAME] ?? '',
    containerType: c.annotations[CRI_CONTAINER_TYPE] ?? '',
    podName: c.annotations[CRI_SANDBOX_NAME] ?? '',
    podNamespace: c.annotations[CRI_SANDBOX_NAMESPACE] ?? '',
  }));
}
