import { describe, expect, it } from 'vitest';
import { parseStateFile, sandboxCgroupOf } from '../../src/discovery/index.js';
import { fixture, fixtureJson } from '../support/memfs.js';

describe('sandbox.cgroup of the real state files', () => {
  it('reads the v1 cgroup runsc made for the sandbox (parents null)', () => {
    expect(parseStateFile(fixture('state-file.raw.json'), 'a').sandbox!.cgroup).toEqual({
      version: 1,
      name: '/sb-a',
      parents: {},
    });
    // A subcontainer's file carries its root's copy.
    expect(parseStateFile(fixture('state-file-subcontainer.json'), 's').sandbox!.cgroup).toEqual({
      version: 1,
      name: '/sb-b',
      parents: {},
    });
  });
});

describe('sandboxCgroupOf', () => {
  it('reads v2 and systemd records', () => {
    const v2 = { cgroupv2: { mountpoint: '/sys/fs/cgroup', path: '/sb-a', controllers: ['cpu'], own: null } };
    expect(sandboxCgroupOf(v2)).toEqual({ version: 2, mountpoint: '/sys/fs/cgroup', path: '/sb-a', systemd: false });
    const sd = { cgroupsystemd: { mountpoint: '/sys/fs/cgroup', path: '/system.slice/x.scope', Name: 'x.scope' } };
    expect(sandboxCgroupOf(sd)).toMatchObject({ version: 2, path: '/system.slice/x.scope', systemd: true });
  });

  it('reads v1 parents, null parent values as empty, inner keys case-insensitively', () => {
    expect(sandboxCgroupOf({ cgroupv1: { Name: 'sb', PARENTS: { cpuacct: '/kubepods', memory: null } } })).toEqual({
      version: 1,
      name: 'sb',
      parents: { cpuacct: '/kubepods', memory: '' },
    });
  });

  it('is undefined for no cgroup and for shapes runsc does not write', () => {
    for (const v of [
      undefined,
      null,
      { cgroupunknown: null },
      {},
      [],
      'cgroupv1',
      { CGROUPV1: { name: '/x' } }, // the wrapper is a map: exact keys
      { cgroupv1: null },
      { cgroupv1: { name: 5 } },
      { cgroupv1: { name: '/x', parents: ['a'] } },
      { cgroupv1: { name: '/x', parents: { cpu: 1 } } },
      { cgroupv2: { mountpoint: '/sys/fs/cgroup', path: {} } },
    ]) {
      expect(sandboxCgroupOf(v), JSON.stringify(v)).toBeUndefined();
    }
  });

  it('never makes a state file fail to parse', () => {
    const doc = fixtureJson('state-file.json');
    doc.sandbox.cgroup = { cgroupv1: { name: ['not', 'a', 'string'] } };
    const s = parseStateFile(JSON.stringify(doc), 'x');
    expect(s.sandbox!.cgroup).toBeUndefined();
    expect('cgroup' in s.sandbox!).toBe(false);
    expect(s.sandbox!.pid).toBe(10186);
  });
});
