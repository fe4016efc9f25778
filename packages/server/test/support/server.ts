// Starts the server in-process with a fake backend in a fresh temp root.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { ServerConfig } from '../../src/config.js';
import { startMetricServer } from '../../src/index.js';
import type { MetricServerHandle } from '../../src/lifecycle.js';
import { memoryLogger } from '../../src/log.js';
import { FakeBackend } from './fake-backend.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

export function tempDir(prefix = 'ms-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function onCleanup(f: () => Promise<void> | void): void {
  cleanups.push(f);
}

export interface TestServer {
  handle: MetricServerHandle;
  backend: FakeBackend;
  root: string;
  log: ReturnType<typeof memoryLogger>;
  target: { port?: number | undefined; socketPath?: string };
}

export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  backend = new FakeBackend(),
): Promise<TestServer> {
  const root = overrides.root ?? tempDir();
  const log = memoryLogger();
  const handle = await startMetricServer(
    { root, metricServer: '127.0.0.1:0', logger: log, shutdownGraceMs: 2000, ...overrides },
    { backend: () => backend },
  );
  cleanups.push(() => handle.close('test over'));
  const target = handle.port === undefined ? { socketPath: handle.address } : { port: handle.port };
  return { handle, backend, root, log, target };
}
