// What a fake sandbox's containers consume, as functions of the time since the
// sandbox started: seeded per container (CPU, memory, pids) and per sandbox
// (network interfaces, as the sentry has one network stack). Units as runsc
// reports them: CPU in ns (10 ms steps, the sentry's tick), memory in bytes
// (whole pages), network in bytes and packets.
import { Prng } from '../wire/prng.js';

export const CPU_TICK_NS = 10_000_000;
export const PAGE_BYTES = 4096;
const MIB = 1024 * 1024;

export interface ContainerUsageModel {
  /** CPU at start, in ticks. */
  readonly cpuBaseTicks: number;
  /** Cores used on average (0.002–0.9). */
  readonly cpuCores: number;
  /** Memory moves between these (bytes, whole pages). */
  readonly memoryMin: number;
  readonly memoryMax: number;
  readonly memoryPeriodSec: number;
  readonly memoryPhase: number;
  readonly pids: number;
}

export interface InterfaceModel {
  readonly name: string;
  readonly rxBytesPerSec: number;
  readonly txBytesPerSec: number;
  readonly rxPacketBytes: number;
  readonly txPacketBytes: number;
}

/** The eight counters of one interface, in runsc's field order. */
export interface InterfaceStats {
  readonly Name: string;
  readonly RxBytes: number;
  readonly RxPackets: number;
  readonly RxErrors: number;
  readonly RxDropped: number;
  readonly TxBytes: number;
  readonly TxPackets: number;
  readonly TxErrors: number;
  readonly TxDropped: number;
}

export class UsageModel {
  private readonly containers = new Map<string, ContainerUsageModel>();
  readonly interfaces: readonly InterfaceModel[];

  /** `containerIds`: the root container (= sandbox id) first. */
  constructor(seed: number, containerIds: readonly string[]) {
    // A stream of its own, so adding it changed none of the metric draws made from `seed`.
    const prng = new Prng((seed ^ 0x5e47e575) >>> 0);
    const pod = containerIds.length > 1;
    containerIds.forEach((id, i) => {
      // A pod's root is its pause container: small and idle.
      const pause = pod && i === 0;
      const min = pause ? prng.int(64, 256) * PAGE_BYTES : prng.int(1, 48) * (MIB / 2);
      const span = pause ? prng.int(0, 16) * PAGE_BYTES : prng.int(1, 96) * (MIB / 2);
      this.containers.set(id, {
        cpuBaseTicks: prng.int(1, 20),
        cpuCores: pause ? 0.002 : 0.01 + prng.next() * 0.89,
        memoryMin: min,
        memoryMax: min + span,
        memoryPeriodSec: prng.int(20, 120),
        memoryPhase: prng.next() * 2 * Math.PI,
        pids: pause ? 1 : prng.int(1, 4),
      });
    });
    const loBytes = prng.int(0, 4096);
    this.interfaces = [
      // Loopback: everything sent is received.
      { name: 'lo', rxBytesPerSec: loBytes, txBytesPerSec: loBytes, rxPacketBytes: 66, txPacketBytes: 66 },
      {
        name: 'eth0',
        rxBytesPerSec: prng.int(500, 200_000),
        txBytesPerSec: prng.int(200, 100_000),
        rxPacketBytes: prng.int(90, 1400),
        txPacketBytes: prng.int(70, 1000),
      },
    ];
  }

  has(id: string): boolean {
    return this.containers.has(id);
  }

  get containerIds(): string[] {
    return [...this.containers.keys()];
  }

  container(id: string): ContainerUsageModel {
    const m = this.containers.get(id);
    if (!m) throw new Error(`no usage model for container ${id}`);
    return m;
  }

  /** User+sys CPU in ns: whole ticks, never decreasing. */
  cpuNs(id: string, elapsedSec: number): number {
    const m = this.container(id);
    return (m.cpuBaseTicks + Math.floor((m.cpuCores * Math.max(0, elapsedSec) * 1e9) / CPU_TICK_NS)) * CPU_TICK_NS;
  }

  /** Memory in bytes: a seeded wave between memoryMin and memoryMax, in whole pages. */
  memoryBytes(id: string, elapsedSec: number): number {
    const m = this.container(id);
    const wave = 0.5 - 0.5 * Math.cos((2 * Math.PI * elapsedSec) / m.memoryPeriodSec + m.memoryPhase);
    const pages = Math.floor((m.memoryMin + (m.memoryMax - m.memoryMin) * wave) / PAGE_BYTES);
    return Math.min(m.memoryMax, Math.max(m.memoryMin, pages * PAGE_BYTES));
  }

  interfaceStats(elapsedSec: number): InterfaceStats[] {
    const el = Math.max(0, elapsedSec);
    return this.interfaces.map((i) => {
      const rx = Math.floor(i.rxBytesPerSec * el);
      const tx = Math.floor(i.txBytesPerSec * el);
      return {
        Name: i.name,
        RxBytes: rx,
        RxPackets: Math.floor(rx / i.rxPacketBytes),
        RxErrors: 0,
        RxDropped: 0,
        TxBytes: tx,
        TxPackets: Math.floor(tx / i.txPacketBytes),
        TxErrors: 0,
        TxDropped: 0,
      };
    });
  }
}
