import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFs } from '../../src/fs/index.js';
import { memDiscoveryFs } from '../support/memfs.js';

describe('nodeFs', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('lists, stats with nanosecond bigint mtimes and reads files', async () => {
    dir = mkdtempSync(join(tmpdir(), 'core-fs-'));
    writeFileSync(join(dir, 'a.state'), '{"x":1}');
    expect(await nodeFs.readdir(dir)).toEqual(['a.state']);
    const st = await nodeFs.stat(join(dir, 'a.state'));
    expect(st.size).toBe(7);
    expect(st.isFile).toBe(true);
    expect(typeof st.mtimeNs).toBe('bigint');
    expect(st.mtimeNs > 1_600_000_000n * 1_000_000_000n).toBe(true);
    expect(st.ino > 0n).toBe(true);
    expect(Buffer.from(await nodeFs.readFile(join(dir, 'a.state'))).toString()).toBe('{"x":1}');
    await expect(nodeFs.readdir(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stats synchronously as it does asynchronously; nothing there is undefined, other errors throw', async () => {
    const d = mkdtempSync(join(tmpdir(), 'core-fs-'));
    dir = d;
    writeFileSync(join(d, 'a.state'), '{"x":1}');
    expect(nodeFs.statSync!(join(d, 'a.state'))).toEqual(await nodeFs.stat(join(d, 'a.state')));
    expect(nodeFs.statSync!(join(d, 'missing.state'))).toBeUndefined();
    expect(() => nodeFs.statSync!(join(d, 'a.state', 'below-a-file'))).toThrow(
      expect.objectContaining({ code: 'ENOTDIR' }),
    );
  });
});

describe('memfs adapter', () => {
  it('implements the same interface', async () => {
    const { fs } = memDiscoveryFs({ '/r/x.state': 'abc' });
    expect(await fs.readdir('/r')).toEqual(['x.state']);
    const st = await fs.stat('/r/x.state');
    expect(st.size).toBe(3);
    expect(st.isFile).toBe(true);
    expect(typeof st.ino).toBe('bigint');
    expect(Buffer.from(await fs.readFile('/r/x.state')).toString()).toBe('abc');
  });
});
