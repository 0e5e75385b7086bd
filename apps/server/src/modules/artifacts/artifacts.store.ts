import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../../config.js';
import type { ArtifactEntry, BlobStore } from '../../lib/blob-store.js';
import { meteredBody } from './artifacts.meter.js';

/**
 * Tora's file storage behind one interface, `BlobStore`: every caller (both doors to a run's
 * files, logged models, deletion, export) reaches bytes only through it, by key, never by a local
 * path, so another backend (an S3-compatible one) can stand in. The first backend,
 * `artifactStore`, keeps plain files under `<TORA_DATA_DIR>/artifacts/` on every database (the
 * database holds no file bytes). Keys are `/`-separated relative paths, checked segment by segment
 * here so nothing can name a file outside the root; callers check access from the key's leading
 * segments (workspace, run) first.
 *
 * @example
 *   const store = artifactStore(config);
 *   await store.write(['ws1', 'run1', 'artifacts', 'model.pt'], request.raw, { maxBytes: 1e9 });
 */

export class ArtifactPathError extends Error {}
export class ArtifactTooLargeError extends Error {}
/** The client went away before the end of its upload: nothing was written. */
export class ArtifactUploadCutError extends Error {}

/** Parts in artifacts-tmp older than this are left by a crash mid-upload: swept at start and periodically. */
export const STALE_PART_MS = 24 * 3600 * 1000;

const MAX_SEGMENT_BYTES = 255;

