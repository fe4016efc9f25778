// Which cgroup a process is in, per controller, as runsc works it out (runsc/cgroup `loadPaths`
// at release-20240729.0): the process's /proc/<pid>/cgroup, then the caller's own mount table
// (/proc/self/mountinfo) to turn host paths into paths below the caller's cgroupfs mounts (a
// caller in a nested container sees its hierarchies mounted from a non-root directory).
import { fields, rel, scanLines } from './go-text.js';

/** The key of the unified (v2) hierarchy's path. */
export const CGROUP2_KEY = 'cgroup2';

/**
 * The v1 controllers runsc knows; /proc/<pid>/cgroup entries for others are dropped
 * (`name=systemd` counts as `systemd`).
 */
const KNOWN_CONTROLLERS = new Set([
  'blkio',
  'cpu',
  'cpuset',
  'hugetlb',
  'memory',
  'net_cls',
  'net_prio',
  'pids',
  'cpuacct',
  'devices',
  'freezer',
  'perf_event',
  'rdma',
  'systemd',
]);

/**
 * Controller (or CGROUP2_KEY) → cgroup path, from the text of /proc/<pid>/cgroup and of the
 * caller's /proc/self/mountinfo; `unified` is whether /sys/fs/cgroup is a cgroup2 mount (then the
 * `0::<path>` line counts, else it is skipped). Throws an Error where runsc fails: a cgroup line
 * that is not `id:controllers:path`, or a path that cannot be made relative to its mount's root.
 */
export function cgroupPathsOf(procCgroup: string, mountinfo: string, unified: boolean): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of scanLines(procCgroup)) {
    const tokens = line.split(':');
    if (tokens.length !== 3) throw new Error(`invalid cgroups file, line: ${JSON.stringify(line)}`);
    const [, controllers, path] = tokens as [string, string, string];
    if (controllers === '') {
      if (unified) paths.set(CGROUP2_KEY, path);
      continue;
    }
    for (const c of controllers.split(',')) {
      const name = c.startsWith('name=') ? c.slice('name='.length) : c;
      if (KNOWN_CONTROLLERS.has(name)) paths.set(name, path);
    }
  }

  // Mount entries: `ID parent major:minor root mount-point options [optional...] - fstype source super-options`.
  let haveCgroup2 = false;
  for (const line of scanLines(mountinfo)) {
    const f = fields(line);
    if (f.length < 9) continue;
    const fsType = f[f.length - 3];
    const root = f[3]!;
    if (fsType === 'cgroup') {
      // A v1 hierarchy: its controllers are among the super options (`rw,cpu,cpuacct`).
      for (const opt of f[f.length - 1]!.split(',')) {
        const name = opt.startsWith('name=') ? opt.slice('name='.length) : opt;
        const path = paths.get(name);
        if (path !== undefined && root !== '/') paths.set(name, rel(root, path));
      }
    } else if (fsType === 'cgroup2') {
      const path = paths.get(CGROUP2_KEY);
      if (!haveCgroup2 && path !== undefined) {
        paths.set(CGROUP2_KEY, rel(root, path));
        haveCgroup2 = true;
      }
    }
  }
  return paths;
}
