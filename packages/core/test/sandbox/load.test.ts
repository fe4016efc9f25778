import { describe, expect, it } from 'vitest';
import type { DiscoveryFs } from '../../src/fs/index.js';
import { LockBusyError } from '../../src/lock/index.js';
import { loadSandbox, SandboxLoadError } from '../../src/sandbox/index.js';
import { FakeLocker, fixture, memDiscoveryFs, stateJson } from '../support/memfs.js';

const ADDR = 'BASE/metrics.sock'; // as stored in the real captures
const sbBFiles = {
  '/root/sb-b_sandbox:sb-b.state': fixture('state-file-pod-root.json'),
  '/root/sb-b-c2_sandbox:sb-b.state': fixture('state-file-subcontainer.json'),
  '/root/sb-b_sandbox:sb-b.lock': '',
  '/root/runsc-sb-b.sock': '',
};

async function loadErr(files: Record<string, string>, id: string, serverAddress = ADDR, locker = new FakeLocker()) {
  const { fs } = memDiscoveryFs(files);
  return loadSandbox('/root', id, { fs, locker, serverAddress }).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('loadSandbox', () => {
  it('shares one decoded registration between loads of equal registrations and keeps no raw copy', async () => {
    const { fs } = memDiscoveryFs(sbBFiles);
    const a = await loadSandbox('/root', 'sb-b', { fs, locker: new FakeLocker(), serverAddress: ADDR });
    const b = await loadSandbox('/root', 'sb-b', { fs, locker: new FakeLocker(), serverAddress: ADDR });
    expect(a.registration.metrics.length).toBeGreaterThan(0);
    expect(b.registration).toBe(a.registration);
    for (const c of a.containers) if (c.sandbox !== null) expect(c.sandbox.registeredMetrics).toBe(a.registration);
    expect(a.rootState.sandbox.registeredMetrics).toBe(a.registration);
  });

  it('builds the view of sb-b from its root and subcontainer, locking each file', async () => {
    const { fs } = memDiscoveryFs(sbBFiles);
    const locker = new FakeLocker();
    const v = await loadSandbox('/root', 'sb-b', { fs, locker, serverAddress: ADDR });
    expect(v.id).toBe('sb-b');
    expect(v.labels).toEqual({
      sandbox: 'sb-b',
      iteration: 'xu0v68ecb182',
      pod_name: 'my-pod',
      namespace_name: 'my-namespace',
    });
    expect(v.capabilities).toEqual(['CHOWN', 'KILL', 'NET_BIND_SERVICE', 'NET_RAW', 'SYS_PTRACE', 'AUDIT_WRITE']);
    expect(v.specMetadata).toEqual({
      hasuid0: 'true',
      ociversion: 'INCONSISTENT',
      nvproxy: 'false',
      tpuproxy: 'false',
    });
    expect(v.metricMetadata.experiment).toBe('');
    expect(v.creationTimeSeconds).toBeCloseTo(Date.UTC(2026, 10, 27, 22, 45, 16) / 1000 + 0.217460187, 6);
    expect(v.pid).toBe(10760);
    expect(v.controlSocketPath).toBe('ROOT/runsc-sb-b.sock');
    expect(v.metricServerAddress).toBe(ADDR);
    expect(v.registration.metrics.length).toBeGreaterThan(100);
    expect(v.registration.metrics.find((m) => m.prometheusName === 'fs_reads')).toMatchObject({ cumulative: true });
    expect(v.rootState.id).toBe('sb-b');
    expect(v.containers.map((c) => c.id)).toEqual(['sb-b-c2', 'sb-b']);
    expect(locker.taken).toEqual(['/root/sb-b-c2_sandbox:sb-b.lock', '/root/sb-b_sandbox:sb-b.lock']);
    expect(locker.held.size).toBe(0);
  });

  it('loads s1 even when s10 exists (runsc would find "multiple root containers")', async () => {
    const { fs } = memDiscoveryFs({
      '/root/s1_sandbox:s1.state': stateJson((d) => (d.id = d.sandbox.id = 's1')),
      '/root/s10_sandbox:s10.state': stateJson((d) => (d.id = d.sandbox.id = 's10')),
    });
    const v = await loadSandbox('/root', 's1', { fs, locker: new FakeLocker(), serverAddress: ADDR });
    expect(v.containers.map((c) => c.id)).toEqual(['s1']);
  });

  it('substitutes %RUNTIME_ROOT% with the server root', async () => {
    const { fs } = memDiscoveryFs({
      '/root/sb-c_sandbox:sb-c.state': fixture('state-file-runtime-root-placeholder.json'),
    });
    const v = await loadSandbox('/root', 'sb-c', { fs, locker: new FakeLocker(), serverAddress: '/root/metrics.sock' });
    expect(v.metricServerAddress).toBe('%RUNTIME_ROOT%/metrics.sock');
  });

  it.each([
    [
      'two roots',
      {
        '/root/a_sandbox:s.state': stateJson((d) => (d.id = 'a')),
        '/root/s_sandbox:s.state': stateJson((d) => (d.id = 's')),
      },
      'multiple root contains found for sandbox ID "s": "s" and "a"',
    ],
    [
      'no root',
      { '/root/s2_sandbox:s.state': fixture('state-file-subcontainer.json') },
      'no root container found for sandbox ID "s"',
    ],
    [
      'no address',
      { '/root/s_sandbox:s.state': fixture('state-file-no-metric-server.json') },
      'sandbox did not request instrumentation',
    ],
    [
      'other address',
      { '/root/s_sandbox:s.state': fixture('state-file-id-placeholder.json') },
      'sandbox requested instrumentation by a metric server running at a different address (sandbox wants "BASE/%ID%.sock", this metric server serves "BASE/metrics.sock")',
    ],
    [
      'no registration',
      { '/root/s_sandbox:s.state': stateJson((d) => (d.sandbox.registeredMetrics = null)) },
      'sandbox did not request instrumentation when it was created',
    ],
    [
      'broken subcontainer',
      { '/root/s_sandbox:s.state': fixture('state-file.json'), '/root/c_sandbox:s.state': '{"id":' },
      'cannot load sandbox "s": state file c_sandbox:s.state: $: invalid JSON',
    ],
    [
      'malformed registration',
      { '/root/s_sandbox:s.state': stateJson((d) => (d.sandbox.registeredMetrics = { metrics: 'x' })) },
      'invalid registered metrics in state file s_sandbox:s.state: $.sandbox.registeredMetrics.metrics',
    ],
    ['null sandbox', { '/root/s_sandbox:s.state': stateJson((d) => (d.sandbox = null)) }, 'has no sandbox object'],
  ])('%s -> SandboxLoadError', async (_what, files, message) => {
    const err = await loadErr(files, 's');
    expect(err).toBeInstanceOf(SandboxLoadError);
    expect((err as Error).message).toContain(message);
  });

  it('a locked container file is a LockBusyError (retry), not a load failure', async () => {
    const locker = new FakeLocker();
    locker.busy.add('/root/sb-b-c2_sandbox:sb-b.lock');
    const err = await loadErr(sbBFiles, 'sb-b', ADDR, locker);
    expect(err).toBeInstanceOf(LockBusyError);
    expect(locker.held.size).toBe(0);
  });

  it('skips a container whose file vanished after listing', async () => {
    const { fs: inner } = memDiscoveryFs(sbBFiles);
    const fs: DiscoveryFs = {
      readdir: (p) => inner.readdir(p),
      stat: (p) => inner.stat(p),
      readFile: (p) =>
        p.endsWith('sb-b-c2_sandbox:sb-b.state')
          ? Promise.reject(Object.assign(new Error('gone'), { code: 'ENOENT' }))
          : inner.readFile(p),
    };
    const v = await loadSandbox('/root', 'sb-b', { fs, locker: new FakeLocker(), serverAddress: ADDR });
    expect(v.containers.map((c) => c.id)).toEqual(['sb-b']);
    expect(v.specMetadata.ociversion).toBe('1.0.0');
  });
});
