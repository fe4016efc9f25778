// One fake runsc sandbox: state files written under the container lock, a
// control socket speaking urpc, and a real process whose pid is the sandbox's.
import { closeSync, constants, existsSync, fchmodSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RE2JS } from 're2js';
import {
  type Behaviour,
  BehaviourError,
  type BehaviourName,
  eventLieOf,
  isCreateTime,
  lieOf,
  normaliseBehaviour,
  paramOf,
} from '../behaviour.js';
import { EventSource } from '../events/source.js';
import { type EncodedRegistration, registrationFor } from '../metrics/registration.js';
import { MetricSource } from '../metrics/source.js';
import { closeFd, dupFd, listenUnix } from '../os/libc.js';
import { acquireLock, type HeldLock } from '../os/lock.js';
import { PidHolder } from '../os/pid-holder.js';
import { notFound } from '../urpc/dispatch.js';
import { ControlServer } from '../urpc/server.js';
import { formatRfc3339Nano, nowNs } from '../wire/clock.js';
import { deriveSeed } from '../wire/prng.js';
import { lockPath, socketPath, statePath, VALID_ID } from './paths.js';
import {
  type Capabilities,
  DEFAULT_CAPABILITIES,
  type PodInfo,
  renderStateFile,
  type StateFileOptions,
} from './state-file.js';

export interface SubcontainerOptions {
  readonly id: string;
  readonly capabilities?: Capabilities;
  readonly uid?: number;
  readonly ociVersion?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface SandboxOptions {
  readonly id: string;
  readonly root: string;
  /** The --metric-server value given at create, stored verbatim (may contain %RUNTIME_ROOT%). */
  readonly metricServer: string;
  readonly behaviour?: BehaviourName | Behaviour;
  /** How long the lock is held while "booting" before the state file appears (runsc: 100-300 ms). Default 0. */
  readonly bootMs?: number;
  /** Go on from `created` to `running` (runsc start). Default true. */
  readonly autoStart?: boolean;
  readonly pod?: PodInfo;
  readonly capabilities?: Capabilities;
  readonly uid?: number;
  readonly ociVersion?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly subcontainers?: readonly SubcontainerOptions[];
  /** Zone offset of createdAt, like runsc under a non-UTC TZ. Default 0 (`Z`). */
  readonly tzOffsetMinutes?: number;
  readonly seed?: number;
  /** Share this process's pid with other sandboxes (crash() then refuses). Default: an own process. */
  readonly holder?: PidHolder;
  /** Listen backlog of the control socket (what `stall-accept` fills up). Default 16. */
  readonly backlog?: number;
  /** Sandbox id used by lies that claim another sandbox's labels. */
  readonly otherSandboxId?: string;
  /**
   * The containers' specs mount cgroupfs, as containerd's do for Kubernetes: containerManager.Event
   * then reports each container's own CPU (`cpu.usage.total`) and memory, and `containerUsage: null`.
   * Default false: runsc's shape for specs without it (CPU only in `containerUsage`).
   */
  readonly cgroupfs?: boolean;
}

export type SandboxStatus = 'new' | 'booting' | 'created' | 'running' | 'crashed' | 'stopped';

export class FakeSandboxError extends Error {
  override name = 'FakeSandboxError';
}

const ROOT_ANNOTATION = 'io.kubernetes.cri.container-type';

export class FakeSandbox {
  readonly id: string;
  readonly root: string;
  readonly socketPath: string;
  readonly statePath: string;
  readonly lockPath: string;
  /** What the sandbox reports over urpc (a real sentry has metrics with or without --metric-server). */
  readonly registration: EncodedRegistration;
  /** Lifecycle state; owned by start()/stop()/the holder's exit handler. */
  private statusValue: SandboxStatus = 'new';
  private behaviourValue: Behaviour;
  private holder: PidHolder | null = null;
  private ownsHolder: boolean;
  private listenFd = -1;
  private control: ControlServer | null = null;
  private metrics: MetricSource | null = null;
  private events: EventSource | null = null;
  private createdAtNs = 0n;
  private bootLock: HeldLock | null = null;
  private readonly bootAbort = new AbortController();
  /** Export count for `flapping` (good on odd calls, bad on even). */
  private flaps = 0;
  /** Export replies produced (written when the reply is built, by the control server's handler). */
  private exportsAnswered = 0;
  private readonly seed: number;
  private readonly subIds: readonly string[];

