// The flag table: every flag the CLI accepts, with its kind and help. runsc's
// global flags that have no meaning for a metric server are accepted (so an
// operator can swap binaries without editing the command line) and ignored.

export type FlagKind = 'bool' | 'value';

export interface FlagDef {
  readonly name: string;
  readonly kind: FlagKind;
  readonly help: string;
  readonly placeholder?: string;
}

export const SERVER_FLAGS: readonly FlagDef[] = [
  {
    name: 'root',
    kind: 'value',
    placeholder: 'dir',
    help:
      'runsc root directory holding the container state files (default: $XDG_RUNTIME_DIR/runsc if XDG_RUNTIME_DIR ' +
      'is set, else /var/run/runsc)',
  },
  {
    name: 'metric-server',
    kind: 'value',
    placeholder: 'addr',
    help:
      'required: address to serve on: host:port (one interface), :port (all interfaces) or an absolute unix socket ' +
      'path; %RUNTIME_ROOT% is replaced by the root directory',
  },
  {
    name: 'exporter-prefix',
    kind: 'value',
    placeholder: 'prefix',
    help: 'prefix of every sandbox metric name; meta metrics get <prefix>meta_ (default "runsc_", may be empty)',
  },
  {
    name: 'pid-file',
    kind: 'value',
    placeholder: 'path',
    help: "after binding, write this server's PID there (no trailing newline, mode 0644); removed on shutdown",
  },
  {
    name: 'allow-profiling',
    kind: 'bool',
    help:
      'expose /runsc-metrics/profile-cpu (V8 .cpuprofile JSON) and /runsc-metrics/profile-heap (.heapsnapshot); ' +
      'development only',
  },
  {
    name: 'allow-unknown-root',
    kind: 'bool',
    help: 'keep running when the root directory does not exist, cannot be read, or disappears later',
  },
  {
    name: 'instant-discovery',
    kind: 'bool',
    help:
      'watch the root directory (inotify) and discover sandboxes as their state files appear or go away, between ' +
      'scrapes; the 20 s loop stays the fallback (default true; --instant-discovery=false turns it off)',
  },
  {
    name: 'per-sandbox-timeout',
    kind: 'value',
    placeholder: 'duration',
    help:
      'deadline of one sandbox export, e.g. 8s or 2500ms; never more than what is left of the 30s scrape (default ' +
      '8s)',
  },
  {
    name: 'scrape-concurrency',
    kind: 'value',
    placeholder: 'n',
    help: 'sandboxes queried at once within one scrape (default 1024)',
  },
  {
    name: 'max-response-bytes',
    kind: 'value',
    placeholder: 'bytes',
    help: 'largest urpc reply accepted from one sandbox; bigger ones count as broken (default 16777216 = 16 MiB)',
  },
  {
    name: 'openmetrics',
    kind: 'bool',
    help:
      'negotiate the /metrics format on Accept: a scraper that prefers application/openmetrics-text;version=1.0.0 ' +
      '(Prometheus does) gets OpenMetrics, whose counter series are named <name>_total; off by default so ' +
      'Prometheus keeps ingesting the series names runsc serves',
  },
  {
    name: 'resource-metrics',
    kind: 'bool',
    help:
      "also serve each container's CPU, memory, threads and network usage as runsc events --stats reads them " +
      '(containerManager.Event on the kept connection, under the same deadline), as <prefix>container_* ' +
      'families; off by default (the Go server serves none)',
  },
  {
    name: 'max-concurrent-scrapes',
    kind: 'value',
    placeholder: 'n',
    help: 'concurrent /metrics requests served; more get 429 with Retry-After: 1 (default 8)',
  },
  {
    name: 'web-config-file',
    kind: 'value',
    placeholder: 'file',
    help:
      'Prometheus exporter-toolkit web config (YAML): tls_server_config (HTTPS, optional client certificates), ' +
      'basic_auth_users (bcrypt hashes), http_server_config.headers; read once at start-up, on TCP and unix sockets ' +
      'alike',
  },
];

