import { describe, expect, it } from 'vitest';
import { isSandboxRoot, parseStateFile, StateFileError } from '../../src/discovery/index.js';
import { fixture, fixtureJson } from '../support/memfs.js';

const REAL = [
  'state-file.json',
  'state-file.raw.json',
  'state-file-pod-root.json',
  'state-file-subcontainer.json',
  'state-file-no-metric-server.json',
  'state-file-created-not-started.json',
  'state-file-tz-offset.json',
  'state-file-runtime-root-placeholder.json',
  'state-file-id-placeholder.json',
];

function parseVariant(mutate: (doc: Record<string, any>) => void, name = 'x_sandbox:x.state') {
  const doc = fixtureJson('state-file.json');
  mutate(doc);
  return parseStateFile(JSON.stringify(doc), name);
}

describe('parseStateFile on the real captures', () => {
  it.each(REAL)('%s parses', (name) => {
    const s = parseStateFile(Buffer.from(fixture(name)), name);
    expect(s.fileName).toBe(name);
    expect(s.id).toMatch(/^sb-/);
    expect(s.sandbox).not.toBeNull();
    expect(s.createdAt.text).toMatch(/^2026-11-27T/);
  });

  it('reads every field of the root container sb-a', () => {
    const s = parseStateFile(fixture('state-file.raw.json'), 'sb-a_sandbox:sb-a.state');
    expect(s).toMatchObject({
      id: 'sb-a',
      ociVersion: '1.0.0',
      uid: 0,
      status: 'running',
      createdAt: { text: '2026-11-27T22:45:02.272446868Z', when: { seconds: 1795819502, nanos: 272446868 } },
    });
    expect(s.capabilities.bounding).toEqual(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    expect(s.capabilities.ambient).toEqual([]);
    const sb = s.sandbox!;
    expect(sb).toMatchObject({
      id: 'sb-a',
      podName: '',
      namespace: '',
      pid: 10186,
      metricServerAddress: 'BASE/metrics.sock',
      controlSocketPath: 'ROOT/runsc-sb-a.sock',
    });
    expect(sb.metricMetadata).toMatchObject({ experiment: '', platform: 'systrap', version: '0.0~20240729.0' });
    expect((sb.registeredMetrics as { metrics: unknown[] }).metrics.length).toBeGreaterThan(100);
    expect(isSandboxRoot(s)).toBe(true);
  });

  it('reads pod names, the subcontainer annotation, the -08:00 offset and a missing registration', () => {
    const pod = parseStateFile(fixture('state-file-pod-root.json'), 'p');
    expect(pod.sandbox).toMatchObject({ podName: 'my-pod', namespace: 'my-namespace' });
    const sub = parseStateFile(fixture('state-file-subcontainer.json'), 's');
    expect(sub).toMatchObject({ id: 'sb-b-c2', uid: 1000, ociVersion: '1.0.2-dev' });
    expect(isSandboxRoot(sub)).toBe(false);
    const tz = parseStateFile(fixture('state-file-tz-offset.json'), 't');
    expect(tz.createdAt.text).toBe('2026-11-27T14:47:22.754125291-08:00');
    expect(tz.createdAt.when).toEqual({ seconds: Date.UTC(2026, 10, 27, 22, 47, 22) / 1000, nanos: 754125291 });
    const none = parseStateFile(fixture('state-file-no-metric-server.json'), 'n');
    expect(none.sandbox).toMatchObject({ registeredMetrics: null, metricServerAddress: '' });
    expect(parseStateFile(fixture('state-file-created-not-started.json'), 'c').status).toBe('created');
  });
});

describe('parseStateFile tolerance and strictness', () => {
  it('a spec without process has no uid and empty capabilities (Go would crash)', () => {
    const s = parseVariant((d) => delete d.spec.process);
    expect(s.uid).toBeUndefined();
    expect(s.capabilities).toEqual({ bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] });
  });

  it('a process without capabilities has empty sets', () => {
    const s = parseVariant((d) => delete d.spec.process.capabilities);
    expect(s.uid).toBe(0);
    expect(s.capabilities.permitted).toEqual([]);
  });

  it('ignores unknown fields and matches keys case-insensitively like Go', () => {
    const s = parseVariant((d) => {
      d.somethingNew = { deep: [1, 2] };
      d.Status = d.status;
      delete d.status;
      d.sandbox.extra = 5;
    });
    expect(s.status).toBe('running');
  });

  it('a null sandbox is kept as null', () => {
    expect(parseVariant((d) => (d.sandbox = null)).sandbox).toBeNull();
  });

  it.each([
    ['$.sandbox.pid', (d: any) => (d.sandbox.pid = '10')],
    ['$.sandbox.pid', (d: any) => (d.sandbox.pid = 1.5)],
    ['$.spec.process.user.uid', (d: any) => (d.spec.process.user.uid = -1)],
    ['$.spec.process.capabilities.bounding[1]', (d: any) => (d.spec.process.capabilities.bounding[1] = 7)],
    ['$.spec.process.capabilities.ambient', (d: any) => (d.spec.process.capabilities.ambient = 'CAP_KILL')],
    ['$.spec.annotations["a"]', (d: any) => (d.spec.annotations = { a: 1 })],
    ['$.sandbox.metricMetadata["go"]', (d: any) => (d.sandbox.metricMetadata.go = true)],
    ['$.sandbox.metricServerAddress', (d: any) => (d.sandbox.metricServerAddress = ['x'])],
    ['$.sandbox.registeredMetrics', (d: any) => (d.sandbox.registeredMetrics = 'yes')],
    ['$.createdAt', (d: any) => (d.createdAt = '2026-11-27 22:45:02Z')],
    ['$.createdAt', (d: any) => delete d.createdAt],
    ['$.spec', (d: any) => (d.spec = [])],
    ['$.id', (d: any) => (d.id = 3)],
  ])('wrong type at %s is a StateFileError naming file and path', (path, mutate) => {
    const err = (() => {
      try {
        parseVariant(mutate, 'bad_sandbox:bad.state');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(StateFileError);
    expect((err as StateFileError).path).toBe(path);
    expect((err as Error).message).toContain('bad_sandbox:bad.state');
  });

  it.each([
    ['', 'empty file'],
    ['{"id":', 'invalid JSON'],
    ['[1]', 'expected an object'],
    ['null', 'expected an object'],
  ])('garbage %j is a StateFileError', (text, msg) => {
    expect(() => parseStateFile(text, 'f.state')).toThrow(StateFileError);
    expect(() => parseStateFile(text, 'f.state')).toThrow(msg);
  });
});

describe('isSandboxRoot', () => {
  const root = (annotations: Record<string, string>) => isSandboxRoot({ annotations });
  it('follows the CRI annotation, then the CRI-O one', () => {
    expect(root({})).toBe(true);
    expect(root({ 'io.kubernetes.cri.container-type': 'sandbox' })).toBe(true);
    expect(root({ 'io.kubernetes.cri.container-type': 'container' })).toBe(false);
    expect(root({ 'io.kubernetes.cri.container-type': 'other' })).toBe(true);
    expect(root({ 'io.kubernetes.cri-o.ContainerType': 'container' })).toBe(false);
    // The CRI key wins when present.
    expect(
      root({ 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri-o.ContainerType': 'container' }),
    ).toBe(true);
  });
});
