// A fake fleet and the built server on one short temp root, torn down together.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createFleet, type Fleet, type FleetOptions } from '@org/metricserver-fake-sandbox';
import { addExitHook } from '../exit-hooks.js';
import { freePort } from '../free-port.js';
import { type RunningServer, type StartServerOptions, startServer } from '../server-process.js';

export interface FleetRig {
  dir: string;
  root: string;
  address: string;
  fleet: Fleet;
  server: RunningServer;
  close(): Promise<void>;
}

export interface RigOptions {
  fleet?: Omit<FleetOptions, 'root' | 'metricServer'>;
  /** Server subcommand flags. */
  flags?: string[];
  /** 'unix' (default: a socket next to the root) or 'tcp'. */
  transport?: 'unix' | 'tcp';
  /** Explicit --metric-server for both the fleet and the server (may hold %RUNTIME_ROOT%). */
  address?: string;
  server?: Partial<StartServerOptions>;
}

/** Short dir (/tmp/flXXXXXX) so every control socket path stays far below 108 bytes. */
export function shortTempDir(prefix = 'fl'): string {
  return mkdtempSync(`/tmp/${prefix}`);
}

export async function startRig(o: RigOptions = {}): Promise<FleetRig> {
  const dir = shortTempDir();
  const root = join(dir, 'root');
  const address = o.address ?? (o.transport === 'tcp' ? `127.0.0.1:${await freePort()}` : join(dir, 'ms.sock'));
  const removeHook = addExitHook(() => rmSync(dir, { recursive: true, force: true }));
  const fleet = await createFleet({ idPrefix: 'sb', ...o.fleet, root, metricServer: address });
  let server: RunningServer;
  try {
    server = await startServer({ root, address, flags: o.flags, ...o.server });
  } catch (e) {
    await fleet.close();
    throw e;
  }
  return {
    dir,
    root,
    address,
    fleet,
    server,
    async close() {
      await server.stop('SIGTERM');
      await fleet.close();
      rmSync(dir, { recursive: true, force: true });
      removeHook();
    },
  };
}
