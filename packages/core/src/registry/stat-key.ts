import type { FileStat } from '../fs/index.js';

/** runsc's "sufficiently equal" stats: same mtime, size, device and inode. */
export function sameFileVersion(a: FileStat, b: FileStat): boolean {
  return a.mtimeNs === b.mtimeNs && a.size === b.size && a.dev === b.dev && a.ino === b.ino;
}
