import type { Readable } from 'node:stream';

/*
 * The interface every caller reaches file bytes through (`ctx.blobs`), apart from its backends
 * (modules/artifacts: the directory store and the S3-compatible one, chosen by artifacts.blob-store.ts), so the context depends on it and on no module.
 */

export interface ArtifactEntry {
  name: string;
  isDir: boolean;
  size?: number;
}

export interface WriteOptions {
  maxBytes: number;
  /**
   * Called once the bytes are stored, just before they are put in place, and again after it:
   * throwing refuses the upload and leaves nothing. The caller re-checks there that the file's owner
   * still exists, so an upload racing the deletion of its run leaves no orphan file (the deletion
   * removes files after its rows, so a check after the rename sees the rows gone whenever the
   * removal ran before it).
   */
  stillWanted?: () => Promise<void>;
}

/** What a stored blob is: its size in bytes and when it was last written (epoch ms). */
export interface BlobStat {
  size: number;
  modifiedAt: number;
}

/** Bytes `start` to `end`, both inclusive (HTTP's Range arithmetic). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  /**
   * Streams `body` into place, never holding it whole: a cut or refused upload leaves what was
   * there before. Returns the stored size and the SHA-256 (hex) of the bytes, hashed as they pass.
   */
  write(key: readonly string[], body: Readable, opts: WriteOptions): Promise<{ size: number; sha256: string }>;
  /**
   * The file's full size and a stream of it (of `range` only, when given), or null when no file is
   * there (a directory is not a file).
   */
  open(key: readonly string[], range?: ByteRange): Promise<{ size: number; stream: Readable } | null>;
  /** The file's size and time, or null when no file is there. */
  stat(key: readonly string[]): Promise<BlobStat | null>;
  /** A directory's entries (sorted by name); empty when the key is a file or nothing. */
  list(key: readonly string[]): Promise<ArtifactEntry[]>;
  /** Removes a file or a whole directory; nothing there is fine. */
  remove(key: readonly string[]): Promise<void>;
  /** Bytes of the files under a key (a file's own size; 0 for nothing there). */
  usage(key: readonly string[]): Promise<number>;
  /** Removes temporary parts last written before `olderThan` (epoch ms): what a crash mid-upload left. */
  sweepParts(olderThan: number): Promise<number>;
  /** Throws when the store does not answer (the health check): a directory that cannot be written, an unreachable bucket. */
  check(): Promise<void>;
  /** Lets go of connections (the app's close). */
  close(): void;
}
