// OCI bundles for real sandboxes: one shared read-only busybox rootfs, and one
// directory per container holding an edited copy of `runsc spec`'s config.json.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_PATH } from '../require-tool.js';

export interface ContainerConfig {
  /** Pod labels: annotations io.kubernetes.cri.sandbox-name / -namespace. */
  podName?: string;
  namespace?: string;
  /** Makes this a subcontainer of the given sandbox (CRI annotations). */
  subcontainerOf?: string;
  /** The CRI container name (annotation io.kubernetes.cri.container-name). */
  containerName?: string;
  /** Capability names (CAP_...) put in every set but ambient; default: runsc spec's. */
  capabilities?: string[];
  uid?: number;
  ociVersion?: string;
  /** argv of the container process; default: sleep 600. */
  args?: string[];
}

type Json = Record<string, unknown>;

/** Waits for a child spawned with stdio ignored (pipes would be held open by the sandbox). */
export function runQuiet(cmd: string, args: string[], cwd?: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd, stdio: 'ignore' });
    c.once('error', reject);
    c.once('exit', (code) => resolve(code));
  });
}

/** Creates base/bundle/{rootfs,config.json}; returns the template config. */
export async function makeBaseBundle(base: string): Promise<Json> {
  const bundle = join(base, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX_PATH, join(rootfs, 'bin', 'busybox'));
  for (const a of ['sh', 'sleep', 'cat', 'ls', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', a));
  const code = await runQuiet('runsc', ['spec', '--', '/bin/sleep', '600'], bundle);
  if (code !== 0) throw new Error(`\`runsc spec\` in ${bundle} exited ${code}`);
  return JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Json;
}

/** Writes base/b-<id>/config.json (edited) with rootfs -> ../bundle/rootfs; returns the dir. */
export function makeContainerBundle(base: string, template: Json, id: string, cfg: ContainerConfig): string {
  const dir = join(base, `b-${id}`);
  mkdirSync(dir, { recursive: true });
  symlinkSync('../bundle/rootfs', join(dir, 'rootfs'));
  const spec = structuredClone(template);
  const annotations: Record<string, string> = { ...((spec.annotations as Record<string, string> | undefined) ?? {}) };
  if (cfg.podName !== undefined) annotations['io.kubernetes.cri.sandbox-name'] = cfg.podName;
  if (cfg.namespace !== undefined) annotations['io.kubernetes.cri.sandbox-namespace'] = cfg.namespace;
  if (cfg.subcontainerOf !== undefined) {
    annotations['io.kubernetes.cri.container-type'] = 'container';
    annotations['io.kubernetes.cri.sandbox-id'] = cfg.subcontainerOf;
  }
  if (cfg.containerName !== undefined) annotations['io.kubernetes.cri.container-name'] = cfg.containerName;
  spec.annotations = annotations;
  if (cfg.ociVersion !== undefined) spec.ociVersion = cfg.ociVersion;
  const proc = spec.process as Json;
  if (cfg.args !== undefined) proc.args = cfg.args;
  if (cfg.uid !== undefined) (proc.user as Json).uid = cfg.uid;
  if (cfg.capabilities !== undefined) {
    const caps = cfg.capabilities;
    proc.capabilities = { bounding: caps, effective: caps, inheritable: caps, permitted: caps };
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}
