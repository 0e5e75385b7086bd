import type { Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { BlockFormat } from '../../config.js';
import type { AppContext, Caller } from '../../context.js';
import type { DB } from '../../db/schema.js';
import { transactionWithRetry } from '../../db/retry.js';
import { AppError } from '../../errors.js';
import { touchExperiment } from '../experiments/experiments.repository.js';
import { experimentForCaller } from '../experiments/experiments.service.js';
import {
  BLOCK_POINTS,
  SMALL_BLOCK_POINTS,
  concat,
  decode,
  encode,
  metadataText,
  slice,
  summarize,
  type Points,
} from './blocks.js';
import { sameContent, type ParsedBatch, type SeriesInput } from './ingest.js';
import { encodeWindows, summarizeWindowSums, summarizeWindows } from './windows.js';
import * as repo from './metrics.repository.js';
import type { BatchResult } from './metrics.schemas.js';

/** `duplicate`: this batchId was already committed, and nothing new was written. */
export type IngestResult = Static<typeof BatchResult>;

/**
 * Fills the batch's missing steps (next step of the series) and times (now) in place: the parsed
 * columns are the points that go into blocks. Safe to run again when a transaction is retried:
 * the missing steps are refilled from their recorded places, the times get the same `now`.
 */
export function fillMissing(input: SeriesInput, lastStep: number, now: number): Points {
  const { steps, times, missingSteps } = input;
  if (missingSteps !== null) {
    let next = lastStep + 1;
    for (let i = 0, j = 0; i < steps.length; i++) {
      if (missingSteps[j] === i) {
        steps[i] = next;
        j++;
      }
      if (steps[i]! + 1 > next) next = steps[i]! + 1;
    }
  }
  for (let i = 0; i < times.length; i++) if (Number.isNaN(times[i]!)) times[i] = now;
  return input;
}

function blockRow(seriesId: number, seq: number, p: Points, format: BlockFormat): repo.BlockRow {
  const windows = summarizeWindows(p);
  return {
    series_id: seriesId,
    seq,
    ...summarize(p),
    data: encode(p, format),
    metadata: metadataText(p),
    windows: encodeWindows(windows),
    window_sums: encodeWindows(summarizeWindowSums(p, windows)),
  };
}

async function appendToSeries(
  db: Kysely<DB>,
  series: repo.SeriesRow,
  points: Points,
  now: number,
  format: BlockFormat,
): Promise<void> {
  const blocks: repo.BlockRow[] = [];
  let rest = points;
  let seq = series.block_count;
  // Top up a small trailing block first, so many tiny batches do not leave many tiny blocks.
  if (seq > 0 && rest.values.length < BLOCK_POINTS) {
    const last = await repo.findBlock(db, series.id, seq - 1);
    if (last && last.point_count < SMALL_BLOCK_POINTS) {
      const take = Math.min(rest.values.length, BLOCK_POINTS - last.point_count);
      const merged = concat(decode(last.data, last.metadata), slice(rest, 0, take));
      await repo.replaceBlock(db, blockRow(series.id, seq - 1, merged, format));
      rest = slice(rest, take, rest.values.length);
    }
  }
  for (let start = 0; start < rest.values.length; start += BLOCK_POINTS) {
    blocks.push(blockRow(series.id, seq++, slice(rest, start, Math.min(start + BLOCK_POINTS, rest.values.length)), format));
  }
  await repo.insertBlocks(db, blocks);

  const s = summarize(points);
  const wasEmpty = series.point_count === 0;
  const updated: repo.SeriesRow = {
    ...series,
    point_count: series.point_count + points.values.length,
    block_count: seq,
    first_step: wasEmpty ? s.step_min : Math.min(series.first_step, s.step_min),
    last_step: wasEmpty ? s.step_max : Math.max(series.last_step, s.step_max),
    last_value: wasEmpty || s.last_step >= series.last_step ? s.last_value : series.last_value,
    min_value:
      s.min_value === null ? series.min_value : series.min_value === null ? s.min_value : Math.min(series.min_value, s.min_value),
    max_value:
      s.max_value === null ? series.max_value : series.max_value === null ? s.max_value : Math.max(series.max_value, s.max_value),
    nan_count: series.nan_count + s.nan_count,
    updated_at: now,
  };
  await repo.updateSeries(db, updated);
}

/**
 * Appends a batch to an experiment, all or nothing: it returns only after the commit, and a
 * batchId already committed makes the call a no-op that reports the original count.
 */
export async function ingestBatch(
  ctx: AppContext,
  caller: Caller,
  experimentId: string,
  batch: ParsedBatch,
): Promise<IngestResult> {
  await experimentForCaller(ctx, caller, experimentId, 'editor');
  const now = ctx.clock();
  return transactionWithRetry(ctx.db, (trx) => appendBatch(trx, ctx, experimentId, batch, now));
}

/**
 * The ingest itself, inside the caller's transaction (access already checked): claims the batch
 * id, appends the points as blocks and touches the experiment. Other writers of points (the
 * MLflow routes) call it so that their params, tags and points commit together.
 */
export async function appendBatch(
  trx: Kysely<DB>,
  ctx: AppContext,
  experimentId: string,
  batch: ParsedBatch,
  now: number,
): Promise<IngestResult> {
  if (batch.batchId !== null) {
    const claimed = await repo.claimBatch(trx, {
      experiment_id: experimentId,
      batch_id: batch.batchId,
      point_count: batch.count,
      fingerprint: batch.fingerprint,
      created_at: now,
    });
    if (!claimed) {
      const previous = await repo.findBatch(trx, experimentId, batch.batchId);
      if (previous?.fingerprint && !sameContent(previous.fingerprint, batch)) {
        throw new AppError(
          'BATCH_ID_CONFLICT',
          409,
          `batchId "${batch.batchId}" was already committed with different points, times or metadata; ` +
            'use a new batchId for new points',
        );
      }
      return { success: true, count: previous?.point_count ?? batch.count, duplicate: true };
    }
  }
  if (batch.count > 0) {
    // One global order (by name here, by row id in lockSeries) so concurrent batches never deadlock.
    const names = [...batch.series.keys()].filter((n) => (batch.series.get(n)?.values.length ?? 0) > 0).sort();
    const seriesRows = await repo.lockSeries(trx, ctx.dialect, experimentId, names, now);
    for (const name of names) {
      const series = seriesRows.get(name);
      const input = batch.series.get(name);
      if (!series || !input) throw new Error(`series ${name} vanished inside its transaction`);
      await appendToSeries(trx, series, fillMissing(input, series.last_step, now), now, ctx.config.blockFormat);
    }
  }
  await touchExperiment(trx, experimentId, now);
  return { success: true, count: batch.count, duplicate: false };
}
