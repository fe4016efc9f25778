import { describe, expect, it } from 'vitest';
import { loadSandbox, sandboxContainers } from '../../src/sandbox/index.js';
import { FakeLocker, fixture, fixtureJson, memDiscoveryFs } from '../support/memfs.js';

const ADDR = 'BASE/metrics.sock'; // as stored in the real captures

describe('sandboxContainers', () => {
  it('lists the root and the subcontainer of the real pod sb-b, with their annotations', async () => {
    const { fs } = memDiscoveryFs({
      '/root/sb-b_sandbox:sb-b.state': fixture('state-file-pod-root.json'),
      '/root/sb-b-c2_sandbox:sb-b.state': fixture('state-file-subcontainer.json'),
    });
    const view = await loadSandbox('/root', 'sb-b', { fs, locker: new FakeLocker(), serverAddress: ADDR });
    expect(sandboxContainers(view)).toEqual([
      {
        id: 'sb-b-c2',
        root: false,
        status: 'running',
        createdAt: view.containers[0]!.createdAt.text,
        containerName: '',
        containerType: 'container',
        podName: 'my-pod',
        podNamespace: 'my-namespace',
      },
      {
        id: 'sb-b',
        root: true,
        status: 'running',
        createdAt: view.rootState.createdAt.text,
        containerName: '',
        containerType: '',
        podName: 'my-pod',
        podNamespace: 'my-namespace',
      },
    ]);
    // The sandbox pid and its recorded host cgroup are in the view already.
    expect(view.pid).toBe(10760);
    expect(view.rootState.sandbox.cgroup).toEqual({ version: 1, name: '/sb-b', parents: {} });
  });

  it('reads the containerd names of a Kubernetes container', () => {
    const doc = fixtureJson('state-file-subcontainer.json');
    const annotations = {
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': 'nginx',
      'io.kubernetes.cri.sandbox-name': 'web-0',
      'io.kubernetes.cri.sandbox-namespace': 'prod',
    };
    const [c] = sandboxContainers({
      containers: [
        { id: doc.id, annotations, status: 'created', createdAt: { text: 'T', when: { seconds: 0, nanos: 0 } } },
      ],
    });
    expect(c).toEqual({
      id: 'sb-b-c2',
      root: false,
      status: 'created',
      createdAt: 'T',
      containerName: 'nginx',
      containerType: 'container',
      podName: 'web-0',
      podNamespace: 'prod',
    });
  });
});