/** Splits and checks a relative artifact path: no `..`, `.`, empty segment, backslash, NUL or control character, no absolute path. */
export function artifactSegments(raw: string): string[] {
  if (raw.startsWith('/')) throw new ArtifactPathError(`Invalid artifact path '${raw}': must be relative`);
  const trimmed = raw.replace(/\/+$/, '');
  if (trimmed === '') return [];
  const segments = trimmed.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') {
      throw new ArtifactPathError(`Invalid artifact path '${raw}': '.', '..' and empty segments are not allowed`);
    }
    if (s.includes('\\')) throw new ArtifactPathError(`Invalid artifact path '${raw}': backslashes are not allowed`);
    if (/[\u0000-\u001f\u007f]/.test(s)) {
      throw new ArtifactPathError(`Invalid artifact path: control characters are not allowed`);
    }
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) {
      throw new ArtifactPathError(`Invalid artifact path: a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
    }
  }
  return segments;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** How the directory backend makes a rename durable; a test may watch it, calling through to the real one. */
export interface DirectorySync {
  /** fsyncs the directory, so that an entry renamed into it survives power loss. */
  syncDir(dir: string): Promise<void>;
}

/** The directory backend: files under `<dataDir>/artifacts`, each upload renamed into place from `<dataDir>/artifacts-tmp`. */
export function artifactStore(config: Pick<Config, 'dataDir'>, durability: DirectorySync = { syncDir }): BlobStore {
  const root = path.join(config.dataDir, 'artifacts');
  const tmpDir = path.join(config.dataDir, 'artifacts-tmp');

  function fullPath(key: readonly string[]): string {
    for (const s of key) artifactSegments(s);
    const full = path.join(root, ...key);
    if (full !== root && !full.startsWith(root + path.sep)) throw new ArtifactPathError('Invalid artifact path');
    return full;
  }

  /**
   * Refuses a key any existing component of which is a symbolic link: Tora never makes one, so a
   * link there was put by someone else and must not lead reads or writes out of the root.
   */
  async function noLinks(key: readonly string[]): Promise<void> {
    let at = root;
    for (const s of key) {
      at = path.join(at, s);
      try {
        if ((await fsp.lstat(at)).isSymbolicLink()) {
          throw new ArtifactPathError(`Invalid artifact path: '${key.join('/')}' goes through a symbolic link`);
        }
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
    }
  }

  return {
    async write(key, body, { maxBytes, stillWanted }) {
      if (key.length === 0) throw new ArtifactPathError('Invalid artifact path: name a file');
      const target = fullPath(key);
      await noLinks(key);
      await fsp.mkdir(tmpDir, { recursive: true });
      const tmp = path.join(tmpDir, `${randomUUID()}.part`);
      // The part is created before the body flows: a stream's own open could come after a body
      // that fails at once, and create the part after its removal below.
      const part = await fsp.open(tmp, 'wx');
      const metered = meteredBody(body, maxBytes);
      try {
        await pipeline(metered.stream, part.createWriteStream());
        const handle = await fsp.open(tmp, 'r');
        await handle.sync();
        await handle.close();
        await stillWanted?.();
        await fsp.mkdir(path.dirname(target), { recursive: true });
        await noLinks(key);
        await fsp.rename(tmp, target);
        // The rename is durable only once its directory is: a 2xx must survive power loss.
        await durability.syncDir(path.dirname(target));
      } catch (err) {
        metered.drop();
        await fsp.rm(tmp, { force: true });
        if (
          err instanceof Error &&
          ['EISDIR', 'ENOTDIR', 'EEXIST', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')
        ) {
          throw new ArtifactPathError(`Cannot write '${key.join('/')}': a directory and a file would share that path`);
        }
        throw err;
      }
      metered.release();
      try {
        await stillWanted?.();
      } catch (err) {
        await fsp.rm(target, { force: true });
        throw err;
      }
      return { size: metered.size(), sha256: metered.sha256() };
    },
    async open(key, range) {
      const full = fullPath(key);
      await noLinks(key);
      try {
        const stat = await fsp.stat(full);
        if (!stat.isFile()) return null;
        return { size: stat.size, stream: fs.createReadStream(full, range ?? {}) };
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async stat(key) {
      const full = fullPath(key);
      await noLinks(key);
      try {
        const stat = await fsp.stat(full);
        return stat.isFile() ? { size: stat.size, modifiedAt: stat.mtimeMs } : null;
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async list(key) {
      const full = fullPath(key);
      await noLinks(key);
      let dirents: fs.Dirent[];
      try {
        dirents = await fsp.readdir(full, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return [];
        throw err;
      }
      const entries: ArtifactEntry[] = [];
      for (const d of dirents) {
        if (d.isDirectory()) entries.push({ name: d.name, isDir: true });
        else if (d.isFile()) entries.push({ name: d.name, isDir: false, size: (await fsp.stat(path.join(full, d.name))).size });
      }
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async remove(key) {
      const full = fullPath(key);
      await noLinks(key);
      // A link named by the key itself is removed, never followed (rm does not follow links).
      await fsp.rm(full, { recursive: true, force: true });
    },
    async usage(key) {
      const full = fullPath(key);
      await noLinks(key);
      return bytesUnder(full);
    },
    async sweepParts(olderThan) {
      let names: string[];
      try {
        names = await fsp.readdir(tmpDir);
      } catch (err) {
        if (isMissing(err)) return 0;
        throw err;
      }
      let removed = 0;
      for (const name of names) {
        const part = path.join(tmpDir, name);
        try {
          const stat = await fsp.lstat(part);
          if (stat.mtimeMs >= olderThan) continue;
          await fsp.rm(part, { recursive: true, force: true });
          removed++;
        } catch (err) {
          if (!isMissing(err)) throw err;
        }
      }
      return removed;
    },
    async check() {
      await fsp.mkdir(root, { recursive: true });
      await fsp.access(root, fs.constants.W_OK);
    },
    close() {},
  };
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Sizes of the regular files under a path (links are not followed). */
async function bytesUnder(full: string): Promise<number> {
  let stat: fs.Stats;
  try {
    stat = await fsp.lstat(full);
  } catch (err) {
    if (isMissing(err)) return 0;
    throw err;
  }
  if (stat.isFile()) return stat.size;
  if (!stat.isDirectory()) return 0;
  let total = 0;
  for (const name of await fsp.readdir(full)) total += await bytesUnder(path.join(full, name));
  return total;
}

/** Removes a run's (Tora experiment's) files, its logged models' included; called once its rows are deleted. */
export async function removeRunFiles(store: BlobStore, workspaceId: string, runId: string): Promise<void> {
  await store.remove([workspaceId, runId]);
}

/** Removes every file of a workspace; called once its rows are deleted. */
export async function removeWorkspaceFiles(store: BlobStore, workspaceId: string): Promise<void> {
  await store.remove([workspaceId]);
}
