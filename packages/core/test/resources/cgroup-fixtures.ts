// /proc/<pid>/cgroup and /proc/self/mountinfo texts for the cgroup tests. V1_* are as on the
// capture host (Debian 12, kernel 6.18, cgroup v1 hierarchies on a tmpfs /sys/fs/cgroup) for a
// sandbox that runsc put in `/sb-a`; the others are the usual layouts of other hosts.

export const V1_SANDBOX_CGROUP = [
  '9:name=systemd:/sb-a',
  '8:pids:/sb-a',
  '7:blkio:/sb-a',
  '6:freezer:/sb-a',
  '5:devices:/sb-a',
  '4:memory:/sb-a',
  '3:cpuset:/sb-a',
  '2:cpuacct:/sb-a',
  '1:cpu:/sb-a',
  '0::/',
  '',
].join('\n');

export const V1_MOUNTINFO = [
  '23 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw',
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
  '34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '',
].join('\n');

/** systemd's v1 layout: cpu and cpuacct co-mounted, with optional fields before the separator. */
export const V1_SYSTEMD_CGROUP = '5:cpu,cpuacct:/system.slice/runsc-sb.scope\n1:name=systemd:/system.slice\n';
export const V1_SYSTEMD_MOUNTINFO =
  '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup ' +
  'rw,cpu,cpuacct\n';

/** The caller in a container whose cpuacct hierarchy is mounted from /docker/ctr. */
export const V1_NESTED_CGROUP = '2:cpuacct:/docker/ctr/sb-a\n';
export const V1_NESTED_MOUNTINFO =
  '33 31 0:30 /docker/ctr /sys/fs/cgroup/cpuacct ro,relatime - cgroup cgroup rw,cpuacct\n';

/** cgroup v2, containerd with the cgroup-parent annotation: the sandbox sits in a leaf below its pod's cgroup. */
export const V2_LEAF_CGROUP = '0::/kubepods/burstable/pod1/sandbox\n';
/** cgroup v2 without it: the sandbox sits in the cgroup runsc made (`/sb-a`), whose parent is the root. */
export const V2_ROOTED_CGROUP = '0::/sb-a\n';
export const V2_MOUNTINFO =
  '25 23 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
