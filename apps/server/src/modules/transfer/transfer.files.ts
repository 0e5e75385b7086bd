/**
 * A run's files in an export (format version 3): after an experiment's points, per file one
 * `file` line (path, size, SHA-256, type, time, and its media rows) followed by `fileData` lines of
 * at most FILE_CHUNK_BYTES each (base64), so neither side holds a whole file. Import streams the
 * chunks into the same writer as every upload (files.store.ts) and refuses a file whose bytes do
 * not add up to its size and SHA-256.
 */
import { PassThrough } from 'node:stream';
import type { AppContext } from '../../context.js';
import type { ExperimentFilesTable, ExperimentMediaTable } from '../../db/schema.js';
import { iso } from '../../lib/schemas.js';
import * as files from '../files/files.repository.js';
import { deleteRunFiles, storeRunFile, type RunRef } from '../files/files.store.js';

const FILE_CHUNK_BYTES = 1024 * 1024;

export interface FileRecord {
  type: 'file';
  experimentId: string;
  path: string;
  size: number;
  sha256: string;
  contentType: string;
  updatedAt: string;
  /** The file's rows in the media index (an image logged by key and step). */
  media?: { name: string; step: number; contentType: string; width: number; height: number }[];
}

export interface FileDataRecord {
  type: 'fileData';
  data: string;
}

/** The `file` and `fileData` lines of one experiment's files, in path order. */
export async function* exportFileLines(ctx: AppContext, workspaceId: string, experimentId: string): AsyncGenerator<string> {
  const media = new Map<string, ExperimentMediaTable[]>();
  for (const m of await files.mediaOf(ctx.db, [experimentId])) media.set(m.path, [...(media.get(m.path) ?? []), m]);
  for (const row of await files.filesOf(ctx.db, [experimentId])) {
    const opened = await ctx.blobs.open([workspaceId, experimentId, 'artifacts', ...row.path.split('/')]);
    if (opened === null) continue; // indexed but gone from the store: nothing to carry
    yield JSON.stringify(fileRecord(row, media.get(row.path) ?? []));
    let pending: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of opened.stream as AsyncIterable<Buffer>) {
      pending.push(chunk);
      bytes += chunk.length;
      while (bytes >= FILE_CHUNK_BYTES) {
        const all = Buffer.concat(pending);
        yield JSON.stringify({ type: 'fileData', data: all.subarray(0, FILE_CHUNK_BYTES).toString('base64') });
        pending = [all.subarray(FILE_CHUNK_BYTES)];
        bytes -= FILE_CHUNK_BYTES;
      }
    }
    if (bytes > 0) yield JSON.stringify({ type: 'fileData', data: Buffer.concat(pending).toString('base64') });
  }
}

function fileRecord(row: ExperimentFilesTable, media: readonly ExperimentMediaTable[]): FileRecord {
  const record: FileRecord = {
    type: 'file',
    experimentId: row.experiment_id,
    path: row.path,
    size: row.size,
    sha256: row.sha256,
    contentType: row.content_type,
    updatedAt: iso(row.updated_at)!,
  };
  if (media.length > 0) {
    record.media = media.map((m) => ({
      name: m.name,
      step: m.step,
      contentType: m.content_type,
      width: m.width,
      height: m.height,
    }));
  }
  return record;
}

/**
 * One file being imported: its `fileData` chunks stream into the store as they are read.
 *
 * @example const f = new FileImport(ctx, run, record); await f.write(chunk); await f.finish();
 */
export class FileImport {
  private readonly body = new PassThrough();
  private readonly stored: Promise<ExperimentFilesTable | Error>;
  private received = 0;

  constructor(
    private readonly ctx: AppContext,
    private readonly run: RunRef,
    readonly record: FileRecord,
  ) {
    this.stored = storeRunFile(ctx, run, record.path, this.body, { contentType: record.contentType }).catch((err: unknown) =>
      err instanceof Error ? err : new Error(String(err)),
    );
  }

  /** Whether another `fileData` line belongs to this file. */
  get complete(): boolean {
    return this.received >= this.record.size;
  }

  async write(bytes: Buffer): Promise<void> {
    this.received += bytes.length;
    if (!this.body.write(bytes)) await new Promise((resolve) => this.body.once('drain', resolve));
  }

  /** Ends the file; a message when its bytes are not what the record says (the file is then removed). */
  async finish(): Promise<string | null> {
    this.body.end();
    const stored = await this.stored;
    if (stored instanceof Error) return `file ${this.record.path}: ${stored.message}`;
    if (stored.size !== this.record.size || stored.sha256 !== this.record.sha256) {
      await deleteRunFiles(this.ctx, this.run, this.record.path);
      return `file ${this.record.path}: its bytes do not match its size and SHA-256`;
    }
    const updatedAt = Date.parse(this.record.updatedAt);
    await files.upsertFile(this.ctx.db, { ...stored, updated_at: Number.isNaN(updatedAt) ? stored.updated_at : updatedAt });
    for (const m of this.record.media ?? []) {
      await files.upsertMedia(this.ctx.db, {
        experiment_id: this.run.experimentId,
        path: stored.path,
        name: m.name,
        step: m.step,
        content_type: m.contentType,
        width: m.width,
        height: m.height,
        size: stored.size,
      });
    }
    return null;
  }

  /** Gives up on the file (the import stopped): nothing of it stays. */
  async abandon(): Promise<void> {
    this.body.destroy(new Error('the import stopped in the middle of this file'));
    await this.stored;
  }
}
