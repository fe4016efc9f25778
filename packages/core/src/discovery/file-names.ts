// State-file naming in the runsc root directory: `<containerID>_sandbox:<sandboxID>.state`.
import type { DiscoveryFs } from '../fs/index.js';
import { RootDirError } from './errors.js';

/**
 * runsc's name pattern, unanchored, character class kept as runsc writes it: `+-\.` inside
 * the class is the range `+`..`.`, so `,` is admitted here (IDs with `,` then fail validation).
 */
const STATE_FILE_RE = /([\w+-.]+)_sandbox:([\w+-.]+)\.state/;
/** runsc's container/sandbox ID validation (Go `\w` is ASCII, as is JS's without the `u` flag). */
const ID_RE = /^[\w+.-]+$/;

export interface StateFileName {
  readonly containerId: string;
  readonly sandboxId: string;
}

export const STATE_SUFFIX = '.state';
export const LOCK_SUFFIX = '.lock';

/** `<cid>_sandbox:<sid>` without extension. */
export function containerFileStem(containerId: string, sandboxId: string): string {
  return `${containerId}_sandbox:${sandboxId}`;
}

export function isValidId(id: string): boolean {
  return ID_RE.test(id);
}

/**
 * Parses a base name as runsc does: glob `*_sandbox:*.state` first (so the name must end in
 * `.state` and contain `_sandbox:`), then the unanchored regex, then ID validation.
 * Returns undefined for names runsc would silently skip.
 */
export function parseStateFileName(base: string): StateFileName | undefined {
  if (!base.endsWith(STATE_SUFFIX) || !base.includes('_sandbox:')) return undefined;
  const m = STATE_FILE_RE.exec(base);
  if (m === null) return undefined;
  const containerId = m[1] as string;
  const sandboxId = m[2] as string;
  if (!isValidId(containerId) || !isValidId(sandboxId)) return undefined;
  return { containerId, sandboxId };
}

/** Bytewise (UTF-8 code unit order for ASCII IDs) comparison, like Go's sort of glob results. */
export function compareBytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function readRoot(fs: DiscoveryFs, root: string): Promise<string[]> {
  try {
    return await fs.readdir(root);
  } catch (e) {
    throw new RootDirError(root, e);
  }
}

export interface ContainerFile extends StateFileName {
  /** Base name of the state file. */
  readonly stateFile: string;
}

/**
 * Every state file runsc would list in `root`, sorted bytewise by name (glob order).
 * Throws `RootDirError` when the directory cannot be listed (Go's glob would silently
 * return nothing; the caller decides whether that means "root gone").
 */
export async function listStateFiles(fs: DiscoveryFs, root: string): Promise<ContainerFile[]> {
  const out: ContainerFile[] = [];
  for (const name of await readRoot(fs, root)) {
    const parsed = parseStateFileName(name);
    if (parsed !== undefined)
      out.push({ containerId: parsed.containerId, sandboxId: parsed.sandboxId, stateFile: name });
  }
  return out.sort((a, b) => compareBytewise(a.stateFile, b.stateFile));
}

/** Distinct sandbox IDs of a listing, sorted bytewise. */
export function sandboxIdsOf(files: readonly ContainerFile[]): string[] {
  return [...new Set(files.map((f) => f.sandboxId))].sort(compareBytewise);
}

/** Distinct sandbox IDs with at least one state file in `root`, sorted bytewise. Throws `RootDirError`. */
export async function listSandboxIds(fs: DiscoveryFs, root: string): Promise<string[]> {
  return sandboxIdsOf(await listStateFiles(fs, root));
}

/**
 * State files of the containers of exactly `sandboxId` (runsc's prefix glob would also
 * return those of `sandboxId` + anything), sorted bytewise by file name like a glob.
 */
export async function listContainersOf(fs: DiscoveryFs, root: string, sandboxId: string): Promise<ContainerFile[]> {
  return (await listStateFiles(fs, root)).filter((f) => f.sandboxId === sandboxId);
}
