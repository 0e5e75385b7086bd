/**
 * `tora import`: reads the JSON lines of transfer.format.ts into this server. Every chunk goes
 * through the batch API's parser and ingest path under a position-derived batch id, so a rerun
 * adds nothing twice and finishes an interrupted import.
 */
import type { AppContext, Caller } from '../../context.js';
import { AppError } from '../../errors.js';
import { findUserById, userIds } from '../auth/auth.repository.js';
import { userByEmail } from '../auth/auth.service.js';
import * as experiments from '../experiments/experiments.repository.js';
import type { Experiment } from '../experiments/experiment.js';
import { normalizeHyperparams } from '../experiments/hyperparams.js';
import { isStatus } from '../../lib/schemas.js';
import { findBadText } from '../../lib/validation.js';
import { METRIC_LIMITS as LIMITS } from '../../lib/limits.js';
import { parseBatch } from '../metrics/ingest.js';
import { appendBatch } from '../metrics/metrics.ingest.service.js';
import { setSeriesUpdatedAt } from '../metrics/metrics.repository.js';
import * as mlflow from '../mlflow/mlflow.repository.js';
import { transactionWithRetry } from '../../db/retry.js';
import { requireRole, roleIn } from '../workspaces/access.js';
import { workspaceOwner } from '../workspaces/workspaces.repository.js';
import {
  ACCOUNT_COLUMNS,
  ACCOUNT_TABLES,
  FORMAT,
  READABLE_VERSIONS,
  chunkBatchId,
  type AccountTable,
  type ExperimentRecord,
  type KeyValueRecord,
  type MlflowRunRecord,
  type PointsRecord,
  type TransferProgress,
} from './transfer.format.js';
import { FileImport, type FileDataRecord, type FileRecord } from './transfer.files.js';
import * as repo from './transfer.repository.js';
import { resolveWorkspace } from './transfer.workspace.js';

export interface ImportTarget {
  /** Who imports, into which workspace; not needed (and ignored) for an export with accounts. */
  email?: string;
  /** A workspace id or name (among the user's workspaces). Default: the user's default workspace. */
  workspace?: string;
}

export interface ImportResult {
  experiments: number;
  /** Experiments already there from an earlier run of the same import. */
  resumed: number;
  points: number;
  duplicatePoints: number;
  /** Files stored (a rerun stores them again: same path, same bytes). */
  files: number;
}

/**
 * The id here of an experiment's exported reference: imported with it, or already on this server
 * and readable by whoever imports (a reference never opens a way into another workspace).
 */
async function referenceHere(
  ctx: AppContext,
  exported: string | null,
  ids: ReadonlyMap<string, string>,
  userId: string,
  self: string,
): Promise<string | null> {
  if (exported === null) return null;
  let id = ids.get(exported) ?? null;
  if (id === null) {
    const existing = await experiments.findExperiment(ctx.db, exported);
    if (existing && (await roleIn(ctx.db, userId, existing.workspaceId, { includeTrashed: true })) !== null) id = existing.id;
  }
  return id === self ? null : id;
}

/**
 * Accounts go into a server that has none yet, or that has exactly these (an earlier run of the
 * same import): merging two servers' users could hand one person's workspaces to another.
 */
async function checkAccountsTarget(ctx: AppContext, rec: Record<string, unknown>, line: number): Promise<void> {
  if (rec.table !== 'users' || !Array.isArray(rec.rows)) invalid(line, 'the first account record must be the users table');
  const here = await userIds(ctx.db);
  if (here.length === 0) return;
  const inFile = new Set((rec.rows as { id?: unknown }[]).map((u) => u.id));
  if (here.some((id) => !inFile.has(id))) {
    throw new AppError(
      'VALIDATION_ERROR',
      400,
      'an export with accounts can only be imported into a server without users (or the same export again); ' +
        'export without --accounts and import with --email to merge experiments into this server',
    );
  }
}

/** Checks one account table's rows against its columns and inserts them (reruns leave them alone). */
async function insertAccounts(ctx: AppContext, rec: Record<string, unknown>, line: number): Promise<void> {
  const table = rec.table as AccountTable;
  if (!ACCOUNT_TABLES.includes(table)) invalid(line, `unknown account table ${JSON.stringify(rec.table)}`);
  if (!Array.isArray(rec.rows)) invalid(line, 'rows must be an array');
  const columns = ACCOUNT_COLUMNS[table];
  const rows = (rec.rows as unknown[]).map((raw, i) => {
    if (typeof raw !== 'object' || raw === null) invalid(line, `rows[${i}] must be an object`);
    const row = raw as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const c of columns) {
      const v = row[c];
      if (v !== null && typeof v !== 'string' && typeof v !== 'number')
        invalid(line, `rows[${i}].${c} must be a string, number or null`);
      out[c] = v ?? null;
    }
    return out;
  });
  await repo.insertRows(ctx.db, table, rows);
}

