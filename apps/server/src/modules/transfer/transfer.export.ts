/**
 * `tora export`: experiments (and with `--accounts` the whole server) as the JSON lines of
 * transfer.format.ts, read block by block so memory stays flat whatever the size.
 */
import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';
import { iso } from '../../lib/schemas.js';
import type { Experiment } from '../experiments/experiment.js';
import { selectExperiments } from '../experiments/experiments.repository.js';
import { concat, decode, type Points } from '../metrics/blocks.js';
import * as metrics from '../metrics/metrics.repository.js';
import * as mlflow from '../mlflow/mlflow.repository.js';
import { findWorkspace } from '../workspaces/workspaces.repository.js';
import {
  ACCOUNT_TABLES,
  CHUNK_POINTS,
  FORMAT,
  FORMAT_VERSION,
  type ExperimentRecord,
  type PointsRecord,
  type TransferProgress,
} from './transfer.format.js';
import { exportFileLines } from './transfer.files.js';
import * as repo from './transfer.repository.js';
import { resolveWorkspace } from './transfer.workspace.js';

export interface ExportFilter {
  /** A workspace id or name. */
  workspace?: string;
  experimentIds?: readonly string[];
  /** Also users (with password hashes), workspaces, members, API keys (hashes) and metric directions. */
  accounts?: boolean;
  /** Leave the runs' files out (they can be most of an export's size). */
  noFiles?: boolean;
}

const f64 = (a: Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** A series' points in chunks of at least CHUNK_POINTS (the last may be smaller), in order. */
async function* chunksOf(ctx: AppContext, seriesId: number): AsyncGenerator<Points> {
  let pending: Points[] = [];
  let pendingPoints = 0;
  for (let seq = 0; ;) {
    const blocks = await metrics.blocksFrom(ctx.db, seriesId, seq, 16);
    for (const block of blocks) {
      const p = decode(block.data, block.metadata);
      pending.push(p);
      pendingPoints += p.values.length;
      seq = block.seq + 1;
      if (pendingPoints >= CHUNK_POINTS) {
        yield concat(...pending);
        pending = [];
        pendingPoints = 0;
      }
    }
    if (blocks.length < 16) break;
  }
  if (pendingPoints > 0) yield concat(...pending);
}

function pointsLine(experimentId: string, series: metrics.SeriesRow, chunk: number, p: Points): string {
  const record: PointsRecord = {
    type: 'points',
    experimentId,
    name: series.name,
    chunk,
    seriesUpdatedAt: iso(series.updated_at)!,
    stepsF64: f64(p.steps),
    valuesF64: f64(p.values),
    timesF64: f64(p.times),
  };
  if (p.metadata) record.metadata = p.metadata.map((m) => (m === null ? null : (JSON.parse(m) as unknown)));
  return JSON.stringify(record);
}

async function experimentsToExport(ctx: AppContext, filter: ExportFilter): Promise<Experiment[]> {
  const workspaceId = filter.workspace === undefined ? undefined : await resolveWorkspace(ctx, filter.workspace);
  const rows = await selectExperiments(ctx.db, { workspaceId, experimentIds: filter.experimentIds });
  const missing = (filter.experimentIds ?? []).filter((id) => !rows.some((r) => r.id === id));
  if (missing.length > 0) throw new AppError('EXPERIMENT_NOT_FOUND', 404, `No experiment with id ${missing.join(', ')}`);
  return rows;
}

/** The export file, line by line (each without its newline). */
export async function* exportLines(ctx: AppContext, filter: ExportFilter, progress: TransferProgress): AsyncGenerator<string> {
  if (filter.accounts && (filter.workspace !== undefined || filter.experimentIds?.length)) {
    throw new AppError('VALIDATION_ERROR', 400, '--accounts exports the whole server; drop --workspace and --experiment');
  }
  const rows = await experimentsToExport(ctx, filter);
  yield JSON.stringify({ type: FORMAT, version: FORMAT_VERSION, exportedAt: new Date(ctx.clock()).toISOString() });
  if (filter.accounts) {
    for (const table of ACCOUNT_TABLES) {
      const tableRows = await repo.allRows(ctx.db, table);
      yield JSON.stringify({ type: 'accounts', table, rows: tableRows });
      progress(`exported ${tableRows.length} ${table.replace('_', ' ')}`);
    }
  }
  const workspaces = new Map<string, ExperimentRecord['workspace']>();
  let points = 0;
  let files = 0;
  for (const [i, row] of rows.entries()) {
    let workspace = workspaces.get(row.workspaceId);
    if (!workspace) {
      const mlflowTags = await mlflow.workspaceTags(ctx.db, row.workspaceId);
      workspace = { id: row.workspaceId, name: (await findWorkspace(ctx.db, row.workspaceId))?.name ?? '' };
      if (mlflowTags.length > 0) workspace.mlflowTags = mlflowTags;
      workspaces.set(row.workspaceId, workspace);
    }
    const record: ExperimentRecord = {
      type: 'experiment',
      id: row.id,
      name: row.name,
      description: row.description,
      hyperparams: row.hyperparams,
      tags: row.tags,
      visibility: row.visibility,
      status: row.status,
      referenceId: row.referenceId,
      group: row.group,
      runInfo: row.runInfo,
      workspace,
      createdBy: row.createdBy,
      createdAt: iso(row.createdAt)!,
      updatedAt: iso(row.updatedAt)!,
      lastActivityAt: iso(row.lastActivityAt)!,
    };
    const mlflowRun = await mlflow.runRecord(ctx.db, row.id);
    if (mlflowRun) record.mlflow = mlflowRun;
    yield JSON.stringify(record);
    let experimentPoints = 0;
    for (const series of await metrics.listSeries(ctx.db, row.id)) {
      let chunk = 0;
      for await (const p of chunksOf(ctx, series.id)) {
        yield pointsLine(row.id, series, chunk++, p);
        experimentPoints += p.values.length;
      }
    }
    points += experimentPoints;
    let experimentFiles = 0;
    if (!filter.noFiles) {
      for await (const line of exportFileLines(ctx, row.workspaceId, row.id)) {
        if (line.startsWith('{"type":"file",')) experimentFiles++;
        yield line;
      }
    }
    files += experimentFiles;
    progress(
      `exported ${i + 1}/${rows.length} experiments: "${row.name}" (${experimentPoints.toLocaleString('en-US')} points, ${experimentFiles} files)`,
    );
  }
  yield JSON.stringify({ type: 'end', experiments: rows.length, points, files });
}
