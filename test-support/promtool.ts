// Feeds exposition text to Debian's `promtool check metrics`, the strict judge
// of our output. Exit 1 is a parse error; exit 3 means only lint findings, which
// gVisor's own names trigger (e.g. counters without `_total`), so it passes.
import { spawnSync } from 'node:child_process';

export interface PromtoolVerdict {
  ok: boolean;
  status: number | null;
  output: string;
}

export function promtoolCheck(text: string | Buffer): PromtoolVerdict {
  const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.error) {
    throw new Error(`promtool could not run (${res.error.message}); install Debian's prometheus package`);
  }
  const output = `${res.stdout}${res.stderr}`;
  const ok = (res.status === 0 || res.status === 3) && !/\berror\b/i.test(output);
  return { ok, status: res.status, output };
}

/** Throws with promtool's words when the text does not pass. */
export function expectPromtoolAccepts(text: string | Buffer): void {
  const v = promtoolCheck(text);
  if (!v.ok) {
    const head = String(text).slice(0, 2000);
    throw new Error(
      `promtool check metrics rejected the output (exit ${v.status}):\n${v.output}\n--- first bytes ---\n${head}`,
    );
  }
}
