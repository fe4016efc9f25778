// Memory of a child process from /proc: current RSS and the peak (VmHWM), so a
// suite can bound what a 200 MB reply cost the server, not just what is left.
import { readFileSync } from 'node:fs';

export interface Memory {
  rssBytes: number;
  peakRssBytes: number;
}

export function processMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}
