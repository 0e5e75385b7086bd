import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { Role } from '../../db/schema.js';
import { defaultWorkspaceOf, isDefaultWorkspace } from '../auth/auth.service.js';
import { requireRole } from '../workspaces/access.js';
import {
  createWorkspace,
  renameWorkspace,
  setTrashed,
  workspacesWithTrash,
  workspaceWithTrash,
  type WorkspaceWithTrash,
} from '../workspaces/workspaces.service.js';
import { doesNotExist, invalidParameter, MlflowError } from './mlflow.errors.js';
import { FilterError, type TrashView } from '../experiments/filter.js';
import { experimentMatcher } from './mlflow.experiments.filter.js';
import * as repo from './mlflow.repository.js';
import { groupBy } from '../../lib/group-by.js';
import { MLFLOW_LIMITS } from '../../lib/limits.js';
import type { KeyValue } from './mlflow.request.js';
import type { MlflowExperiment } from './mlflow.schemas.js';

/** An MLflow experiment is a Tora workspace; "0", MLflow's default experiment, is the caller's default workspace. */
export type ExperimentDto = Static<typeof MlflowExperiment>;

export const DEFAULT_EXPERIMENT_ID = '0';

function toExperimentDto(ws: WorkspaceWithTrash, tags: readonly KeyValue[]): ExperimentDto {
  return {
    experiment_id: ws.id,
    name: ws.name,
    artifact_location: `mlflow-artifacts:/${ws.id}`,
    lifecycle_stage: ws.deleted_at === null ? 'active' : 'deleted',
    creation_time: ws.created_at,
    last_update_time: ws.updated_at,
    tags: tags.map(({ key, value }) => ({ key, value })),
  };
}

/** The workspace an experiment id names, checked against the caller's role (non-members: 404). */
export async function workspaceFor(ctx: AppContext, caller: Caller, experimentId: string, min: Role): Promise<string> {
  let id = experimentId;
  if (id === DEFAULT_EXPERIMENT_ID) {
    const defaultId = await defaultWorkspaceOf(ctx, caller.userId);
    if (defaultId === null) throw doesNotExist('You have no default workspace, so experiment 0 does not exist');
    id = defaultId;
  }
  await requireRole(ctx.db, caller.userId, id, min, {
    includeTrashed: true,
    missing: { code: 'WORKSPACE_NOT_FOUND', what: `Experiment with id '${experimentId}'` },
  });
  return id;
}

async function dto(ctx: AppContext, workspaceId: string): Promise<ExperimentDto> {
  const ws = await workspaceWithTrash(ctx, workspaceId);
  if (!ws) throw doesNotExist(`No Experiment with id=${workspaceId} exists`);
  return toExperimentDto(ws, await repo.experimentTags(ctx.db, [workspaceId]));
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw invalidParameter("Invalid experiment name: ''");
  if (trimmed.length > MLFLOW_LIMITS.experimentNameLength) {
    throw invalidParameter(`Experiment name exceeds the maximum length of ${MLFLOW_LIMITS.experimentNameLength} characters`);
  }
  return trimmed;
}

export async function createExperiment(
  ctx: AppContext,
  caller: Caller,
  input: { name: string; tags: KeyValue[] },
): Promise<string> {
  const name = checkName(input.name);
  const existing = (await workspacesWithTrash(ctx, caller.userId)).find((w) => w.name === name);
  if (existing) {
    throw new MlflowError(
      'RESOURCE_ALREADY_EXISTS',
      400,
      `Experiment '${name}' already exists${existing.deleted_at === null ? '' : ' in deleted state. Restore it or choose another name'}.`,
    );
  }
  const ws = await createWorkspace(ctx, caller, { name }, async (trx, id) => {
    for (const t of input.tags) await repo.setExperimentTag(trx, id, t.key, t.value);
  });
  return ws.id;
}

export async function getExperiment(ctx: AppContext, caller: Caller, experimentId: string): Promise<ExperimentDto> {
  return dto(ctx, await workspaceFor(ctx, caller, experimentId, 'viewer'));
}

