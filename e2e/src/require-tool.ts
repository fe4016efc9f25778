// Fails loudly (never skips) when a system tool a suite drives for real is
// missing: a suite that silently skips proves nothing in CI.
import { spawnSync } from 'node:child_process';
import { isStaticElf } from './elf.js';

export type Tool = 'runsc' | 'promtool' | 'prometheus' | 'docker' | 'root' | 'busybox';

const INSTALL: Record<Tool, string> = {
  runsc: 'apt-get install -t bookworm-backports runsc (scripts/install-system-deps.sh does it)',
  promtool: "apt-get install prometheus (promtool ships in Debian's prometheus package)",
  prometheus: 'apt-get install prometheus',
  docker: 'apt-get install docker.io, then start the engine: bash scripts/start-dockerd.sh',
  root: 'run the e2e suites as root (real sandboxes and dockerd need uid 0)',
  busybox: 'apt-get install busybox-static (a static busybox is the rootfs of the real sandboxes)',
};

export class MissingToolError extends Error {
  constructor(
    readonly tool: Tool,
    detail: string,
  ) {
    super(`e2e needs ${tool} but ${detail}; install it: ${INSTALL[tool]}`);
    this.name = 'MissingToolError';
  }
}

/** Where a static busybox lives; Debian's busybox-static installs /bin/busybox. */
export const BUSYBOX_PATH = '/bin/busybox';

function probe(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error) return { ok: false, out: r.error.message };
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

const checked = new Set<Tool>();

/** Throws MissingToolError with the install hint; cached per process once it passed. */
export function requireTool(tool: Tool): void {
  if (checked.has(tool)) return;
  switch (tool) {
    case 'root':
      if (process.getuid?.() !== 0) throw new MissingToolError(tool, `the tests run as uid ${process.getuid?.()}`);
      break;
    case 'runsc': {
      const r = probe('runsc', ['--version']);
      if (!r.ok) throw new MissingToolError(tool, `\`runsc --version\` failed (${r.out})`);
      break;
    }
    case 'promtool': {
      const r = probe('promtool', ['--version']);
      if (!r.ok) throw new MissingToolError(tool, `\`promtool --version\` failed (${r.out})`);
      break;
    }
    case 'prometheus': {
      const r = probe('prometheus', ['--version']);
      if (!r.ok) throw new MissingToolError(tool, `\`prometheus --version\` failed (${r.out})`);
      break;
    }
    case 'docker': {
      const r = probe('docker', ['info', '--format', '{{.ServerVersion}}']);
      if (!r.ok) throw new MissingToolError(tool, `no docker engine answers (${r.out})`);
      break;
    }
    case 'busybox': {
      let ok = false;
      let why = 'it is missing';
      try {
        ok = isStaticElf(BUSYBOX_PATH);
        why = 'it is dynamically linked';
      } catch (e) {
        why = (e as Error).message;
      }
      if (!ok) throw new MissingToolError(tool, `${BUSYBOX_PATH} is not a static binary (${why})`);
      break;
    }
  }
  checked.add(tool);
}
