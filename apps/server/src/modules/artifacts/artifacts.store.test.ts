import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { artifactStore, syncDir } from './artifacts.store.js';

/** The directory backend's durability (issue 21, item 9): an acknowledged upload survives power loss. */
describe('directory store durability', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fsyncs the parent directory after the rename, before the write resolves', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-store-'));
    dirs.push(dataDir);
    const target = path.join(dataDir, 'artifacts', 'ws1', 'run1', 'artifacts', 'model.bin');
    const synced: { dir: string; fileThere: boolean }[] = [];
    const store = artifactStore(
      { dataDir },
      {
        async syncDir(dir) {
          // What is on disk at the moment of the sync: the rename must already have happened.
          synced.push({ dir, fileThere: fs.existsSync(target) });
          await syncDir(dir);
        },
      },
    );
    let resolved = false;
    const written = store
      .write(['ws1', 'run1', 'artifacts', 'model.bin'], Readable.from([Buffer.from('weights')]), { maxBytes: 1000 })
      .then((r) => {
        resolved = true;
        return r;
      });
    expect(resolved).toBe(false);
    expect(await written).toMatchObject({ size: 7 });
    expect(synced).toEqual([{ dir: path.dirname(target), fileThere: true }]);
    expect(fs.readFileSync(target, 'utf8')).toBe('weights');
  });

  it('does not sync a directory for a refused upload, and leaves no part behind', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-store-'));
    dirs.push(dataDir);
    const synced: string[] = [];
    const store = artifactStore({ dataDir }, { syncDir: async (dir) => void synced.push(dir) });
    await expect(store.write(['ws1', 'big.bin'], Readable.from([Buffer.alloc(2000)]), { maxBytes: 1000 })).rejects.toThrow(
      /larger than the limit/,
    );
    expect(synced).toEqual([]);
    expect(fs.readdirSync(path.join(dataDir, 'artifacts-tmp'))).toEqual([]);
  });
});
