// Just enough ELF reading to tell a static binary from a dynamic one (no
// PT_INTERP program header), so the suites need neither `file` nor guesses.
import { readFileSync } from 'node:fs';

const PT_INTERP = 3;

/** True when the 64-bit little-endian ELF at `path` has no program interpreter. */
export function isStaticElf(path: string): boolean {
  const b = readFileSync(path);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`);
  if (b[4] !== 2 || b[5] !== 1) throw new Error(`${path} is not a 64-bit little-endian ELF file`);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    if (b.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return false;
  }
  return true;
}
