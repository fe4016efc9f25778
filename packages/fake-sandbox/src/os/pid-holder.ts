// The process whose pid goes into a state file. A sandbox's liveness is
// kill(pid, 0), so it must be a real process: `cat` reading a pipe from us is
// ~1 MB, spawns in ~1 ms, and exits by itself (EOF) if this process dies, so a
// killed fleet never leaves orphans behind.
import { type ChildProcess, spawn } from 'node:child_process';

export class PidHolder {
  readonly pid: number;
  /** Resolves once the process has exited, whoever killed it. */
  readonly exited: Promise<void>;
  private alive = true;

  private constructor(private readonly child: ChildProcess) {
    if (child.pid === undefined) throw new Error('pid holder has no pid');
    this.pid = child.pid;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        this.alive = false;
        resolve();
      }),
    );
    // EPIPE on our end of its stdin after it died is expected.
    child.stdin?.on('error', () => {});
  }

  static async spawn(): Promise<PidHolder> {
    const child = spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new Error(`cannot spawn the pid holder process (cat): ${e.message}`)));
    });
    return new PidHolder(child);
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** SIGKILL, like a crash; resolves when the process is gone. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}