function invalid(line: number, message: string): never {
  throw new AppError('INVALID_EXPORT', 400, `line ${line}: ${message}`);
}

function parseLine(text: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    invalid(line, 'is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(line, 'is not a JSON object');
  return value as Record<string, unknown>;
}

/** Whether a base64 float64 column holds a time no Date can hold (an older server let those in). */
function timeOutOfRange(column: unknown): boolean {
  if (typeof column !== 'string') return false; // parseBatch names the malformed column
  const bytes = Buffer.from(column, 'base64');
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    const t = bytes.readDoubleLE(i);
    if (t < 0 || t > LIMITS.maxTime) return true; // NaN (arrival time) compares false
  }
  return false;
}

/**
 * What no database here can store, found before anything is written: NUL characters and lone
 * surrogates in any text (PostgreSQL refuses NUL; SQLite servers took both) and point times
 * beyond what a Date holds. Base64 columns are left out of the text scan: they are checked as base64.
 */
function checkStorable(rec: Record<string, unknown>, line: number): void {
  const text = rec.type === 'points' ? { name: rec.name, metadata: rec.metadata } : rec;
  const bad = findBadText(text, rec.type === 'points' ? 'points' : String(rec.type));
  if (bad) invalid(line, `${bad.path} ${bad.message}; fix or remove that record and import again (nothing was imported)`);
  if (rec.type === 'points' && timeOutOfRange(rec.timesF64)) {
    invalid(
      line,
      `a point time is beyond ${LIMITS.maxTime} ms; fix or remove that record and import again (nothing was imported)`,
    );
  }
  if (rec.type === 'experiment') {
    // The MLflow fields too, so a malformed one stops the import before anything is written.
    mlflowRunOf(rec.mlflow, line);
    const workspace = rec.workspace as { mlflowTags?: unknown } | undefined;
    keyValues(workspace?.mlflowTags, line, 'workspace.mlflowTags');
  }
}

/**
 * Reads a whole export and throws INVALID_EXPORT for the first record this server could not
 * store, so `tora import` refuses a bad file up front instead of stopping halfway through it.
 */
export async function checkExportLines(lines: AsyncIterable<string>): Promise<void> {
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    if (raw.trim() === '') continue;
    checkStorable(parseLine(raw, lineNo), lineNo);
  }
}

function runInfoOf(v: unknown, line: number): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) invalid(line, 'runInfo must be an object of strings');
  for (const value of Object.values(v)) if (typeof value !== 'string') invalid(line, 'runInfo must be an object of strings');
  return v as Record<string, string>;
}

function keyValues(v: unknown, line: number, field: string): KeyValueRecord[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) invalid(line, `${field} must be an array of {key, value} strings`);
  return v.map((t: unknown, i) => {
    const kv = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
    if (typeof kv.key !== 'string' || typeof kv.value !== 'string') invalid(line, `${field}[${i}] must be {key, value} strings`);
    return { key: kv.key, value: kv.value };
  });
}

function epochMs(v: unknown, line: number, field: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) invalid(line, `${field} must be an integer (epoch ms) or null`);
  return v;
}

function mlflowRunOf(v: unknown, line: number): MlflowRunRecord | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) invalid(line, 'mlflow must be an object');
  const r = v as Record<string, unknown>;
  const tags = keyValues(r.tags, line, 'mlflow.tags');
  if (new Set(tags.map((t) => t.key)).size !== tags.length) invalid(line, 'mlflow.tags has a key twice');
  return { tags, endTime: epochMs(r.endTime, line, 'mlflow.endTime'), deletedAt: epochMs(r.deletedAt, line, 'mlflow.deletedAt') };
}

const str = (v: unknown, line: number, field: string): string => {
  if (typeof v !== 'string') invalid(line, `${field} must be a string`);
  return v;
};
const time = (v: unknown, line: number, field: string): number => {
  const ms = Date.parse(str(v, line, field));
  if (Number.isNaN(ms)) invalid(line, `${field} must be an ISO date`);
  return ms;
};

interface Target {
  userId: string;
  workspaceId: string;
}

