import { afterEach, describe, expect, it } from 'vitest';
import { readCaptureBytes } from '../../../../test-support/captures.js';
import { exportMetrics, getRegisteredMetrics, UrpcProtocolError, UrpcRemoteError } from '../../src/urpc/index.js';
import { type FakeServer, startFakeServer } from './fake-server.js';

const fixture = (name: string): Buffer => readCaptureBytes(name);

const servers: FakeServer[] = [];
async function replay(response: Buffer | string): Promise<FakeServer> {
  const s = await startFakeServer(({ socket }) => void socket.write(response));
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('exportMetrics', () => {
  it('sends the exact request runsc sends and decodes the real filtered reply', async () => {
    const server = await replay(fixture('export-metrics-filtered.wire.json'));
    const snap = await exportMetrics(server.path, '^fs_');
    expect(server.connections[0]!.request.toString()).toBe('{"method":"Metrics.Export","arg":{"only_metrics":"^fs_"}}');
    expect(snap.when).toEqual({ seconds: Date.UTC(2026, 10, 27, 22, 48, 5) / 1000, nanos: 337292709 });
    expect(snap.data.map((d) => [d.metric.name, d.metric.type, d.number?.int])).toEqual([
      ['fs_reads', 2, 23],
      ['fs_opens', 2, 10],
    ]);
  });

  it('sends the request of every call with its own filter, also when encoded requests are reused', async () => {
    const filters = ['^fs_', '', '^fs_', 'a"b\\c', ''];
    const server = await replay(fixture('export-metrics-filtered.wire.json'));
    for (const f of filters) await exportMetrics(server.path, f).catch(() => undefined);
    expect(server.connections.map((c) => c.request.toString())).toEqual(
      filters.map((f) => `{"method":"Metrics.Export","arg":{"only_metrics":${JSON.stringify(f)}}}`),
    );
  });

  it('decodes the real unfiltered reply, zero gauges and labels included', async () => {
    const server = await replay(fixture('export-metrics.wire.json'));
    const snap = await exportMetrics(server.path, '');
    expect(server.connections[0]!.request.toString()).toBe('{"method":"Metrics.Export","arg":{"only_metrics":""}}');
    expect(snap.data).toHaveLength(7);
    const sys = snap.data.find((d) => d.metric.name === 'unimplemented_syscalls')!;
    expect(sys.labels).toEqual({ sysno: '334' });
    const gauge = snap.data.find((d) => d.metric.name === 'netstack_tcp_current_open')!;
    expect(gauge.number).toEqual({ int: 0, float: 0 });
  });

  it('re-checks the filter: a sandbox returning metrics outside it is a protocol error', async () => {
    const server = await replay(fixture('export-metrics.wire.json'));
    const matchesFilter = (name: string): boolean => name.startsWith('fs_');
    const e = await exportMetrics(server.path, '^fs_', { matchesFilter }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UrpcProtocolError);
    expect((e as Error).message).toMatch(/metric gofer_reads_host violated the filter set in export options/);
  });

  it('accepts a reply that honours the filter when a matcher is given', async () => {
    const server = await replay(fixture('export-metrics-filtered.wire.json'));
    const snap = await exportMetrics(server.path, '^fs_', { matchesFilter: (n) => n.startsWith('fs_') });
    expect(snap.data).toHaveLength(2);
  });

  it('wraps a result of the wrong shape into UrpcProtocolError naming the JSON path', async () => {
    const server = await replay(
      '{"success":true,"err":"","result":{"snapshot":{"when":"2026-11-27T22:48:05Z","data":[{"metric":{"name":"x","type":2,"help":""},"val":{"int":1.5}}]}}}',
    );
    const e = await exportMetrics(server.path, '').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UrpcProtocolError);
    expect((e as Error).message).toMatch(/\$\.result\.snapshot\.data\[0\]/);
  });

  it('treats a null snapshot (a Go crash path) as a protocol error', async () => {
    const server = await replay('{"success":true,"err":"","result":{"snapshot":null}}');
    await expect(exportMetrics(server.path, '')).rejects.toBeInstanceOf(UrpcProtocolError);
  });

  it("passes the sandbox's own error through for an invalid regexp", async () => {
    const server = await replay(
      '{"success":false,"err":"cannot compile regexp \\"(\\": error parsing regexp: missing closing ): `(`","result":null}',
    );
    await expect(exportMetrics(server.path, '(')).rejects.toBeInstanceOf(UrpcRemoteError);
  });
});

describe('getRegisteredMetrics', () => {
  it('sends the exact request and decodes the real 174-metric registration', async () => {
    const server = await replay(fixture('registered-metrics.wire.json'));
    const reg = await getRegisteredMetrics(server.path);
    expect(server.connections[0]!.request.toString()).toBe('{"method":"Metrics.GetRegisteredMetrics","arg":null}');
    expect(reg).not.toBeNull();
    expect(reg!.metrics).toHaveLength(174);
    expect(reg!.stages).toEqual(['restore_config', 'exec_config', 'restore', 'create_process', 'task_start']);
    const sys = reg!.metrics.find((m) => m.prometheusName === 'unimplemented_syscalls')!;
    expect(sys.fields[0]!.fieldName).toBe('sysno');
  });

  it('returns null when the sandbox has no registration', async () => {
    const server = await replay('{"success":true,"err":"","result":{"RegisteredMetrics":null}}');
    expect(await getRegisteredMetrics(server.path)).toBeNull();
  });

  it('reports an unknown method as a remote error', async () => {
    const server = await replay('{"success":false,"err":"unknown method","result":null}');
    const e = await getRegisteredMetrics(server.path).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UrpcRemoteError);
    expect((e as UrpcRemoteError).remoteMessage).toBe('unknown method');
  });

  it('wraps a malformed registration into UrpcProtocolError', async () => {
    const server = await replay('{"success":true,"err":"","result":{"RegisteredMetrics":{"metrics":"nope"}}}');
    await expect(getRegisteredMetrics(server.path)).rejects.toBeInstanceOf(UrpcProtocolError);
  });
});
