import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsFromVolume } from 'memfs';
import { afterAll, describe, expect, it } from 'vitest';
import type { DiscoveryFs } from '../../src/fs/index.js';
import {
  HostCgroupCpu,
  isOnlyCgroupV2,
  KeptFile,
  readHostCpuUsage,
  resolveHostCgroup,
  stateFileCpuUsageFile,
} from '../../src/resources/host-cgroup.js';
import { memDiscoveryFs } from '../support/memfs.js';
import {
  V1_MOUNTINFO,
  V1_NESTED_CGROUP,
  V1_NESTED_MOUNTINFO,
  V1_SANDBOX_CGROUP,
  V2_LEAF_CGROUP,
  V2_MOUNTINFO,
  V2_ROOTED_CGROUP,
} from './cgroup-fixtures.js';

const PID = 10186;

/** A memfs with the given files; `sync` adds readFileSync (as node's fs has), counting reads either way. */
function cgroupFs(files: Record<string, string>, sync = false) {
  const { fs: mem, vol } = memDiscoveryFs(files);
  const mfs = createFsFromVolume(vol);
  const reads: string[] = [];
  const fs: Pick<DiscoveryFs, 'readFile' | 'readFileSync'> = {
    readFile: (p) => {
      reads.push(p);
      return mem.readFile(p);
    },
  };
  if (sync) {
    fs.readFileSync = (p: string) => {
      reads.push(p);
      return mfs.readFileSync(p) as Buffer;
    };
  }
  return { fs, vol, reads };
}

const v1Host = (usage = '5146896972\n'): Record<string, string> => ({
  [`/proc/${PID}/cgroup`]: V1_SANDBOX_CGROUP,
  '/proc/self/mountinfo': V1_MOUNTINFO,
  '/sys/fs/cgroup/cpuacct/sb-a/cpuacct.usage': usage,
});

describe('resolveHostCgroup', () => {
  it('v1: the sandbox process cpuacct cgroup', async () => {
    const { fs } = cgroupFs(v1Host());
    expect(await resolveHostCgroup(PID, { fs, cgroupV2Only: false })).toEqual({
      version: 1,
      usageFile: '/sys/fs/cgroup/cpuacct/sb-a/cpuacct.usage',
    });
  });

  it('v1: as seen from a container whose hierarchy is mounted from a subdirectory', async () => {
    const { fs } = cgroupFs({ [`/proc/${PID}/cgroup`]: V1_NESTED_CGROUP, '/proc/self/mountinfo': V1_NESTED_MOUNTINFO });
    expect(await resolveHostCgroup(PID, { fs, cgroupV2Only: false })).toMatchObject({
      usageFile: '/sys/fs/cgroup/cpuacct/sb-a/cpuacct.usage',
    });
  });

  it('v1: without a cpuacct entry, the hierarchy root (as runsc)', async () => {
    const { fs } = cgroupFs({ [`/proc/${PID}/cgroup`]: '4:memory:/sb-a\n', '/proc/self/mountinfo': V1_MOUNTINFO });
    expect(await resolveHostCgroup(PID, { fs, cgroupV2Only: false })).toMatchObject({
      usageFile: '/sys/fs/cgroup/cpuacct/cpuacct.usage',
    });
  });

  it("v2: the parent of the sandbox process's cgroup", async () => {
    const files = {
      [`/proc/${PID}/cgroup`]: V2_LEAF_CGROUP,
      '/proc/self/mountinfo': V2_MOUNTINFO,
      '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids\n',
    };
    expect(await resolveHostCgroup(PID, { fs: cgroupFs(files).fs, cgroupV2Only: true })).toEqual({
      version: 2,
      usageFile: '/sys/fs/cgroup/kubepods/burstable/pod1/cpu.stat',
    });
    // runsc's quirk kept: a sandbox directly in /sb-a makes it read the root cgroup (the whole host).
    const rooted = { ...files, [`/proc/${PID}/cgroup`]: V2_ROOTED_CGROUP };
    expect(await resolveHostCgroup(PID, { fs: cgroupFs(rooted).fs, cgroupV2Only: true })).toMatchObject({
      usageFile: '/sys/fs/cgroup/cpu.stat',
    });
  });

  it('v2: no cgroup without a readable cgroup.controllers', async () => {
    const files = { [`/proc/${PID}/cgroup`]: V2_LEAF_CGROUP, '/proc/self/mountinfo': V2_MOUNTINFO };
    const cg = await resolveHostCgroup(PID, { fs: cgroupFs(files).fs, cgroupV2Only: true });
    expect(cg).toMatchObject({ version: 0, reason: expect.stringMatching(/ENOENT/) });
  });

  it('no cgroup when the process is gone, the mount table unreadable or the cgroup file garbage', async () => {
    const gone = await resolveHostCgroup(PID, { fs: cgroupFs({ '/proc/self/mountinfo': '' }).fs, cgroupV2Only: false });
    expect(gone).toMatchObject({ version: 0, reason: expect.stringMatching(/^finding current cgroups: .*ENOENT/) });
    const noMounts = await resolveHostCgroup(PID, {
      fs: cgroupFs({ [`/proc/${PID}/cgroup`]: V1_SANDBOX_CGROUP }).fs,
      cgroupV2Only: false,
    });
    expect(noMounts.version).toBe(0);
    const garbage = await resolveHostCgroup(PID, {
      fs: cgroupFs({ [`/proc/${PID}/cgroup`]: 'garbage', '/proc/self/mountinfo': V1_MOUNTINFO }).fs,
      cgroupV2Only: false,
    });
    expect(garbage).toMatchObject({ version: 0, reason: expect.stringMatching(/invalid cgroups file/) });
  });

  it('asks statfs by default; this host is not cgroup2-only', () => {
    expect(typeof isOnlyCgroupV2()).toBe('boolean');
  });
});

