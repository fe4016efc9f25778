import { readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readCapture } from '../../../../test-support/captures.js';
import { createFleet, type Fleet } from '../../src/index.js';
import { call, EXPORT_ALL, shortRoot } from '../support/client.js';
import { shapeDiff } from '../support/shape.js';

const fixture = (name: string): string => readCapture(name);
const realRaw = fixture('state-file.raw.json');
const real = JSON.parse(realRaw);
const REG = '$.sandbox.registeredMetrics';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe('state file', () => {
  it('has the real file shape key by key, type by type, compact with no trailing newline', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = await fleet.add();
    const raw = readFileSync(sb.statePath, 'utf8');
    const fake = JSON.parse(raw);
    expect(shapeDiff(real, fake, '$', new Set([REG]))).toEqual([]);
    expect(raw.endsWith('}')).toBe(true);
    expect(raw).toBe(
      JSON.stringify(fake).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    );
    // Values a metric server reads.
    expect(fake.id).toBe(sb.id);
    expect(fake.status).toBe('running');
    expect(fake.sandbox.id).toBe(sb.id);
    expect(fake.sandbox.pid).toBe(sb.pid);
    expect(() => process.kill(sb.pid, 0)).not.toThrow();
    expect(fake.sandbox.metricServerAddress).toBe('/run/ms.sock');
    expect(fake.sandbox.controlSocketPath).toBe(sb.socketPath);
    expect(fake.sandbox.metricMetadata).toEqual(real.sandbox.metricMetadata);
    expect(fake.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    expect(fake.createdAt).toBe(sb.createdAt);
  });

  it('stores a registration with the same metrics as the real capture, in another order', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = await fleet.add();
    const fake = JSON.parse(readFileSync(sb.statePath, 'utf8')).sandbox.registeredMetrics;
    const byName = (r: { metrics: { name: string }[] }): unknown[] =>
      [...r.metrics].sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(fake.metrics).toHaveLength(174);
    expect(byName(fake)).toEqual(byName(real.sandbox.registeredMetrics));
    expect(fake.stages).toEqual(real.sandbox.registeredMetrics.stages);
    // Each metric object has the real key order.
    const realByName = new Map(real.sandbox.registeredMetrics.metrics.map((m: { name: string }) => [m.name, m]));
    for (const m of fake.metrics) expect(Object.keys(m)).toEqual(Object.keys(realByName.get(m.name) as object));
  });

  it('uses runsc modes: state 0640, lock 0600, a socket', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = await fleet.add();
    expect(statSync(sb.statePath).mode & 0o777).toBe(0o640);
    expect(statSync(sb.lockPath).mode & 0o777).toBe(0o600);
    expect(statSync(sb.lockPath).size).toBe(0);
    expect(statSync(sb.socketPath).isSocket()).toBe(true);
  });

  it('writes pod root and subcontainer files shaped like the real ones', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = await fleet.add({
      id: 'pod-a',
      pod: { name: 'my-pod', namespace: 'my-namespace' },
      capabilities: JSON.parse(fixture('state-file-pod-root.json')).spec.process.capabilities,
      subcontainers: [
        {
          id: 'pod-a-c2',
          uid: 1000,
          ociVersion: '1.0.2-dev',
          capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] },
        },
      ],
    });
    const rootFile = JSON.parse(readFileSync(sb.statePath, 'utf8'));
    expect(shapeDiff(JSON.parse(fixture('state-file-pod-root.json')), rootFile, '$', new Set([REG]))).toEqual([]);
    expect(rootFile.sandbox.podName).toBe('my-pod');
    expect(rootFile.sandbox.namespace).toBe('my-namespace');
    const sub = JSON.parse(readFileSync(`${fleet.root}/pod-a-c2_sandbox:pod-a.state`, 'utf8'));
    expect(shapeDiff(JSON.parse(fixture('state-file-subcontainer.json')), sub, '$', new Set([REG]))).toEqual([]);
    expect(sub.id).toBe('pod-a-c2');
    expect(sub.sandbox.id).toBe('pod-a');
    expect(sub.spec.annotations['io.kubernetes.cri.container-type']).toBe('container');
    expect(sub.spec.process.user.uid).toBe(1000);
    expect(sub.spec.process.capabilities).toEqual({
      bounding: ['CAP_CHOWN'],
      effective: ['CAP_CHOWN'],
      permitted: ['CAP_CHOWN'],
    });
    expect(sub.saver.id).toEqual({ sandboxId: 'pod-a', containerId: 'pod-a-c2' });
  });

  it('writes createdAt in a local zone offset when asked, and status created without start', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const sb = await fleet.add({ tzOffsetMinutes: -480, autoStart: false });
    const f = JSON.parse(readFileSync(sb.statePath, 'utf8'));
    expect(f.createdAt).toMatch(/-08:00$/);
    expect(f.status).toBe('created');
  });

  it('writes what the address behaviours promise', async () => {
    fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock' });
    const none = await fleet.add({ behaviour: 'no-metric-server' });
    const other = await fleet.add({ behaviour: 'wrong-address' });
    const n = JSON.parse(readFileSync(none.statePath, 'utf8'));
    expect(n.sandbox.metricServerAddress).toBe('');
    expect(n.sandbox.registeredMetrics).toBeNull();
    // The sandbox itself still has metrics and answers, as a real one does.
    const r = await call(none.socketPath, EXPORT_ALL);
    expect(JSON.parse(r.bytes.toString()).result.snapshot.data.length).toBeGreaterThan(0);
    const o = JSON.parse(readFileSync(other.statePath, 'utf8'));
    expect(o.sandbox.metricServerAddress).not.toBe('/run/ms.sock');
    expect(o.sandbox.metricServerAddress).not.toBe('');
    expect(o.sandbox.registeredMetrics.metrics).toHaveLength(174);
  });
});
