// Helpers shared by the discovery/sandbox/registry tests: a memfs-backed DiscoveryFs and fixtures.
import { readFileSync } from 'node:fs';
import { Volume, createFsFromVolume } from 'memfs';
import { type DiscoveryFs, type PromisesFsLike, discoveryFsFrom } from '../../src/fs/index.js';

export function memDiscoveryFs(files: Record<string, string> = {}): { fs: DiscoveryFs; vol: InstanceType<typeof Volume> } {
  const vol = Volume.fromJSON(files);
  const mfs = createFsFromVolume(vol);
  return { fs: discoveryFsFrom(mfs.promises as unknown as PromisesFsLike), vol };
}

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

/** Parsed fixture JSON, to derive variants of the real files. */
export function fixtureJson(name: string): Record<string, any> {
  return JSON.parse(fixture(name)) as Record<string, any>;
}
