import { describe, expect, it } from 'vitest';
import { parseStateFile } from '../../src/discovery/index.js';
import {
  CAPABILITY_NAMES,
  capabilityUnion,
  creationTimeSeconds,
  sandboxLabels,
  specMetadata,
} from '../../src/sandbox/index.js';
import { fixture, stateJson } from '../support/memfs.js';

const sbBRoot = parseStateFile(fixture('state-file-pod-root.json'), 'sb-b_sandbox:sb-b.state');
const sbBSub = parseStateFile(fixture('state-file-subcontainer.json'), 'sb-b-c2_sandbox:sb-b.state');
const sbA = parseStateFile(fixture('state-file.json'), 'sb-a_sandbox:sb-a.state');

describe('sandboxLabels', () => {
  it('includes pod and namespace when set', () => {
    expect(sandboxLabels(sbBRoot as any)).toEqual({
      sandbox: 'sb-b',
      iteration: 'xu0v68ecb182',
      pod_name: 'my-pod',
      namespace_name: 'my-namespace',
    });
  });

  it('omits empty ones', () => {
    expect(sandboxLabels(sbA as any)).toEqual({ sandbox: 'sb-a', iteration: '364890tlaro1q' });
  });
});

describe('capabilityUnion', () => {
  it('sb-b root + sb-b-c2: union in capability-number order', () => {
    expect(capabilityUnion([sbBRoot, sbBSub])).toEqual([
      'CHOWN',
      'KILL',
      'NET_BIND_SERVICE',
      'NET_RAW',
      'SYS_PTRACE',
      'AUDIT_WRITE',
    ]);
  });

  it('uses the real names of 38..40 and ignores unknown strings', () => {
    expect(CAPABILITY_NAMES).toHaveLength(41);
    const c = parseStateFile(
      stateJson((d) => {
        d.spec.process.capabilities = {
          ambient: ['CAP_CHECKPOINT_RESTORE', 'CAP_BPF', 'UNKNOWN', 'cap_kill'],
          inheritable: ['CAP_PERFMON'],
        };
      }),
      'x',
    );
    expect(capabilityUnion([c])).toEqual(['PERFMON', 'BPF', 'CHECKPOINT_RESTORE']);
  });

  it('a container without process contributes nothing', () => {
    const c = parseStateFile(
      stateJson((d) => delete d.spec.process),
      'x',
    );
    expect(capabilityUnion([c])).toEqual([]);
    expect(capabilityUnion([c, sbA])).toEqual(['KILL', 'NET_BIND_SERVICE', 'AUDIT_WRITE']);
  });
});

describe('specMetadata', () => {
  it('sb-b: uid 0 somewhere and two OCI versions', () => {
    expect(specMetadata([sbBSub, sbBRoot])).toEqual({
      hasuid0: 'true',
      ociversion: 'INCONSISTENT',
      nvproxy: 'false',
      tpuproxy: 'false',
    });
  });

  it('UNKNOWN with no containers; the common version otherwise', () => {
    expect(specMetadata([]).ociversion).toBe('UNKNOWN');
    expect(specMetadata([]).hasuid0).toBe('false');
    expect(specMetadata([sbA, sbA]).ociversion).toBe('1.0.0');
    expect(specMetadata([sbBSub]).hasuid0).toBe('false');
  });

  it('keeps runsc quirks: an empty first version is taken, a literal UNKNOWN is replaced', () => {
    const v = (ociVersion: string) => ({ uid: 1, ociVersion, annotations: {} });
    expect(specMetadata([v(''), v('')]).ociversion).toBe('');
    expect(specMetadata([v(''), v('1.0.0')]).ociversion).toBe('INCONSISTENT');
    expect(specMetadata([v('UNKNOWN'), v('1.0.0')]).ociversion).toBe('1.0.0');
  });

  it('nvproxy/tpuproxy from annotations equal to "true"', () => {
    const a = (annotations: Record<string, string>) => ({ uid: 1, ociVersion: '1', annotations });
    expect(
      specMetadata([a({ 'dev.gvisor.internal.nvproxy': 'true' }), a({ 'dev.gvisor.internal.tpuproxy': 'yes' })]),
    ).toMatchObject({
      nvproxy: 'true',
      tpuproxy: 'false',
    });
  });
});

describe('creationTimeSeconds', () => {
  it('adds the nanoseconds as a fraction', () => {
    expect(creationTimeSeconds(sbA.createdAt.when)).toBeCloseTo(1795819502.2724469, 6);
  });
});
