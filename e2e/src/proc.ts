// Memory of a child process from /proc: current RSS and the peak (VmHWM), so a
// suite can bound what a 200 MB reply cost the server, not just what is left.
// Growth is judged on the anonymous part (RssAnon): the file-backed part is node's
// own binary and libraries, paged out under memory pressure and back in as code
// runs, so it moves by tens of MiB on a busy host without the server holding more.
import { readFileSync } from 'node:fs';

export interface Memory {
  rssBytes: number;
  /** Resident anonymous memory: heap, buffers, stacks; what a leak would grow. */
  anonRssBytes: number;
  peakRssBytes: number;
}

export function processMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kb('VmRSS'), anonRssBytes: kb('RssAnon'), peakRssBytes: kb('VmHWM') };
}