/**
 * One import's state between its records: where experiments go, the ids they got here, who
 * ingests their points, and the exported times and references that are put back at the end
 * (ingest touches experiments and series).
 */
class ImportRun {
  readonly result: ImportResult = { experiments: 0, resumed: 0, points: 0, duplicatePoints: 0, files: 0 };
  /** The file whose `fileData` lines are being read. */
  private file: FileImport | null = null;
  /** Without accounts in the file everything lands in one workspace, as one user (resolved on first use). */
  private into: Target | null = null;
  /** With them, every experiment goes back to its own workspace, ingested as its owner. */
  private withAccounts = false;
  private readonly owners = new Map<string, string>(); // workspace → an owner, who ingests its points
  private readonly callers = new Map<string, Caller>(); // experiment id here → who imports it (whose access references follow)
  private readonly ids = new Map<string, string>(); // exported id → id here
  private readonly seriesTimes = new Map<string, { id: string; name: string; at: number }>();
  private readonly finals: { id: string; referenceId: string | null; updatedAt: number; lastActivityAt: number }[] = [];

  constructor(
    private readonly ctx: AppContext,
    private readonly target: ImportTarget,
    private readonly progress: TransferProgress,
  ) {}

  /** The user and workspace an export without accounts goes into: an editor's, checked once. */
  private async targetWorkspace(): Promise<Target> {
    if (this.into) return this.into;
    const { ctx, target } = this;
    if (!target.email)
      throw new AppError('VALIDATION_ERROR', 400, 'this export has no accounts: pass --email (and optionally --workspace)');
    const user = await userByEmail(ctx, target.email);
    const workspaceId =
      target.workspace !== undefined
        ? await resolveWorkspace(ctx, target.workspace, user.id)
        : ((await findUserById(ctx.db, user.id))?.default_workspace_id ?? null);
    if (!workspaceId)
      throw new AppError('WORKSPACE_NOT_FOUND', 404, `${target.email} has no default workspace; pass --workspace`);
    await requireRole(ctx.db, user.id, workspaceId, 'editor');
    this.into = { userId: user.id, workspaceId };
    return this.into;
  }

  private async ownerOf(workspaceId: string): Promise<string> {
    let owner = this.owners.get(workspaceId);
    if (!owner) {
      const found = await workspaceOwner(this.ctx.db, workspaceId);
      if (!found) throw new AppError('WORKSPACE_NOT_FOUND', 404, `workspace ${workspaceId} of the export has no owner here`);
      owner = found;
      this.owners.set(workspaceId, owner);
    }
    return owner;
  }

  /** An `accounts` record: one account table's rows, before any experiment. */
  async accounts(rec: Record<string, unknown>, line: number): Promise<void> {
    if (this.ids.size > 0) invalid(line, 'account records must come before the experiments');
    if (!this.withAccounts) await checkAccountsTarget(this.ctx, rec, line);
    this.withAccounts = true;
    await insertAccounts(this.ctx, rec, line);
    this.progress(`imported ${(rec.rows as unknown[]).length} ${String(rec.table).replace('_', ' ')}`);
  }

  /** An `experiment` record: inserted, or found from an earlier run of this import. */
  async experiment(r: ExperimentRecord, line: number): Promise<void> {
    const { ctx } = this;
    const exportedId = str(r.id, line, 'id');
    const { userId, workspaceId } = this.withAccounts
      ? { userId: await this.ownerOf(str(r.workspace?.id, line, 'workspace.id')), workspaceId: r.workspace.id }
      : await this.targetWorkspace();
    const updatedAt = time(r.updatedAt, line, 'updatedAt');
    const lastActivityAt = time(r.lastActivityAt, line, 'lastActivityAt');
    const mlflowRun = mlflowRunOf(r.mlflow, line);
    // The workspace's MLflow experiment tags, onto the workspace it lands in (a rerun sets the same again).
    for (const { key, value } of keyValues(r.workspace?.mlflowTags, line, 'workspace.mlflowTags')) {
      await mlflow.setExperimentTag(ctx.db, workspaceId, key, value);
    }
    const existing = await experiments.findExperiment(ctx.db, exportedId);
    if (existing && existing.workspaceId === workspaceId) {
      this.ids.set(exportedId, existing.id); // an earlier run of this import got here
      this.result.resumed++;
    } else {
      const id = existing ? ctx.newId() : exportedId;
      const createdBy = this.withAccounts ? (r.createdBy ?? null) : userId;
      const experiment = importedExperiment(r, line, { id, workspaceId, createdBy, updatedAt, lastActivityAt });
      await ctx.db.transaction().execute(async (trx) => {
        await experiments.insertExperiment(trx, experiment);
        if (mlflowRun) await mlflow.insertRunRecord(trx, id, mlflowRun);
      });
      this.ids.set(exportedId, id);
      this.result.experiments++;
    }
    const id = this.ids.get(exportedId)!;
    this.callers.set(id, { userId, via: 'cli' });
    this.finals.push({ id, referenceId: r.referenceId ?? null, updatedAt, lastActivityAt });
    this.progress(`imported experiment "${r.name}" (${id})`);
  }