/** Among the workspaces the caller can read: the active one of that name (oldest first). */
export async function getExperimentByName(ctx: AppContext, caller: Caller, name: string): Promise<ExperimentDto> {
  const matches = (await workspacesWithTrash(ctx, caller.userId)).filter((w) => w.name === name);
  const found = matches.find((w) => w.deleted_at === null) ?? matches[0];
  if (!found) throw doesNotExist(`Could not find experiment with name '${name}'`);
  return dto(ctx, found.id);
}

export async function searchExperiments(
  ctx: AppContext,
  caller: Caller,
  q: { view: TrashView; filter?: string; maxResults: number; offset: number; orderBy: string[] },
): Promise<{ experiments: ExperimentDto[]; nextOffset: number | null }> {
  const rows = await workspacesWithTrash(ctx, caller.userId);
  const tags = await repo.experimentTags(
    ctx.db,
    rows.map((r) => r.id),
  );
  const matcher = experimentMatcher(q.filter);
  const tagsOf = groupBy(tags, (t) => t.workspace_id);
  let all = rows
    .filter((r) => q.view === 'all' || (q.view === 'live') === (r.deleted_at === null))
    .map((r) => toExperimentDto(r, tagsOf.get(r.id) ?? []))
    .filter(matcher);
  const order = q.orderBy[0]?.trim();
  if (order) {
    const m = /^(?:attributes?\.)?(name|experiment_id|creation_time|last_update_time)(\s+(asc|desc))?$/i.exec(order);
    if (!m) throw new FilterError(`Invalid order_by clause '${order}'`);
    const key = m[1]!.toLowerCase() as 'name' | 'experiment_id' | 'creation_time' | 'last_update_time';
    const sign = m[3]?.toLowerCase() === 'desc' ? -1 : 1;
    all = all.sort((a, b) => (a[key] < b[key] ? -sign : a[key] > b[key] ? sign : 0));
  } else {
    all = all.sort((a, b) => b.creation_time - a.creation_time);
  }
  const page = all.slice(q.offset, q.offset + q.maxResults);
  return { experiments: page, nextOffset: q.offset + q.maxResults < all.length ? q.offset + q.maxResults : null };
}

export async function renameExperiment(ctx: AppContext, caller: Caller, experimentId: string, newName: string): Promise<void> {
  // Renaming a workspace is the owner's right in Tora.
  const id = await workspaceFor(ctx, caller, experimentId, 'owner');
  await renameWorkspace(ctx, id, checkName(newName));
}

/** MLflow's delete is a soft delete (restore brings it back); in Tora, the owner's right. */
export async function setExperimentDeleted(
  ctx: AppContext,
  caller: Caller,
  experimentId: string,
  deleted: boolean,
): Promise<void> {
  const id = await workspaceFor(ctx, caller, experimentId, 'owner');
  // Tora hides a deleted workspace from its own routes too; a user's default workspace must stay (as MLflow keeps experiment 0).
  if (deleted && (await isDefaultWorkspace(ctx, id))) {
    throw invalidParameter(`Cannot delete the default experiment '${experimentId}': it is a user's default workspace`);
  }
  await setTrashed(ctx, id, deleted);
}

export async function setExperimentTag(ctx: AppContext, caller: Caller, experimentId: string, tag: KeyValue): Promise<void> {
  const id = await workspaceFor(ctx, caller, experimentId, 'editor');
  await repo.setExperimentTag(ctx.db, id, tag.key, tag.value);
}

/** MLflow's `experiments/delete-experiment-tag`: a missing tag is MLflow's 404. */
export async function deleteExperimentTag(ctx: AppContext, caller: Caller, experimentId: string, key: string): Promise<void> {
  const id = await workspaceFor(ctx, caller, experimentId, 'editor');
  if ((await repo.deleteExperimentTag(ctx.db, id, key)) === 0) {
    throw doesNotExist(`No tag with name: ${key} in experiment with id ${experimentId}`);
  }
}
