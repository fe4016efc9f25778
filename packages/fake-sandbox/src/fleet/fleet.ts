// Many fake sandboxes in one root dir, served from this process. Pids: by
// default each sandbox has its own tiny process (crash() kills just it); with
// `hosts: K` sandboxes share K processes round-robin, so 1000 sandboxes cost K
// processes and killing one host pid crashes all its sandboxes at once.
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { type Behaviour, type BehaviourName, normaliseBehaviour } from '../behaviour.js';
import { PidHolder } from '../os/pid-holder.js';
import { FakeSandbox, FakeSandboxError, type SandboxOptions } from '../sandbox/sandbox.js';

export interface BehaviourCount {
  readonly behaviour: BehaviourName | Behaviour;
  readonly count: number;
}

export interface FleetOptions {
  /** Created (mode 0711) if missing; removed by close() only if this fleet created it. */
  readonly root: string;
  /** The --metric-server address every sandbox stores (unless its behaviour says otherwise). */
  readonly metricServer: string;
  /** Sandboxes started by createFleet. Default 0. */
  readonly count?: number;
  /** Default 1; the same seed gives the same metrics and registration orders. */
  readonly seed?: number;
  /** Share K pid-holder processes among the initial sandboxes instead of one each. */
  readonly hosts?: number;
  /** The first sandboxes get these behaviours, in order; the rest are honest. */
  readonly behaviours?: readonly BehaviourCount[];
  readonly bootMs?: number;
  /** Id prefix; ids are `<prefix>-0001`... (fixed width so no id is a prefix of another). */
  readonly idPrefix?: string;
  /** Sandboxes booted at once. Default 64. */
  readonly startConcurrency?: number;
}

export type AddOptions = Partial<Omit<SandboxOptions, 'root' | 'metricServer'>> & { readonly metricServer?: string };

export class Fleet {
  /** Every sandbox this fleet created, in creation order; owned by add()/close(). */
  readonly sandboxes: FakeSandbox[] = [];
  /** Shared host processes (with `hosts`). */
  readonly hosts: PidHolder[] = [];
  private next = 1;
  private closed = false;

  constructor(
    readonly options: FleetOptions,
    private readonly createdRoot: boolean,
  ) {}

  get root(): string {
    return this.options.root;
  }

  nextId(): string {
    return this.idAt(this.next++);
  }

  private idAt(n: number): string {
    const width = Math.max(4, String(this.options.count ?? 0).length);
    return `${this.options.idPrefix ?? 'sb'}-${String(n).padStart(width, '0')}`;
  }

  /** Creates and starts one more sandbox, with its own process unless `holder` is given. */
  async add(opts: AddOptions = {}): Promise<FakeSandbox> {
    const sb = this.create(opts);
    await sb.start();
    return sb;
  }

  create(opts: AddOptions = {}): FakeSandbox {
    if (this.closed) throw new FakeSandboxError('fleet is closed');
    const id = opts.id ?? this.nextId();
    const sb = new FakeSandbox({
      seed: this.options.seed ?? 1,
      bootMs: this.options.bootMs ?? 0,
      // Lies that claim another sandbox's labels name a real neighbour.
      otherSandboxId: this.sandboxes[0]?.id ?? this.idAt(this.next),
      ...opts,
      id,
      root: this.options.root,
      metricServer: opts.metricServer ?? this.options.metricServer,
    });
    this.sandboxes.push(sb);
    return sb;
  }

  get(id: string): FakeSandbox | undefined {
    return this.sandboxes.find((s) => s.id === id);
  }

  /** Stops every sandbox (runsc delete), kills the host processes, removes the root if we made it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await runLimited(this.sandboxes, 64, (s) => s.stop());
    await Promise.all(this.hosts.map((h) => h.kill()));
    if (this.createdRoot) {
      try {
        rmdirSync(this.options.root);
      } catch {
        // Not empty: something else (e.g. a metric server's lock files) lives there; leave it.
      }
    }
  }
}

export async function createFleet(options: FleetOptions): Promise<Fleet> {
  let createdRoot = false;
  try {
    if (!statSync(options.root).isDirectory()) throw new FakeSandboxError(`root ${options.root} is not a directory`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(options.root, { recursive: true, mode: 0o711 });
    createdRoot = true;
  }
  const fleet = new Fleet(options, createdRoot);
  try {
    const count = options.count ?? 0;
    const hostCount = options.hosts ?? 0;
    if (!Number.isInteger(hostCount) || hostCount < 0)
      throw new FakeSandboxError(`hosts must be a non-negative integer, got ${hostCount}`);
    for (let i = 0; i < Math.min(hostCount, count); i++) fleet.hosts.push(await PidHolder.spawn());
    const plan: Behaviour[] = [];
    for (const bc of options.behaviours ?? []) {
      for (let i = 0; i < bc.count; i++) plan.push(normaliseBehaviour(bc.behaviour));
    }
    if (plan.length > count)
      throw new FakeSandboxError(`${plan.length} sandboxes with behaviours but --count is ${count}`);
    const created = Array.from({ length: count }, (_, i) =>
      fleet.create({
        behaviour: plan[i] ?? 'honest',
        ...(fleet.hosts.length ? { holder: fleet.hosts[i % fleet.hosts.length] } : {}),
      }),
    );
    // A create-time "booting" sandbox never finishes start(); don't wait for it.
    await runLimited(created, options.startConcurrency ?? 64, (s) => {
      if (s.behaviour.name !== 'booting') return s.start();
      void s.start().catch(() => {});
      return Promise.resolve();
    });
  } catch (e) {
    await fleet.close();
    throw e;
  }
  return fleet;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function runLimited<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) await fn(items[i++] as T);
  });
  await Promise.all(workers);
}