  /** A `points` record: one chunk of one series, through the batch API's parser and ingest. */
  async points(r: PointsRecord, line: number): Promise<void> {
    const id = this.ids.get(str(r.experimentId, line, 'experimentId'));
    if (!id) invalid(line, `points of experiment ${r.experimentId} come before its experiment line`);
    if (!Number.isInteger(r.chunk) || r.chunk < 0) invalid(line, 'chunk must be a non-negative integer');
    const name = str(r.name, line, 'name');
    const column = { stepsF64: r.stepsF64, valuesF64: r.valuesF64, timesF64: r.timesF64, metadata: r.metadata };
    let batch;
    try {
      batch = parseBatch({ batchId: chunkBatchId(id, name, r.chunk), series: { [name]: column } }, undefined);
    } catch (err) {
      if (err instanceof AppError) invalid(line, err.message);
      throw err;
    }
    const at = time(r.seriesUpdatedAt, line, 'seriesUpdatedAt');
    // Access was settled per experiment above; appendBatch (the batch API's ingest without its
    // access check) also takes points of runs imported as deleted through MLflow, which Tora's routes hide.
    const { ctx } = this;
    const done = await transactionWithRetry(ctx.db, (trx) => appendBatch(trx, ctx, id, batch, ctx.clock()));
    this.seriesTimes.set(`${id}\u0000${name}`, { id, name, at });
    if (done.duplicate) this.result.duplicatePoints += batch.count;
    else this.result.points += batch.count;
  }

  /** A `file` record: the file's chunks follow it. */
  async fileStart(r: FileRecord, line: number): Promise<void> {
    await this.fileEnd(line);
    const id = this.ids.get(str(r.experimentId, line, 'experimentId'));
    if (!id) invalid(line, `a file of experiment ${r.experimentId} comes before its experiment line`);
    str(r.path, line, 'path');
    str(r.sha256, line, 'sha256');
    str(r.contentType, line, 'contentType');
    if (!Number.isSafeInteger(r.size) || r.size < 0) invalid(line, 'size must be a non-negative integer');
    const row = await experiments.findExperiment(this.ctx.db, id);
    if (!row) invalid(line, `experiment ${r.experimentId} is gone`);
    this.file = new FileImport(this.ctx, { workspaceId: row.workspaceId, experimentId: id }, r);
  }

  /** A `fileData` record: the next bytes of the current file. */
  async fileData(r: FileDataRecord, line: number): Promise<void> {
    if (!this.file) invalid(line, 'file data without a file line before it');
    const bytes = Buffer.from(str(r.data, line, 'data'), 'base64');
    if (this.file.complete && bytes.length > 0)
      invalid(line, `more bytes than the ${this.file.record.size} of ${this.file.record.path}`);
    await this.file.write(bytes);
  }

  /** Ends the file being read, if any, and checks its size and SHA-256. */
  async fileEnd(line: number): Promise<void> {
    const file = this.file;
    if (!file) return;
    this.file = null;
    const problem = await file.finish();
    if (problem !== null) invalid(line, problem);
    this.result.files++;
  }

  /** Drops a file left half-read when the import stops. */
  async abandon(): Promise<void> {
    await this.file?.abandon();
    this.file = null;
  }

  /** Puts back the exported update times of series and experiments, and their references. */
  async restoreTimesAndReferences(): Promise<void> {
    const { ctx } = this;
    for (const { id, name, at } of this.seriesTimes.values()) await setSeriesUpdatedAt(ctx.db, id, name, at);
    for (const { id, referenceId, updatedAt, lastActivityAt } of this.finals) {
      await experiments.updateExperiment(ctx.db, id, {
        updatedAt,
        lastActivityAt,
        referenceId: await referenceHere(ctx, referenceId, this.ids, this.callers.get(id)!.userId, id),
      });
    }
  }

