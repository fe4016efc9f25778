// The runsc container state file (runsc/container Container struct as Go's
// json.Marshal writes it): same keys in the same order as the real capture,
// realistic values for what a metric server does not read.
import { goEscape } from '../wire/go-json.js';

export interface PodInfo {
  readonly name: string;
  readonly namespace: string;
}

export interface Capabilities {
  readonly bounding?: readonly string[];
  readonly effective?: readonly string[];
  readonly inheritable?: readonly string[];
  readonly permitted?: readonly string[];
  readonly ambient?: readonly string[];
}

export interface ContainerSpecOptions {
  readonly ociVersion: string;
  readonly uid: number;
  readonly capabilities: Capabilities;
  readonly annotations: Readonly<Record<string, string>> | undefined;
  /** Set for root containers only; runsc leaves it out of subcontainer specs. */
  readonly cgroupsPath: string | undefined;
}

/** The `sandbox` object; subcontainers carry a copy of the root's, taken at their creation. */
export interface SandboxObjectOptions {
  readonly sandboxId: string;
  readonly pod: PodInfo | undefined;
  readonly pid: number;
  readonly metricServerAddress: string;
  readonly controlSocketPath: string;
  readonly startTime: string;
  /** Pre-encoded registration JSON, or null when no --metric-server was given at create. */
  readonly registrationJson: string | null;
}

export interface StateFileOptions {
  readonly containerId: string;
  readonly root: string;
  readonly bundleDir: string;
  readonly createdAt: string;
  readonly status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  readonly goferPid: number;
  readonly spec: ContainerSpecOptions;
  readonly sandbox: SandboxObjectOptions;
}

export const DEFAULT_CAPABILITIES: Capabilities = {
  bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  inheritable: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
  permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
};

/** Real values of the 20240729 build on a 2-core systrap host; Go sorts map keys. */
export const METRIC_METADATA: Readonly<Record<string, string>> = {
  coretags: 'false',
  cpuarch: 'amd64',
  experiment: '',
  fsmode: 'directfs',
  go: 'go1.22.1',
  network: 'none',
  numcores: '2',
  overlay: 'root:self',
  platform: 'systrap',
  version: '0.0~20240729.0',
};

const REGISTRATION_MARK = '@@FAKE_SANDBOX_REGISTRATION@@';

function specObject(o: StateFileOptions): Record<string, unknown> {
  const caps: Record<string, readonly string[]> = {};
  for (const k of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
    const v = o.spec.capabilities[k];
    if (v) caps[k] = v;
  }
  const spec: Record<string, unknown> = {
    ociVersion: o.spec.ociVersion,
    process: {
      user: { uid: o.spec.uid, gid: o.spec.uid },
      args: ['/bin/sleep', '600'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: caps,
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    },
    root: { path: `${o.bundleDir}/rootfs`, readonly: true },
    hostname: 'runsc',
    mounts: [
      { destination: '/proc', type: 'proc', source: `${o.bundleDir}/proc` },
      { destination: '/dev', type: 'tmpfs', source: `${o.bundleDir}/tmpfs` },
      {
        destination: '/sys',
        type: 'sysfs',
        source: `${o.bundleDir}/sysfs`,
        options: ['nosuid', 'noexec', 'nodev', 'ro'],
      },
    ],
  };
  if (o.spec.annotations && Object.keys(o.spec.annotations).length > 0) {
    // Go sorts map keys when encoding.
    spec.annotations = Object.fromEntries(
      Object.entries(o.spec.annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: 0, size: 4294967295 }],
    gidMappings: [{ containerID: 0, hostID: 0, size: 4294967295 }],
    ...(o.spec.cgroupsPath === undefined ? {} : { cgroupsPath: o.spec.cgroupsPath }),
    namespaces: [
      { type: 'pid' },
      { type: 'network' },
      { type: 'ipc' },
      { type: 'uts' },
      { type: 'mount' },
      { type: 'user' },
    ],
  };
  return spec;
}

/** The exact bytes runsc would write (compact, no trailing newline). */
export function renderStateFile(o: StateFileOptions): string {
  const sb = o.sandbox;
  const value = {
    id: o.containerId,
    spec: specObject(o),
    bundleDir: o.bundleDir,
    createdAt: o.createdAt,
    owner: '',
    consoleSocket: '',
    status: o.status,
    goferPid: o.goferPid,
    sandbox: {
      id: sb.sandboxId,
      podName: sb.pod?.name ?? '',
      namespace: sb.pod?.namespace ?? '',
      pid: sb.pid,
      uid: 0,
      gid: 0,
      cgroup: {
        cgroupv1: {
          name: `/${sb.sandboxId}`,
          parents: null,
          own: {
            blkio: true,
            cpu: true,
            cpuacct: true,
            cpuset: true,
            devices: true,
            freezer: true,
            memory: true,
            pids: true,
            systemd: true,
          },
        },
      },
      originalOomScoreAdj: 0,
      registeredMetrics: sb.registrationJson === null ? null : REGISTRATION_MARK,
      metricMetadata: METRIC_METADATA,
      metricServerAddress: sb.metricServerAddress,
      controlSocketPath: sb.controlSocketPath,
      mountHints: { mounts: {} },
      startTime: sb.startTime,
    },
    compatCgroup: { cgroupunknown: null },
    saver: { rootDir: o.root, id: { sandboxId: sb.sandboxId, containerId: o.containerId } },
    goferMountConfs: [{ upper: 0, lower: 1 }],
  };
  const json = goEscape(JSON.stringify(value));
  return sb.registrationJson === null
    ? json
    : json.replace(`"${REGISTRATION_MARK}"`, () => sb.registrationJson as string);
}