  constructor(private readonly opts: SandboxOptions) {
    if (!VALID_ID.test(opts.id))
      throw new FakeSandboxError(`invalid sandbox id "${opts.id}": must match ^[A-Za-z0-9_+.-]+$`);
    for (const s of opts.subcontainers ?? []) {
      if (!VALID_ID.test(s.id)) throw new FakeSandboxError(`invalid container id "${s.id}" in sandbox ${opts.id}`);
    }
    this.id = opts.id;
    this.root = opts.root;
    this.socketPath = socketPath(opts.root, opts.id);
    this.statePath = statePath(opts.root, opts.id, opts.id);
    this.lockPath = lockPath(opts.root, opts.id, opts.id);
    this.behaviourValue = normaliseBehaviour(opts.behaviour ?? 'honest');
    this.seed = deriveSeed(opts.seed ?? 1, opts.id);
    this.subIds = (opts.subcontainers ?? []).map((s) => s.id);
    this.ownsHolder = opts.holder === undefined;
    this.holder = opts.holder ?? null;
    this.registration = registrationFor(this.seed, this.behaviourValue.name === 'histogram-mismatch');
  }

  get status(): SandboxStatus {
    return this.statusValue;
  }

  get behaviour(): Behaviour {
    return this.behaviourValue;
  }

  /** Its subcontainers' ids, in creation order (the root container's id is `id`). */
  get subcontainerIds(): readonly string[] {
    return this.subIds;
  }

  /** How many MetricsExport replies this sandbox has built (what a server's load on it is measured by). */
  get exportCount(): number {
    return this.exportsAnswered;
  }

  /** The pid in the state file (0 before start). */
  get pid(): number {
    return this.holder?.pid ?? 0;
  }

  /** The createdAt string as written in the state file. */
  get createdAt(): string {
    return formatRfc3339Nano(this.createdAtNs, this.opts.tzOffsetMinutes ?? 0);
  }

  /** What the state file's sandbox.metricServerAddress says. */
  get metricServerAddress(): string {
    switch (this.behaviourValue.name) {
      case 'no-metric-server':
        return '';
      case 'wrong-address':
        return `${this.opts.metricServer}.elsewhere`;
      default:
        return this.opts.metricServer;
    }
  }

  /** Behaviours that are not create-time ones apply from the next call on. */
  async setBehaviour(b: BehaviourName | Behaviour): Promise<void> {
    const next = normaliseBehaviour(b);
    if (isCreateTime(next.name) || isCreateTime(this.behaviourValue.name)) {
      if (this.statusValue !== 'new') {
        throw new BehaviourError(
          `behaviour ${next.name} / ${this.behaviourValue.name} is chosen at create time; sandbox ${this.id} has ` +
            `started`,
        );
      }
    }
    if (
      (next.name === 'histogram-mismatch') !== (this.behaviourValue.name === 'histogram-mismatch') &&
      this.statusValue !== 'new'
    ) {
      throw new BehaviourError('histogram-mismatch needs a registration with a distribution; choose it at create time');
    }
    this.behaviourValue = next;
    await this.syncAccepting();
  }

