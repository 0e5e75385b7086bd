import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { MlflowModelVersionsTable, MlflowRegisteredModelsTable } from '../../db/schema.js';
import { badRequest, notFound } from '../../errors.js';
import { findExperiment } from '../experiments/experiments.rows.service.js';
import { readableWorkspaceIds, requireRole } from '../workspaces/access.js';
import * as repo from './mlflow.registry.repository.js';
import type { KeyValue } from './mlflow.request.js';
import type { RegisteredModelDto as ModelSchema, RegisteredModelList } from './mlflow.registry.tora.schemas.js';

/**
 * The registry in Tora's shape, for the web app's Models page: a workspace's registered models with
 * their versions (the source run named where the caller can read it) and aliases, which editors
 * set. The MLflow routes (mlflow.registry.service.ts) write the same rows.
 */

type ModelDto = Static<typeof ModelSchema>;
type Alias = { alias: string; version: string };

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

async function toDtos(
  ctx: AppContext,
  caller: Caller,
  models: readonly MlflowRegisteredModelsTable[],
  versions: readonly MlflowModelVersionsTable[],
): Promise<ModelDto[]> {
  const readable = new Set(await readableWorkspaceIds(ctx.db, caller.userId));
  const runNames = new Map<string, string | null>();
  for (const runId of new Set(versions.map((v) => v.run_id).filter((id): id is string => id !== null))) {
    const run = await findExperiment(ctx.db, runId);
    runNames.set(runId, run && readable.has(run.workspaceId) ? run.name : null);
  }
  return models.map((m) => {
    const aliases = JSON.parse(m.aliases) as Alias[];
    return {
      name: m.name,
      description: m.description,
      tags: JSON.parse(m.tags) as KeyValue[],
      aliases: aliases.map((a) => ({ alias: a.alias, version: Number(a.version) })),
      versions: versions
        .filter((v) => v.registered_model_id === m.id)
        .map((v) => ({
          version: v.version,
          stage: v.stage,
          source: v.source,
          runId: v.run_id,
          runName: v.run_id === null ? null : (runNames.get(v.run_id) ?? null),
          description: v.description,
          tags: JSON.parse(v.tags) as KeyValue[],
          aliases: aliases.filter((a) => a.version === String(v.version)).map((a) => a.alias),
          createdAt: iso(v.created_at),
        })),
      createdAt: iso(m.created_at),
      updatedAt: iso(m.updated_at),
    };
  });
}

/** The registered models of a workspace, by name; viewers and up. */
export async function listWorkspaceModels(
  ctx: AppContext,
  caller: Caller,
  workspaceId: string,
): Promise<Static<typeof RegisteredModelList>> {
  await requireRole(ctx.db, caller.userId, workspaceId, 'viewer');
  const models = await repo.modelsIn(ctx.db, [workspaceId]);
  const versions = await repo.versionsOf(
    ctx.db,
    models.map((m) => m.id),
  );
  return { models: await toDtos(ctx, caller, models, versions) };
}

/** Points an alias at a version (`version` null removes it); editors only. */
export async function setWorkspaceModelAlias(
  ctx: AppContext,
  caller: Caller,
  input: { workspaceId: string; name: string; alias: string; version: number | null },
): Promise<ModelDto> {
  await requireRole(ctx.db, caller.userId, input.workspaceId, 'editor');
  const [model] = await repo.modelsIn(ctx.db, [input.workspaceId], input.name);
  if (!model) throw notFound('NOT_FOUND', 'Registered model');
  if (input.alias.toLowerCase() === 'latest' || /^[vV]\d+$/.test(input.alias)) {
    throw badRequest(`The alias '${input.alias}' is reserved by MLflow`, [{ path: 'params.alias', message: 'reserved' }]);
  }
  const versions = await repo.versionsOf(ctx.db, [model.id]);
  if (input.version !== null && !versions.some((v) => v.version === input.version)) {
    throw badRequest(`${input.name} has no version ${input.version}`, [{ path: 'body.version', message: 'no such version' }]);
  }
  await ctx.db.transaction().execute(async (trx) => {
    const row = (await repo.lockModel(trx, model.id, ctx.dialect.rowLocks))!;
    const aliases = (JSON.parse(row.aliases) as Alias[]).filter((a) => a.alias !== input.alias);
    if (input.version !== null) aliases.push({ alias: input.alias, version: String(input.version) });
    await repo.updateModel(trx, model.id, { aliases: JSON.stringify(aliases), updated_at: ctx.clock() });
  });
  const fresh = (await repo.lockModel(ctx.db, model.id, false))!;
  return (await toDtos(ctx, caller, [fresh], versions))[0]!;
}
