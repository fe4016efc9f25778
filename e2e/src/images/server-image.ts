// The metric server the way operators deploy it on a node: a FROM-scratch image
// with the node binary (+ the libraries ldd lists) and the server package as npm
// installs its packed tarball (test-support/packed-server.ts: its "files" plus
// production deps, koffi and re2js included, offline). Host network and host PID
// namespace: the server must see sandbox PIDs to judge liveness, and the root
// dir is bind-mounted at the same path so state-file socket paths stay valid.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';

type BindMount = Parameters<GenericContainer['withBindMounts']>[0][number];

import { installPackedServer } from '../../../test-support/packed-server.js';
import { addExitHook } from '../exit-hooks.js';
import { requireTool } from '../require-tool.js';
import { copyBinaryWithLibs, copyIn, makeContext, removeImage, sharedLibs } from './rootfs.js';

const APP = '/app';
const NODE = '/usr/local/bin/node';

/** GenericContainer plus the one HostConfig knob testcontainers has no builder method for. */
export class HostPidContainer extends GenericContainer {
  withHostPid(): this {
    this.hostConfig.PidMode = 'host';
    return this;
  }
}

function* nativeAddons(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* nativeAddons(p);
    else if (e.isFile() && e.name.endsWith('.node')) yield p;
  }
}

export interface ServerImage {
  tag: string;
  /** Path of the CLI inside the image. */
  binInImage: string;
  container: HostPidContainer;
  remove(): void;
}

export async function buildServerImage(): Promise<ServerImage> {
  requireTool('docker');
  const { dir, rootfs } = makeContext('server-img', `ENTRYPOINT ["${NODE}"]`);
  // Everything before the build only stages files in `dir`; it goes whatever happens.
  let built: { tag: string; rel: string };
  try {
    // What `npm i @org/metricserver-server` puts in an empty directory, made offline.
    const packed = installPackedServer(join(rootfs, APP.slice(1)));
    copyBinaryWithLibs(rootfs, process.execPath, NODE);
    // Native addons (koffi) may load libraries node itself does not; prebuilds for
    // other libcs/arches (musl_x64, ...) are never loaded here and ldd cannot read them.
    for (const addon of nativeAddons(packed.dir)) {
      if (!addon.includes(`${process.platform}_${process.arch}`)) continue;
      for (const lib of sharedLibs(addon)) copyIn(rootfs, lib);
    }
    const tag = `metricserver-e2e-server:${process.pid}-${Date.now()}`;
    await GenericContainer.fromDockerfile(dir).build(tag, { deleteOnExit: false });
    built = { tag, rel: relative(packed.dir, packed.entry) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const { tag, rel } = built;
  // The image is local now, so constructing by tag never pulls.
  const container = new HostPidContainer(tag);
  const removeHook = addExitHook(() => removeImage(tag));
  return {
    tag,
    binInImage: join(APP, rel),
    container,
    remove: () => {
      removeImage(tag);
      removeHook();
    },
  };
}

export interface ServerContainerOptions {
  root: string;
  address: string;
  flags?: string[];
}

/** Runs the CLI in the image with host network + host PID and the root dir bind-mounted. */
export async function startServerContainer(img: ServerImage, o: ServerContainerOptions): Promise<StartedTestContainer> {
  const mounts: BindMount[] = [{ source: o.root, target: o.root, mode: 'rw' }];
  const started = await img.container
    .withHostPid()
    .withNetworkMode('host')
    .withBindMounts(mounts)
    .withCommand([
      img.binInImage,
      `--root=${o.root}`,
      `--metric-server=${o.address}`,
      'metric-server',
      ...(o.flags ?? []),
    ])
    .start();
  // Ryuk is off: if the test process dies before stop(), this hook removes the container.
  const removeHook = addExitHook(() => {
    spawnSync('docker', ['rm', '-f', started.getId()], { stdio: 'ignore', timeout: 20_000 });
  });
  const stop = started.stop.bind(started);
  started.stop = async (opts) => {
    try {
      return await stop(opts);
    } finally {
      removeHook();
    }
  };
  return started;
}