  /** runsc create (+ start unless autoStart is false). */
  async start(): Promise<void> {
    if (this.statusValue !== 'new')
      throw new FakeSandboxError(`sandbox ${this.id} was already started (${this.statusValue})`);
    if (existsSync(this.statePath))
      throw new FakeSandboxError(`container with id ${this.id} already exists: ${this.statePath}`);
    this.statusValue = 'booting';
    // stop() may run at any await below; each step re-checks that we are still booting.
    const stillBooting = (): boolean => this.statusValue === 'booting';
    if (!this.holder) {
      const own = await PidHolder.spawn();
      this.holder = own;
      if (!stillBooting()) {
        await own.kill();
        return;
      }
    }
    void this.holder.exited.then(() => this.onProcessDeath());
    const lock = await acquireLock(this.lockPath);
    if (!stillBooting()) {
      lock.release();
      return;
    }
    this.bootLock = lock;
    try {
      this.createdAtNs = nowNs();
      this.metrics = new MetricSource(this.registration.value, this.seed, this.createdAtNs);
      this.events = new EventSource({
        seed: this.seed,
        startNs: this.createdAtNs,
        containerIds: [this.id, ...this.subIds],
        cgroupfs: this.opts.cgroupfs ?? false,
      });
      this.listenFd = listenUnix(this.socketPath, this.opts.backlog ?? 16);
      this.control = new ControlServer({
        behaviour: () => this.behaviourValue,
        exportReply: (re) => this.exportReply(re),
        eventReply: (cid) => this.eventReply(cid),
        eventHugeParts: (cid) =>
          this.events?.has(cid) ? this.events.hugeParts(cid, nowNs(), this.statusValue === 'running') : null,
        registrationJson: this.registration.json,
        runtimeState: (cid) =>
          cid === this.id || this.subIds.includes(cid) ? (this.statusValue === 'created' ? 1 : 2) : undefined,
      });
      await this.syncAccepting();
      if (this.behaviourValue.name === 'booting') {
        // The state file is visible but locked, as a reader racing runsc create sees it.
        this.writeState(this.id, 'created');
        await sleep(paramOf(this.behaviourValue) ?? 2 ** 31 - 1, undefined, { signal: this.bootAbort.signal }).catch(
          () => {},
        );
      } else {
        if ((this.opts.bootMs ?? 0) > 0) {
          await sleep(this.opts.bootMs, undefined, { signal: this.bootAbort.signal }).catch(() => {});
        }
        if (stillBooting()) this.writeState(this.id, 'created');
      }
    } catch (e) {
      // A failed create leaves nothing behind but what a crashed one would.
      this.statusValue = 'stopped';
      await this.closeListeners();
      if (this.ownsHolder) await this.holder.kill();
      unlinkQuiet(this.statePath);
      unlinkQuiet(this.lockPath);
      throw e;
    } finally {
      this.bootLock = null;
      lock.release();
    }
    if (!stillBooting()) return; // stopped or crashed while booting
    this.statusValue = 'created';
    for (const sub of this.opts.subcontainers ?? []) await this.createSubcontainer(sub);
    if (this.opts.autoStart ?? true) {
      const l = await acquireLock(this.lockPath);
      try {
        if (this.statusValue !== 'created') return;
        this.statusValue = 'running';
        this.writeState(this.id, 'running');
      } finally {
        l.release();
      }
    }
  }

  /** SIGKILL of the sandbox process: files stay behind saying "running", connections are refused. */
  async crash(): Promise<void> {
    if (!this.holder) throw new FakeSandboxError(`sandbox ${this.id} has no process yet`);
    if (!this.ownsHolder) {
      throw new FakeSandboxError(
        `sandbox ${this.id} shares pid ${this.holder.pid} with other sandboxes of its host; create it with its own ` +
          `process (fleet.add()) to crash it alone, or kill the host pid`,
      );
    }
    await this.holder.kill();
    await this.onProcessDeath();
  }

  /** runsc delete -force: under each container's lock, remove socket, process, state and lock files. */
  async stop(): Promise<void> {
    if (this.statusValue === 'stopped') return;
    const wasNew = this.statusValue === 'new';
    this.statusValue = 'stopped';
    this.bootAbort.abort();
    if (wasNew) return;
    for (const sub of [...this.subIds].reverse()) {
      const l = await acquireLock(lockPath(this.root, sub, this.id));
      try {
        unlinkQuiet(statePath(this.root, sub, this.id));
        unlinkQuiet(lockPath(this.root, sub, this.id));
      } finally {
        l.release();
      }
    }
    // While booting we still hold the lock ourselves; start() releases it once the abort lands.
    while (this.bootLock) await sleep(1);
    const l = await acquireLock(this.lockPath);
    try {
      await this.closeListeners();
      unlinkQuiet(this.socketPath);
      if (this.ownsHolder && this.holder) await this.holder.kill();
      unlinkQuiet(this.statePath);
      unlinkQuiet(this.lockPath);
    } finally {
      l.release();
    }
  }

  private exportReply(re: RE2JS | null): string {
    const m = this.metrics;
    if (!m) throw new FakeSandboxError('export before boot');
    this.exportsAnswered++;
    let lie = lieOf(this.behaviourValue.name);
    if (this.behaviourValue.name === 'flapping') lie = ++this.flaps % 2 === 0 ? 'unregistered-metric' : null;
    return m.exportReply(re, nowNs(), lie, this.opts.otherSandboxId ?? 'another-sandbox');
  }