/** runsc global flags accepted and ignored (names and kinds from `runsc flags`, 20240729). */
const IGNORED_RUNSC_FLAGS =
  'EXPERIMENTAL-xdp:v EXPERIMENTAL-xdp-need-wakeup:b TESTONLY-afs-syscall-panic:b ' +
  'TESTONLY-allow-packet-endpoint-write:b TESTONLY-autosave-image-path:v TESTONLY-autosave-resume:b ' +
  'TESTONLY-test-name-env:v TESTONLY-unsafe-nonroot:b allow-flag-override:b alsologtostderr:b app-huge-pages:b ' +
  'buffer-pooling:b cgroupfs:b coverage-fd:v coverage-report:v cpu-num-from-quota:b dcache:v debug:b debug-command:v ' +
  'debug-log:v debug-log-fd:v debug-log-format:v debug-to-user-log:b directfs:b enable-core-tags:b fdlimit:v ' +
  'file-access:v file-access-mounts:v fsgofer-host-uds:b fuse:b gso:b gvisor-gro:b host-fifo:v host-uds:v ' +
  'ignore-cgroups:b iouring:b lisafs:b log:v log-fd:v log-format:v log-packets:b net-disconnect-ok:b net-raw:b ' +
  'network:v network-processors-per-channel:v num-network-channels:v nvproxy:b nvproxy-docker:b ' +
  'nvproxy-driver-version:v oci-seccomp:b overlay:b overlay2:v panic-log:v panic-log-fd:v panic-signal:v pcap-log:v ' +
  'platform:v platform_device_path:v pod-init-config:v profile:b profile-block:v profile-cpu:v profile-heap:v ' +
  'profile-mutex:v profiling-metrics:v profiling-metrics-log:v profiling-metrics-rate-us:v qdisc:v ref-leak-mode:v ' +
  'reproduce-nat:b reproduce-nftables:b rootless:b rx-checksum-offload:b software-gso:b strace:b strace-event:b ' +
  'strace-log-size:v strace-syscalls:v systemd-cgroup:b tpuproxy:b trace:v traceback:v tx-checksum-offload:b ' +
  'version:b vfs2:b watchdog-action:v';

export const IGNORED_FLAGS: readonly FlagDef[] = IGNORED_RUNSC_FLAGS.split(' ').map((spec) => {
  const [name = '', kind] = spec.split(':');
  return { name, kind: kind === 'b' ? 'bool' : 'value', help: 'runsc global flag, accepted and ignored' } as const;
});

const table = new Map<string, FlagDef & { ignored: boolean }>();
for (const f of SERVER_FLAGS) table.set(f.name, { ...f, ignored: false });
for (const f of IGNORED_FLAGS) table.set(f.name, { ...f, ignored: true });

export function lookupFlag(name: string): (FlagDef & { ignored: boolean }) | undefined {
  return table.get(name);
}

export function helpText(): string {
  const lines = [
    'Usage: runsc-metric-server [flags]',
    '       runsc-metric-server -root=<root dir> -metric-server=<addr> metric-server [-exporter-prefix=<runsc_>] ' +
      '[flags]',
    '',
    'Implements the Prometheus metrics HTTP endpoint of gVisor sandboxes (drop-in for `runsc metric-server`).',
    'Flags use Go syntax: -x, --x, -x=v, --x v; booleans may be given bare or as -x=true|false.',
    '',
    'Flags:',
  ];
  for (const f of SERVER_FLAGS) {
    const head = f.kind === 'bool' ? `  --${f.name}` : `  --${f.name}=<${f.placeholder ?? 'value'}>`;
    lines.push(head, `        ${f.help}`);
  }
  lines.push(
    '  -h, --help',
    '        print this help and exit 0',
    '',
    'Accepted and ignored (runsc global flags without meaning here):',
    wrap(IGNORED_FLAGS.map((f) => `--${f.name}`).join(' '), 110, '  '),
    '',
    'Exit status: 0 after a graceful shutdown (SIGINT, SIGTERM, SIGQUIT, or the root directory disappeared),',
    '2 for a malformed flag before the subcommand, 128 for every other failure (one line on stderr).',
  );
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, width: number, indent: string): string {
  const out: string[] = [];
  let line = indent;
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > width && line.trim() !== '') {
      out.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  if (line.trim() !== '') out.push(line.trimEnd());
  return out.join('\n');
}
