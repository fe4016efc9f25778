// Linux capability numbers 0..40 and the union over a sandbox's containers.
import type { ContainerState } from '../discovery/index.js';

/**
 * Index = capability number. 38..40 carry their real names; runsc's table calls them
 * UNKNOWN, which makes them undetectable there (noted in docs/compat.md).
 */
export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** `CAP_NET_RAW` -> `NET_RAW` (the label value). */
export function trimCapabilityName(name: string): string {
  return name.startsWith('CAP_') ? name.slice(4) : name;
}

/**
 * Capabilities (trimmed names, ascending by number) that any container lists in any of
 * its five sets, by exact string compare. Names outside the table are ignored, like runsc.
 */
export function capabilityUnion(containers: readonly Pick<ContainerState, 'capabilities'>[]): string[] {
  const present = new Set<string>();
  for (const c of containers) {
    const s = c.capabilities;
    for (const set of [s.bounding, s.effective, s.inheritable, s.permitted, s.ambient]) {
      for (const name of set) present.add(name);
    }
  }
  return CAPABILITY_NAMES.filter((n) => present.has(n)).map(trimCapabilityName);
}
