import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import { AppError, badRequest } from '../../errors.js';
import { experimentForCaller } from '../experiments/experiments.service.js';
import { runTagsOf } from '../experiments/experiments.rows.service.js';
import * as repo from './mlflow.repository.js';
import type { KvTagList } from './mlflow.kv-tags.schemas.js';

/**
 * An experiment's MLflow key/value tags in Tora's shape (its page's Tags panel): the same rows
 * `mlflow.set_tag` writes and `runs/get` reads. `mlflow.*` tags are MLflow's own (user, source,
 * run name…): listed, never written here, so the run's info stays what MLflow recorded.
 */

type TagList = Static<typeof KvTagList>;

const isSystem = (key: string): boolean => key.startsWith('mlflow.');

async function tagsOf(ctx: AppContext, experimentId: string): Promise<TagList> {
  const rows = await runTagsOf(ctx.db, [experimentId]);
  return { tags: rows.map(({ key, value }) => ({ key, value, system: isSystem(key) })) };
}

function checkWritable(key: string): void {
  if (isSystem(key)) {
    throw badRequest(`Tag "${key}" is one of MLflow's own (mlflow.*); it cannot be set or deleted here`, [
      { path: 'params.key', message: 'mlflow.* tags are read-only' },
    ]);
  }
  if (key.trim() === '' || /[\u0000-\u001f\u007f]/.test(key)) {
    throw badRequest('A tag key must not be blank or hold control characters', [{ path: 'params.key', message: 'invalid' }]);
  }
}

/** Viewers and up. */
export async function listKvTags(ctx: AppContext, caller: Caller, experimentId: string): Promise<TagList> {
  const { row } = await experimentForCaller(ctx, caller, experimentId, 'viewer');
  return tagsOf(ctx, row.id);
}

/**
 * Sets one tag (added or changed); editors only.
 *
 * @example
 *   await setKvTag(ctx, caller, { experimentId, key: 'stage', value: 'baseline' });
 */
export async function setKvTag(
  ctx: AppContext,
  caller: Caller,
  input: { experimentId: string; key: string; value: string },
): Promise<TagList> {
  const { row } = await experimentForCaller(ctx, caller, input.experimentId, 'editor');
  checkWritable(input.key);
  await repo.setRunTags(ctx.db, row.id, [{ key: input.key, value: input.value }]);
  return tagsOf(ctx, row.id);
}

/** Deletes one tag; editors only; a tag the run lacks is a 404. */
export async function deleteKvTag(ctx: AppContext, caller: Caller, experimentId: string, key: string): Promise<TagList> {
  const { row } = await experimentForCaller(ctx, caller, experimentId, 'editor');
  checkWritable(key);
  if ((await repo.deleteRunTag(ctx.db, row.id, key)) === 0) {
    throw new AppError('TAG_NOT_FOUND', 404, `This run has no tag "${key}"`);
  }
  return tagsOf(ctx, row.id);
}