describe('readHostCpuUsage', () => {
  const v1 = { version: 1, usageFile: '/sys/fs/cgroup/cpuacct/sb-a/cpuacct.usage' } as const;

  it('reads v1 ns, synchronously when the fs can', async () => {
    expect(await readHostCpuUsage(v1, cgroupFs(v1Host()).fs)).toEqual({ kind: 'usage', ns: 5146896972 });
    const sync = readHostCpuUsage(v1, cgroupFs(v1Host(), true).fs);
    expect(sync).toEqual({ kind: 'usage', ns: 5146896972 });
  });

  it('reads v2 usage_usec as ns', async () => {
    const v2 = { version: 2, usageFile: '/sys/fs/cgroup/p/cpu.stat' } as const;
    const { fs } = cgroupFs({ '/sys/fs/cgroup/p/cpu.stat': 'usage_usec 1500\nuser_usec 1000\n' }, true);
    expect(readHostCpuUsage(v2, fs)).toEqual({ kind: 'usage', ns: 1500000 });
  });

  it('zero is a reading (populateStats treats it as none)', () => {
    expect(readHostCpuUsage(v1, cgroupFs(v1Host('0\n'), true).fs)).toEqual({ kind: 'usage', ns: 0 });
  });

  it('a missing or garbage file is an error reading; an unresolved cgroup is none', async () => {
    const { fs } = cgroupFs({ '/proc/self/mountinfo': '' });
    expect(await readHostCpuUsage(v1, fs)).toMatchObject({ kind: 'error', reason: expect.stringMatching(/ENOENT/) });
    expect(readHostCpuUsage(v1, cgroupFs({ '/proc/self/mountinfo': '' }, true).fs)).toMatchObject({ kind: 'error' });
    expect(readHostCpuUsage(v1, cgroupFs(v1Host('max\n'), true).fs)).toMatchObject({
      kind: 'error',
      reason: expect.stringMatching(/not an unsigned integer/),
    });
    expect(readHostCpuUsage({ version: 0, reason: 'nope' })).toEqual({ kind: 'none', reason: 'nope' });
  });
});