  /** Refuses a file without its end record, or with other totals than it announces. */
  checkEnd(end: Record<string, unknown> | null): void {
    const { result } = this;
    if (!end) {
      throw new AppError(
        'INVALID_EXPORT',
        400,
        `the file ends without its end record (truncated?): ${this.finals.length} experiments and ${result.points} points were imported; ` +
          'import a complete export again to finish (already imported points are not duplicated)',
      );
    }
    const expected = Number(end.points);
    if (Number.isFinite(expected) && result.points + result.duplicatePoints !== expected) {
      throw new AppError(
        'INVALID_EXPORT',
        400,
        `the end record announces ${expected} points but the file holds ${result.points + result.duplicatePoints}`,
      );
    }
    if (typeof end.files === 'number' && end.files !== result.files) {
      throw new AppError('INVALID_EXPORT', 400, `the end record announces ${end.files} files but the file holds ${result.files}`);
    }
  }
}

/** An exported experiment as this server stores it (its id, workspace and creator decided by the import). */
function importedExperiment(
  r: ExperimentRecord,
  line: number,
  here: { id: string; workspaceId: string; createdBy: string | null; updatedAt: number; lastActivityAt: number },
): Experiment {
  const hyperparams = normalizeHyperparams(r.hyperparams, `line ${line}: hyperparams`);
  const tags = Array.isArray(r.tags) ? r.tags.map((t) => str(t, line, 'tags[]')) : [];
  const status = str(r.status, line, 'status');
  if (!isStatus(status)) invalid(line, `unknown status "${status}"`);
  return {
    id: here.id,
    workspaceId: here.workspaceId,
    name: str(r.name, line, 'name'),
    description: typeof r.description === 'string' ? r.description : '',
    hyperparams,
    tags,
    visibility: str(r.visibility, line, 'visibility'),
    status,
    referenceId: null,
    group: r.group === undefined || r.group === null ? null : str(r.group, line, 'group'),
    runInfo: runInfoOf(r.runInfo, line),
    createdBy: here.createdBy,
    createdAt: time(r.createdAt, line, 'createdAt'),
    updatedAt: here.updatedAt,
    lastActivityAt: here.lastActivityAt,
  };
}

function checkHeader(rec: Record<string, unknown>, line: number): void {
  if (rec.type !== FORMAT) invalid(line, `is not a Tora export (expected a "${FORMAT}" header line)`);
  if (typeof rec.version !== 'number' || !READABLE_VERSIONS.includes(rec.version))
    invalid(line, `export format version ${String(rec.version)} is not supported`);
}

/**
 * Imports an export into one workspace, as the given user (an editor there at least). Keeps
 * experiment ids unless one is taken by an experiment of another workspace; keeps names, times,
 * statuses and references (when the referenced experiment is imported too or already there).
 */
export async function importLines(
  ctx: AppContext,
  lines: AsyncIterable<string>,
  target: ImportTarget,
  progress: TransferProgress,
): Promise<ImportResult> {
  const run = new ImportRun(ctx, target, progress);
  try {
    return await importRecords(run, lines);
  } finally {
    await run.abandon();
  }
}

async function importRecords(run: ImportRun, lines: AsyncIterable<string>): Promise<ImportResult> {
  let lineNo = 0;
  let header = false;
  let end: Record<string, unknown> | null = null;
  for await (const raw of lines) {
    lineNo++;
    if (raw.trim() === '') continue;
    if (end) invalid(lineNo, 'comes after the end record');
    const rec = parseLine(raw, lineNo);
    checkStorable(rec, lineNo);
    if (rec.type === 'fileData') {
      await run.fileData(rec as unknown as FileDataRecord, lineNo);
      continue;
    }
    if (header) await run.fileEnd(lineNo);
    if (!header) {
      checkHeader(rec, lineNo);
      header = true;
    } else if (rec.type === 'accounts') {
      await run.accounts(rec, lineNo);
    } else if (rec.type === 'experiment') {
      await run.experiment(rec as unknown as ExperimentRecord, lineNo);
    } else if (rec.type === 'points') {
      await run.points(rec as unknown as PointsRecord, lineNo);
    } else if (rec.type === 'file') {
      await run.fileStart(rec as unknown as FileRecord, lineNo);
    } else if (rec.type === 'end') {
      end = rec;
    } else {
      invalid(lineNo, `unknown record type ${JSON.stringify(rec.type)}`);
    }
  }
  if (!header) throw new AppError('INVALID_EXPORT', 400, 'the file is empty');
  await run.restoreTimesAndReferences();
  run.checkEnd(end);
  return run.result;
}
