import { describe, expect, it } from 'vitest';
import {
  listContainersOf,
  listSandboxIds,
  listStateFiles,
  parseStateFileName,
  RootDirError,
  sandboxIdsOf,
} from '../../src/discovery/index.js';
import { fixture, memDiscoveryFs } from '../support/memfs.js';

describe('parseStateFileName', () => {
  it('splits container and sandbox ids', () => {
    expect(parseStateFileName('sb-b-c2_sandbox:sb-b.state')).toEqual({ containerId: 'sb-b-c2', sandboxId: 'sb-b' });
    expect(parseStateFileName('a_b_sandbox:c.d+e.state')).toEqual({ containerId: 'a_b', sandboxId: 'c.d+e' });
  });

  it('skips lock files, sockets and names that do not follow the pattern', () => {
    for (const n of [
      'sb-a_sandbox:sb-a.lock',
      'runsc-sb-a.sock',
      'sb-a.state',
      'sb-a_sandbox:.state',
      'x_sandbox:y.state.tmp',
    ]) {
      expect(parseStateFileName(n), n).toBeUndefined();
    }
  });

  it('keeps the range quirk of runsc regex: "," is matched by the name pattern but fails ID validation', () => {
    // The unanchored pattern would capture "a,b" as one id; validation then rejects it.
    expect(parseStateFileName('a,b_sandbox:s.state')).toBeUndefined();
    expect(parseStateFileName('c_sandbox:s,t.state')).toBeUndefined();
  });

  it('is unanchored like runsc: a leading non-id character is skipped over', () => {
    expect(parseStateFileName('a b_sandbox:c.state')).toEqual({ containerId: 'b', sandboxId: 'c' });
    expect(parseStateFileName('a_sandbox:b_sandbox:c.state')).toEqual({ containerId: 'b', sandboxId: 'c' });
  });
});

function realListing(): string[] {
  const text = fixture('rootdir-listing.txt');
  const start = text.indexOf('# ls -1 ROOT');
  const end = text.indexOf('# runsc', start);
  return text
    .slice(start, end)
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
}

describe('listSandboxIds', () => {
  it('finds the 7 sandboxes of the real root listing (the subcontainer adds no id)', async () => {
    const names = realListing();
    expect(names).toHaveLength(23);
    const files = Object.fromEntries(names.map((n) => [`/root/${n}`, '']));
    const { fs } = memDiscoveryFs(files);
    expect(await listSandboxIds(fs, '/root')).toEqual(['sb-a', 'sb-b', 'sb-c', 'sb-d', 'sb-e', 'sb-f', 'sb-g']);
  });

  it('sorts bytewise and de-duplicates', async () => {
    const { fs } = memDiscoveryFs({
      '/r/b_sandbox:b.state': '',
      '/r/B_sandbox:B.state': '',
      '/r/b2_sandbox:b.state': '',
      '/r/a_sandbox:a.state': '',
      '/r/z_sandbox:a.lock': '',
    });
    expect(await listSandboxIds(fs, '/r')).toEqual(['B', 'a', 'b']);
  });

  it('reports a missing root distinctly', async () => {
    const { fs } = memDiscoveryFs({ '/other/x': '' });
    const err = await listSandboxIds(fs, '/gone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RootDirError);
    expect((err as RootDirError).root).toBe('/gone');
    expect((err as Error).message).toContain('/gone');
  });

  it('an empty root is not an error', async () => {
    const { fs, vol } = memDiscoveryFs({});
    vol.mkdirSync('/empty', { recursive: true });
    expect(await listSandboxIds(fs, '/empty')).toEqual([]);
  });
});

describe('listContainersOf', () => {
  it('matches the sandbox id exactly: s1 does not swallow s10', async () => {
    const { fs } = memDiscoveryFs({
      '/r/s1_sandbox:s1.state': '',
      '/r/c1_sandbox:s1.state': '',
      '/r/s10_sandbox:s10.state': '',
      '/r/c10_sandbox:s10.state': '',
    });
    const got = await listContainersOf(fs, '/r', 's1');
    expect(got.map((c) => c.stateFile)).toEqual(['c1_sandbox:s1.state', 's1_sandbox:s1.state']);
    expect(got[0]).toMatchObject({ containerId: 'c1', sandboxId: 's1' });
  });

  it('returns the root and subcontainer of sb-b in glob order', async () => {
    const files = Object.fromEntries(realListing().map((n) => [`/root/${n}`, '']));
    const { fs } = memDiscoveryFs(files);
    expect((await listContainersOf(fs, '/root', 'sb-b')).map((c) => c.containerId)).toEqual(['sb-b-c2', 'sb-b']);
  });
});

describe('listStateFiles', () => {
  it('returns every state file in glob order, and sandboxIdsOf derives the distinct ids', async () => {
    const { fs } = memDiscoveryFs({
      '/r/b_sandbox:a.state': '',
      '/r/a_sandbox:a.state': '',
      '/r/x.lock': '',
      '/r/c_sandbox:c.state': '',
    });
    const files = await listStateFiles(fs, '/r');
    expect(files.map((f) => f.stateFile)).toEqual(['a_sandbox:a.state', 'b_sandbox:a.state', 'c_sandbox:c.state']);
    expect(sandboxIdsOf(files)).toEqual(['a', 'c']);
  });
});
