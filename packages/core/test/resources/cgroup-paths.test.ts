import { describe, expect, it } from 'vitest';
import { CGROUP2_KEY, cgroupPathsOf } from '../../src/resources/cgroup-paths.js';
import {
  V1_MOUNTINFO,
  V1_NESTED_CGROUP,
  V1_NESTED_MOUNTINFO,
  V1_SANDBOX_CGROUP,
  V1_SYSTEMD_CGROUP,
  V1_SYSTEMD_MOUNTINFO,
  V2_LEAF_CGROUP,
  V2_MOUNTINFO,
} from './cgroup-fixtures.js';

describe('cgroupPathsOf (runsc loadPaths)', () => {
  it('v1: every known controller, name= stripped, the empty v2 line skipped', () => {
    const paths = cgroupPathsOf(V1_SANDBOX_CGROUP, V1_MOUNTINFO, false);
    expect(Object.fromEntries(paths)).toEqual({
      systemd: '/sb-a',
      pids: '/sb-a',
      blkio: '/sb-a',
      freezer: '/sb-a',
      devices: '/sb-a',
      memory: '/sb-a',
      cpuset: '/sb-a',
      cpuacct: '/sb-a',
      cpu: '/sb-a',
    });
  });

  it('v1: co-mounted controllers each get the path; unknown controllers are dropped', () => {
    const paths = cgroupPathsOf(`${V1_SYSTEMD_CGROUP}12:misc:/x\n`, V1_SYSTEMD_MOUNTINFO, false);
    expect(paths.get('cpuacct')).toBe('/system.slice/runsc-sb.scope');
    expect(paths.get('cpu')).toBe('/system.slice/runsc-sb.scope');
    expect(paths.has('misc')).toBe(false);
  });

  it("v1: a hierarchy mounted from a subdirectory makes the path relative to it (the caller's view)", () => {
    expect(cgroupPathsOf(V1_NESTED_CGROUP, V1_NESTED_MOUNTINFO, false).get('cpuacct')).toBe('sb-a');
  });

  it('v2: the unified line when /sys/fs/cgroup is cgroup2, relative to the first cgroup2 mount', () => {
    const paths = cgroupPathsOf(V2_LEAF_CGROUP, V2_MOUNTINFO, true);
    expect(paths.get(CGROUP2_KEY)).toBe('kubepods/burstable/pod1/sandbox');
    const twice = cgroupPathsOf(V2_LEAF_CGROUP, `${V2_MOUNTINFO}${V2_MOUNTINFO.replace(' / ', ' /kubepods ')}`, true);
    expect(twice.get(CGROUP2_KEY)).toBe('kubepods/burstable/pod1/sandbox');
    expect(cgroupPathsOf(V2_LEAF_CGROUP, '', true).get(CGROUP2_KEY)).toBe('/kubepods/burstable/pod1/sandbox');
    expect(cgroupPathsOf(V2_LEAF_CGROUP, V2_MOUNTINFO, false).size).toBe(0);
  });

  it('skips mount lines with fewer than 9 fields', () => {
    expect(
      cgroupPathsOf(V1_NESTED_CGROUP, '33 31 0:30 /docker/ctr - cgroup cgroup rw,cpuacct\n', false).get('cpuacct'),
    ).toBe('/docker/ctr/sb-a');
  });

  it.each([
    ['a line without three fields', '2:cpuacct\n'],
    ['a path with a colon', '2:cpuacct:/a:b\n'],
    ['an empty line', '2:cpuacct:/sb\n\n1:cpu:/sb\n'],
  ])('fails on %s in /proc/<pid>/cgroup', (_what, text) => {
    expect(() => cgroupPathsOf(text, V1_MOUNTINFO, false)).toThrow(/invalid cgroups file/);
  });

  it('fails when the path cannot be made relative to the mount root', () => {
    expect(() => cgroupPathsOf('2:cpuacct:relative\n', V1_NESTED_MOUNTINFO, false)).toThrow(/can't make/);
  });
});