describe('readHostCpuUsage on the real filesystem (the default)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ms-cg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a usage file, a v2 cpu.stat past the scratch size, and reports a missing one', () => {
    const v1File = join(dir, 'cpuacct.usage');
    writeFileSync(v1File, '5146896972\n');
    expect(readHostCpuUsage({ version: 1, usageFile: v1File })).toEqual({ kind: 'usage', ns: 5146896972 });
    // A file larger than the one-read scratch buffer is read whole all the same.
    const v2File = join(dir, 'cpu.stat');
    writeFileSync(v2File, `${'x_usec 1\n'.repeat(600)}usage_usec 1500\n`);
    expect(readHostCpuUsage({ version: 2, usageFile: v2File })).toEqual({ kind: 'usage', ns: 1500000 });
    // Each read sees the file as it is now (no stale scratch bytes from a longer earlier read).
    writeFileSync(v1File, '7\n');
    expect(readHostCpuUsage({ version: 1, usageFile: v1File })).toEqual({ kind: 'usage', ns: 7 });
    expect(readHostCpuUsage({ version: 1, usageFile: join(dir, 'nope') })).toMatchObject({
      kind: 'error',
      reason: expect.stringMatching(/ENOENT/),
    });
  });
});

describe('KeptFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ms-kept-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens on the first read, re-reads from the start each time, reopens after close', () => {
    const file = join(dir, 'usage');
    writeFileSync(file, '123456\n');
    const kept = new KeptFile(file);
    expect(kept.isOpen).toBe(false);
    expect(Buffer.from(kept.read()).toString()).toBe('123456\n');
    expect(kept.isOpen).toBe(true);
    writeFileSync(file, '7\n'); // shorter: nothing of the earlier content shows
    expect(Buffer.from(kept.read()).toString()).toBe('7\n');
    writeFileSync(file, 'y'.repeat(10_000)); // past the scratch buffer: read whole
    expect(kept.read().length).toBe(10_000);
    kept.close();
    expect(kept.isOpen).toBe(false);
    kept.close(); // twice is fine
    expect(Buffer.from(kept.read()).toString()).toBe('y'.repeat(10_000));
    kept.close();
  });

  it('throws the error of a missing file and stays closed', () => {
    const kept = new KeptFile(join(dir, 'missing'));
    expect(() => kept.read()).toThrow(/ENOENT/);
    expect(kept.isOpen).toBe(false);
  });
});

describe('HostCgroupCpu', () => {
  it('resolves once, then reads only the usage file per scrape', async () => {
    const { fs, vol, reads } = cgroupFs(v1Host(), true);
    const cpu = new HostCgroupCpu(PID, { fs, cgroupV2Only: false });
    expect(cpu.resolved).toBeUndefined();
    const [a, b] = await Promise.all([cpu.read(), cpu.read()]);
    expect(a).toEqual({ kind: 'usage', ns: 5146896972 });
    expect(b).toEqual(a);
    expect(cpu.resolved).toMatchObject({ version: 1 });
    vol.writeFileSync('/sys/fs/cgroup/cpuacct/sb-a/cpuacct.usage', '6000000000\n');
    reads.length = 0;
    expect(cpu.read()).toEqual({ kind: 'usage', ns: 6000000000 });
    expect(reads).toEqual(['/sys/fs/cgroup/cpuacct/sb-a/cpuacct.usage']);
  });

  it('keeps a failed resolution: every read is then none', async () => {
    const { fs, vol, reads } = cgroupFs({ '/proc/self/mountinfo': V1_MOUNTINFO }, true);
    const cpu = new HostCgroupCpu(PID, { fs, cgroupV2Only: false });
    expect(await cpu.read()).toMatchObject({ kind: 'none' });
    vol.fromJSON({ [`/proc/${PID}/cgroup`]: V1_SANDBOX_CGROUP });
    reads.length = 0;
    expect(await cpu.read()).toMatchObject({ kind: 'none' });
    expect(reads).toEqual([]);
  });
});

describe('stateFileCpuUsageFile', () => {
  it("names the recorded cgroup's usage file", () => {
    expect(stateFileCpuUsageFile({ version: 1, name: '/sb-a', parents: {} })).toBe(
      '/sys/fs/cgroup/cpuacct/sb-a/cpuacct.usage',
    );
    expect(stateFileCpuUsageFile({ version: 1, name: 'sb', parents: { cpuacct: '/kubepods' } })).toBe(
      '/sys/fs/cgroup/cpuacct/kubepods/sb/cpuacct.usage',
    );
    expect(stateFileCpuUsageFile({ version: 2, mountpoint: '/sys/fs/cgroup', path: '/sb-a', systemd: false })).toBe(
      '/sys/fs/cgroup/sb-a/cpu.stat',
    );
  });
});