  private eventReply(containerId: string): string {
    const ev = this.events;
    if (!ev) throw new FakeSandboxError('event before boot');
    if (!ev.has(containerId)) return notFound(containerId);
    // event-foreign-id names a sibling container if there is one, else the neighbour sandbox.
    const ids = [this.id, ...this.subIds];
    const foreign = ids.length > 1 ? (ids[(ids.indexOf(containerId) + 1) % ids.length] as string) : null;
    return ev.reply(
      containerId,
      nowNs(),
      this.statusValue === 'running',
      eventLieOf(this.behaviourValue.name),
      foreign ?? this.opts.otherSandboxId ?? 'another-sandbox',
    );
  }

  /** Attach or detach the Node server so `stall-accept` really stops accepting. */
  private async syncAccepting(): Promise<void> {
    const c = this.control;
    if (!c || this.listenFd < 0) return;
    const want = this.behaviourValue.name !== 'stall-accept';
    if (want && !c.accepting) await c.attach(dupFd(this.listenFd));
    else if (!want && c.accepting) await c.detach();
  }

  /** Both fds of the listening socket are closed in the same tick, so no connection is queued in between. */
  private async closeListeners(): Promise<void> {
    const closing = this.control?.close();
    if (this.listenFd >= 0) closeFd(this.listenFd);
    this.listenFd = -1;
    await closing;
  }

  /** Set once the process died; crash() and the exit watcher share it. */
  private death: Promise<void> | null = null;

  private onProcessDeath(): Promise<void> {
    if (this.statusValue === 'stopped') return Promise.resolve();
    if (!this.death) {
      this.statusValue = 'crashed';
      this.bootAbort.abort();
      this.death = this.closeListeners();
    }
    return this.death;
  }

  private writeState(cid: string, status: 'created' | 'running', sub?: SubcontainerOptions): void {
    const isRoot = sub === undefined;
    const annotations: Record<string, string> = { ...(isRoot ? this.opts.annotations : sub.annotations) };
    if (this.opts.pod) {
      annotations['io.kubernetes.cri.sandbox-name'] = this.opts.pod.name;
      annotations['io.kubernetes.cri.sandbox-namespace'] = this.opts.pod.namespace;
    }
    if (!isRoot) {
      annotations[ROOT_ANNOTATION] = 'container';
      annotations['io.kubernetes.cri.sandbox-id'] = this.id;
    }
    const bundleDir = `/run/fake-sandbox/bundles/${cid}`;
    const o: StateFileOptions = {
      containerId: cid,
      root: this.root,
      bundleDir,
      createdAt: isRoot ? this.createdAt : formatRfc3339Nano(nowNs(), this.opts.tzOffsetMinutes ?? 0),
      status,
      goferPid: this.pid,
      spec: {
        ociVersion: (isRoot ? this.opts.ociVersion : sub.ociVersion) ?? '1.0.0',
        uid: (isRoot ? this.opts.uid : sub.uid) ?? 0,
        capabilities: (isRoot ? this.opts.capabilities : sub.capabilities) ?? DEFAULT_CAPABILITIES,
        annotations,
        cgroupsPath: isRoot ? `/${this.id}` : undefined,
      },
      sandbox: {
        sandboxId: this.id,
        pod: this.opts.pod,
        pid: this.pid,
        metricServerAddress: this.metricServerAddress,
        controlSocketPath: this.socketPath,
        startTime: formatRfc3339Nano(this.createdAtNs - 6_000_000n),
        // runsc create stores the registration only when --metric-server was given.
        registrationJson: this.behaviourValue.name === 'no-metric-server' ? null : this.registration.json,
      },
    };
    writeInPlace(statePath(this.root, cid, this.id), renderStateFile(o));
  }

  private async createSubcontainer(sub: SubcontainerOptions): Promise<void> {
    const l = await acquireLock(lockPath(this.root, sub.id, this.id));
    try {
      // runsc reads the root's state under the root lock (nested) to copy its sandbox object.
      const rootLock = await acquireLock(this.lockPath);
      rootLock.release();
      if (this.statusValue === 'created') this.writeState(sub.id, 'running', sub);
    } finally {
      l.release();
    }
  }
}

/** open(O_WRONLY|O_CREAT|O_TRUNC, 0640) + write, like runsc: not atomic, readers must hold the lock. */
function writeInPlace(path: string, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o640);
  try {
    fchmodSync(fd, 0o640); // independent of the umask
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  } finally {
    closeSync(fd);
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
