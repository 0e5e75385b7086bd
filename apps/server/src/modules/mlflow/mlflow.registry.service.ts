import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { MlflowModelVersionsTable, MlflowRegisteredModelsTable, Role } from '../../db/schema.js';
import { MLFLOW_LIMITS as L } from '../../lib/limits.js';
import { readableWorkspaceIds, requireRole, roleIn, roleAtLeast } from '../workspaces/access.js';
import { MlflowError, doesNotExist, invalidParameter } from './mlflow.errors.js';
import { DEFAULT_EXPERIMENT_ID, workspaceFor } from './mlflow.experiments.service.js';
import {
  addModelVersionTag,
  getLoggedModel,
  modelForCaller as loggedModelForCaller,
  sourceRunIdOf,
} from './mlflow.models.service.js';
import { matches, parseRegistryFilter } from './mlflow.registry.filter.js';
import { checkVersionSource } from './mlflow.registry.source.js';
import * as repo from './mlflow.registry.repository.js';
import type { KeyValue } from './mlflow.request.js';
import { encodeOffset } from '../../lib/page-token.js';
import { decodeToken, runForCaller } from './mlflow.runs.service.js';
import type { ModelVersion, RegisteredModel } from './mlflow.registry.schemas.js';

/**
 * MLflow's model registry. A registered model lives in a workspace, so access follows the
 * workspace (viewers read, editors write, non-members get MLflow's 404). MLflow names models
 * server-wide; here a name is unique among the models a caller can see, and a request names a
 * model by it. A new model is made in the caller's default workspace and moves to the workspace of
 * its first version's run, so `register_model` puts it beside the runs it came from.
 */

type ModelRow = MlflowRegisteredModelsTable;
type VersionRow = MlflowModelVersionsTable;

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;

/** A model version and a registered model as the registry routes answer them (their response schemas). */
export type ModelVersionDto = Static<typeof ModelVersion>;
export type RegisteredModelDto = Static<typeof RegisteredModel>;

type Alias = { alias: string; version: string };
const tagsOf = (row: { tags: string }): KeyValue[] => JSON.parse(row.tags) as KeyValue[];
const aliasesOf = (row: ModelRow): Alias[] => JSON.parse(row.aliases) as Alias[];

function toVersionDto(model: ModelRow, v: VersionRow): ModelVersionDto {
  const dto: ModelVersionDto = {
    name: model.name,
    version: String(v.version),
    creation_timestamp: Number(v.created_at),
    last_updated_timestamp: Number(v.updated_at),
    current_stage: v.stage,
    description: v.description,
    source: v.source,
    status: 'READY',
    status_message: '',
    tags: tagsOf(v),
    run_link: v.run_link,
    aliases: aliasesOf(model)
      .filter((a) => a.version === String(v.version))
      .map((a) => a.alias),
  };
  if (v.run_id !== null) dto.run_id = v.run_id;
  if (v.logged_model_id !== null) dto.model_id = v.logged_model_id;
  return dto;
}

/** The latest version in each stage, as MLflow's `latest_versions`. */
function latestPerStage(model: ModelRow, versions: readonly VersionRow[], stages: readonly string[] = STAGES): ModelVersionDto[] {
  const out: ModelVersionDto[] = [];
  for (const stage of stages) {
    const latest = versions.filter((v) => v.stage === stage).sort((a, b) => b.version - a.version)[0];
    if (latest) out.push(toVersionDto(model, latest));
  }
  return out;
}

function toModelDto(model: ModelRow, versions: readonly VersionRow[]): RegisteredModelDto {
  return {
    name: model.name,
    creation_timestamp: Number(model.created_at),
    last_updated_timestamp: Number(model.updated_at),
    description: model.description,
    latest_versions: latestPerStage(model, versions),
    tags: tagsOf(model),
    aliases: aliasesOf(model),
  };
}

// ---- checks ----

function checkName(raw: string): string {
  if (raw.trim() === '') {
    throw invalidParameter(
      "Missing value for required parameter 'name'. See the API docs for more information about request parameters.",
    );
  }
  if (raw.includes('/') || raw.includes(':'))
    throw invalidParameter(`Invalid model name '${raw}'. Names cannot contain '/' or ':'.`);
  if (raw.length > L.registeredModelNameLength) {
    throw invalidParameter(`Registered model name exceeds the maximum length of ${L.registeredModelNameLength} characters`);
  }
  return raw;
}

export function checkRegistryTag(key: string, value: string): KeyValue {
  if (key.length > L.registryTagKeyLength) {
    throw invalidParameter(`Tag key '${key.slice(0, 50)}…' exceeds the maximum length of ${L.registryTagKeyLength} characters`);
  }
  if (value.length > L.registryTagValueLength) {
    throw invalidParameter(`Tag value for '${key}' exceeds the maximum length of ${L.registryTagValueLength} characters`);
  }
  return { key, value };
}

function checkAlias(alias: string): string {
  if (alias === '') throw invalidParameter('Registered model alias name cannot be empty.');
  if (!/^[\w-]*$/.test(alias)) {
    throw invalidParameter(`Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores and dashes.`);
  }
  if (alias.length > L.aliasLength) {
    throw invalidParameter(`Registered model alias name exceeds the maximum length of ${L.aliasLength} characters`);
  }
  if (alias.toLowerCase() === 'latest') throw invalidParameter("'latest' alias name (case insensitive) is reserved.");
  if (/^[vV]\d+$/.test(alias)) throw invalidParameter(`Version alias name '${alias}' is reserved.`);
  return alias;
}

export function canonicalStage(raw: string): string {
  const stage = STAGES.find((s) => s.toLowerCase() === raw.trim().toLowerCase());
  if (!stage) throw invalidParameter(`Invalid Model Version stage: ${raw}. Value must be one of ${STAGES.join(', ')}.`);
  return stage;
}

function versionNumber(raw: string): number {
  const n = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw invalidParameter(`Model version must be an integer; got '${raw}'`);
  return n;
}

// ---- lookups (access first) ----

async function readable(ctx: AppContext, caller: Caller): Promise<string[]> {
  return readableWorkspaceIds(ctx.db, caller.userId);
}

/** The caller's registered model of this name: MLflow's 404 when it cannot see one, 403 below `min`. */
async function modelForCaller(ctx: AppContext, caller: Caller, name: string, min: Role): Promise<ModelRow> {
  const rows = await repo.modelsIn(ctx.db, await readable(ctx, caller), name);
  if (rows.length === 0) throw doesNotExist(`Registered Model with name=${name} not found`);
  let row = rows[0]!;
  if (rows.length > 1) {
    const home = await workspaceFor(ctx, caller, DEFAULT_EXPERIMENT_ID, 'viewer').catch(() => null);
    const mine = rows.find((r) => r.workspace_id === home);
    if (!mine) {
      throw invalidParameter(
        `Registered model name '${name}' is used in ${rows.length} of your workspaces; rename one so the name says which`,
      );
    }
    row = mine;
  }
  if (min !== 'viewer') await requireRole(ctx.db, caller.userId, row.workspace_id, min);
  return row;
}

async function versionFor(ctx: AppContext, model: ModelRow, rawVersion: string): Promise<VersionRow> {
  const n = versionNumber(rawVersion);
  const v = (await repo.versionsOf(ctx.db, [model.id])).find((x) => x.version === n);
  if (!v) throw doesNotExist(`Model Version (name=${model.name}, version=${n}) not found`);
  return v;
}

async function modelDto(ctx: AppContext, model: ModelRow): Promise<RegisteredModelDto> {
  return toModelDto(model, await repo.versionsOf(ctx.db, [model.id]));
}

async function fresh(ctx: AppContext, id: string): Promise<ModelRow> {
  const row = await repo.lockModel(ctx.db, id, false);
  if (!row) throw doesNotExist('Registered model not found');
  return row;
}

// ---- registered models ----

export async function createRegisteredModel(
  ctx: AppContext,
  caller: Caller,
  input: { name: string; tags: KeyValue[]; description?: string },
): Promise<RegisteredModelDto> {
  const name = checkName(input.name);
  for (const t of input.tags) checkRegistryTag(t.key, t.value);
  if ((await repo.modelsIn(ctx.db, await readable(ctx, caller), name)).length > 0) {
    throw new MlflowError('RESOURCE_ALREADY_EXISTS', 400, `Registered Model (name=${name}) already exists.`);
  }
  const workspaceId = await workspaceFor(ctx, caller, DEFAULT_EXPERIMENT_ID, 'editor');
  const now = ctx.clock();
  const row: ModelRow = {
    id: ctx.newId(),
    workspace_id: workspaceId,
    name,
    description: input.description ?? '',
    tags: JSON.stringify(input.tags),
    aliases: '[]',
    next_version: 1,
    created_by: caller.userId,
    created_at: now,
    updated_at: now,
  };
  await repo.insertModel(ctx.db, row);
  return toModelDto(row, []);
}

export async function getRegisteredModel(ctx: AppContext, caller: Caller, name: string): Promise<RegisteredModelDto> {
  return modelDto(ctx, await modelForCaller(ctx, caller, name, 'viewer'));
}

export async function renameRegisteredModel(
  ctx: AppContext,
  caller: Caller,
  name: string,
  newName: string,
): Promise<RegisteredModelDto> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  const next = checkName(newName);
  if (next !== name && (await repo.modelsIn(ctx.db, await readable(ctx, caller), next)).length > 0) {
    throw new MlflowError('RESOURCE_ALREADY_EXISTS', 400, `Registered Model (name=${next}) already exists.`);
  }
  await repo.updateModel(ctx.db, model.id, { name: next, updated_at: ctx.clock() });
  return modelDto(ctx, await fresh(ctx, model.id));
}

export async function updateRegisteredModel(
  ctx: AppContext,
  caller: Caller,
  name: string,
  description: string,
): Promise<RegisteredModelDto> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  await repo.updateModel(ctx.db, model.id, { description, updated_at: ctx.clock() });
  return modelDto(ctx, await fresh(ctx, model.id));
}

export async function deleteRegisteredModel(ctx: AppContext, caller: Caller, name: string): Promise<void> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  await ctx.db.transaction().execute((trx) => repo.deleteModel(trx, model.id));
}

export async function setRegisteredModelTag(ctx: AppContext, caller: Caller, name: string, tag: KeyValue): Promise<void> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  checkRegistryTag(tag.key, tag.value);
  const tags = tagsOf(model).filter((t) => t.key !== tag.key);
  await repo.updateModel(ctx.db, model.id, { tags: JSON.stringify([...tags, tag]), updated_at: ctx.clock() });
}

export async function deleteRegisteredModelTag(ctx: AppContext, caller: Caller, name: string, key: string): Promise<void> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  const tags = tagsOf(model);
  if (!tags.some((t) => t.key === key)) throw doesNotExist(`No tag with key '${key}' on registered model '${name}'`);
  await repo.updateModel(ctx.db, model.id, { tags: JSON.stringify(tags.filter((t) => t.key !== key)), updated_at: ctx.clock() });
}

function orderModels(order: readonly string[]): (a: ModelRow, b: ModelRow) => number {
  const keys = order.map((o) => {
    const m = /^\s*(name|timestamp|last_updated_timestamp|creation_timestamp)(?:\s+(ASC|DESC))?\s*$/i.exec(o);
    if (!m) throw invalidParameter(`Invalid order_by clause '${o}': order by name, timestamp or last_updated_timestamp`);
    const field = m[1]!.toLowerCase();
    return { field: field === 'timestamp' ? 'last_updated_timestamp' : field, desc: m[2]?.toUpperCase() === 'DESC' };
  });
  if (!keys.some((k) => k.field === 'name')) keys.push({ field: 'name', desc: false });
  return (a, b) => {
    for (const k of keys) {
      const [x, y] =
        k.field === 'name'
          ? [a.name, b.name]
          : k.field === 'creation_timestamp'
            ? [Number(a.created_at), Number(b.created_at)]
            : [Number(a.updated_at), Number(b.updated_at)];
      if (x !== y) return (x < y ? -1 : 1) * (k.desc ? -1 : 1);
    }
    return 0;
  };
}

function pageSize(raw: number | undefined, dflt: number, max: number): number {
  const n = raw ?? dflt;
  if (n < 1 || n > max) {
    throw invalidParameter(`Invalid value ${n} for parameter 'max_results' supplied. It must be between 1 and ${max}.`);
  }
  return n;
}

export async function searchRegisteredModels(
  ctx: AppContext,
  caller: Caller,
  q: { filter?: string; maxResults?: number; orderBy: string[]; pageToken?: string },
): Promise<{ registered_models: RegisteredModelDto[]; next_page_token?: string }> {
  const clauses = parseRegistryFilter(q.filter, 'model');
  const size = pageSize(q.maxResults, L.registeredModelsDefaultPage, L.registeredModelsPerPage);
  const offset = decodeToken(q.pageToken);
  const models = (await repo.modelsIn(ctx.db, await readable(ctx, caller)))
    .filter((m) => matches(clauses, { fields: { name: m.name }, tags: tagsOf(m) }))
    .sort(orderModels(q.orderBy));
  const page = models.slice(offset, offset + size);
  const versions = await repo.versionsOf(
    ctx.db,
    page.map((m) => m.id),
  );
  const registered_models = page.map((m) =>
    toModelDto(
      m,
      versions.filter((v) => v.registered_model_id === m.id),
    ),
  );
  return offset + size < models.length
    ? { registered_models, next_page_token: encodeOffset(offset + size) }
    : { registered_models };
}

export async function getLatestVersions(
  ctx: AppContext,
  caller: Caller,
  name: string,
  stages: string[],
): Promise<ModelVersionDto[]> {
  const model = await modelForCaller(ctx, caller, name, 'viewer');
  const wanted = stages.length === 0 ? STAGES : [...new Set(stages.map(canonicalStage))];
  return latestPerStage(model, await repo.versionsOf(ctx.db, [model.id]), wanted);
}

// ---- aliases ----

export async function setAlias(ctx: AppContext, caller: Caller, name: string, alias: string, version: string): Promise<void> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  checkAlias(alias);
  const v = await versionFor(ctx, model, version);
  await ctx.db.transaction().execute(async (trx) => {
    const row = (await repo.lockModel(trx, model.id, ctx.dialect.rowLocks))!;
    const aliases = aliasesOf(row).filter((a) => a.alias !== alias);
    aliases.push({ alias, version: String(v.version) });
    await repo.updateModel(trx, model.id, { aliases: JSON.stringify(aliases), updated_at: ctx.clock() });
  });
}

export async function deleteAlias(ctx: AppContext, caller: Caller, name: string, alias: string): Promise<void> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  await ctx.db.transaction().execute(async (trx) => {
    const row = (await repo.lockModel(trx, model.id, ctx.dialect.rowLocks))!;
    const aliases = aliasesOf(row).filter((a) => a.alias !== alias);
    await repo.updateModel(trx, model.id, { aliases: JSON.stringify(aliases), updated_at: ctx.clock() });
  });
}

export async function versionByAlias(ctx: AppContext, caller: Caller, name: string, alias: string): Promise<ModelVersionDto> {
  const model = await modelForCaller(ctx, caller, name, 'viewer');
  const found = aliasesOf(model).find((a) => a.alias === alias);
  if (!found) throw doesNotExist(`Registered model alias ${alias} not found.`);
  return toVersionDto(model, await versionFor(ctx, model, found.version));
}

// ---- model versions ----

/** The logged model a source names (`models:/<model id>`), as MLflow 3's `register_model` sends it. */
function loggedModelOf(source: string, modelId: string | undefined): string | null {
  if (modelId) return modelId;
  const m = /^models:\/(m-[\w-]+)$/.exec(source);
  return m ? m[1]! : null;
}

export async function createModelVersion(
  ctx: AppContext,
  caller: Caller,
  input: {
    name: string;
    source: string;
    runId?: string;
    tags: KeyValue[];
    runLink?: string;
    description?: string;
    modelId?: string;
  },
): Promise<ModelVersionDto> {
  let model = await modelForCaller(ctx, caller, input.name, 'editor');
  if (input.source.trim() === '') {
    throw invalidParameter(
      "Missing value for required parameter 'source'. See the API docs for more information about request parameters.",
    );
  }
  for (const t of input.tags) checkRegistryTag(t.key, t.value);
  const isPrompt = input.tags.some((t) => t.key === 'mlflow.prompt.is_prompt');
  checkVersionSource(input.source, input.modelId ? 'model_id' : 'run_id', isPrompt);
  // MLflow 3 registers a logged model (`models:/<id>`) and leaves its run for the server to fill in.
  const loggedModelId = loggedModelOf(input.source, input.modelId);
  // A version made from a logged model is listed on it (below): only on one the caller can see.
  const logged = loggedModelId === null ? null : await loggedModelForCaller(ctx, caller, loggedModelId, 'viewer');
  const runId = input.runId ?? (logged ? (sourceRunIdOf(logged) ?? undefined) : undefined);
  const run = runId ? await runForCaller(ctx, caller, runId, 'viewer') : undefined;
  const now = ctx.clock();
  const created = await ctx.db.transaction().execute(async (trx) => {
    const row = (await repo.lockModel(trx, model.id, ctx.dialect.rowLocks))!;
    const patch: Partial<ModelRow> = { next_version: row.next_version + 1, updated_at: now };
    // A model's first version decides its workspace: the one its run is in, where the caller may write.
    if (run && run.workspaceId !== row.workspace_id && row.next_version === 1) {
      const role = await roleIn(trx, caller.userId, run.workspaceId, { includeTrashed: true });
      const taken = (await repo.modelsIn(trx, [run.workspaceId], row.name)).length > 0;
      if (role !== null && roleAtLeast(role, 'editor') && !taken) patch.workspace_id = run.workspaceId;
    }
    await repo.updateModel(trx, model.id, patch);
    const version: VersionRow = {
      registered_model_id: model.id,
      version: row.next_version,
      source: input.source,
      run_id: runId ?? null,
      logged_model_id: loggedModelId,
      run_link: input.runLink ?? '',
      description: input.description ?? '',
      stage: 'None',
      tags: JSON.stringify(input.tags),
      created_by: caller.userId,
      created_at: now,
      updated_at: now,
    };
    await repo.insertVersion(trx, version);
    if (input.modelId) {
      await addModelVersionTag(trx, input.modelId, { name: row.name, version: version.version }, now);
    }
    return version;
  });
  model = await fresh(ctx, model.id);
  return toVersionDto(model, created);
}

export async function getModelVersion(ctx: AppContext, caller: Caller, name: string, version: string): Promise<ModelVersionDto> {
  const model = await modelForCaller(ctx, caller, name, 'viewer');
  return toVersionDto(model, await versionFor(ctx, model, version));
}

export async function updateModelVersion(
  ctx: AppContext,
  caller: Caller,
  name: string,
  version: string,
  description: string | undefined,
): Promise<ModelVersionDto> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  const v = await versionFor(ctx, model, version);
  if (description !== undefined) await repo.updateVersion(ctx.db, model.id, v.version, { description, updated_at: ctx.clock() });
  return toVersionDto(model, await versionFor(ctx, model, version));
}

export async function transitionStage(
  ctx: AppContext,
  caller: Caller,
  input: { name: string; version: string; stage: string; archiveExisting: boolean },
): Promise<ModelVersionDto> {
  const model = await modelForCaller(ctx, caller, input.name, 'editor');
  const v = await versionFor(ctx, model, input.version);
  const stage = canonicalStage(input.stage);
  const now = ctx.clock();
  await ctx.db.transaction().execute(async (trx) => {
    if (input.archiveExisting && (stage === 'Staging' || stage === 'Production')) {
      for (const other of await repo.versionsOf(trx, [model.id])) {
        if (other.version !== v.version && other.stage === stage) {
          await repo.updateVersion(trx, model.id, other.version, { stage: 'Archived', updated_at: now });
        }
      }
    }
    await repo.updateVersion(trx, model.id, v.version, { stage, updated_at: now });
  });
  return toVersionDto(model, await versionFor(ctx, model, input.version));
}

export async function deleteModelVersion(ctx: AppContext, caller: Caller, name: string, version: string): Promise<void> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  const v = await versionFor(ctx, model, version);
  await ctx.db.transaction().execute(async (trx) => {
    const row = (await repo.lockModel(trx, model.id, ctx.dialect.rowLocks))!;
    // Its aliases go with it, as in MLflow.
    const aliases = aliasesOf(row).filter((a) => a.version !== String(v.version));
    await repo.updateModel(trx, model.id, { aliases: JSON.stringify(aliases), updated_at: ctx.clock() });
    await repo.deleteVersion(trx, model.id, v.version);
  });
}

export async function setVersionTag(
  ctx: AppContext,
  caller: Caller,
  name: string,
  version: string,
  tag: KeyValue,
): Promise<void> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  const v = await versionFor(ctx, model, version);
  checkRegistryTag(tag.key, tag.value);
  const tags = [...tagsOf(v).filter((t) => t.key !== tag.key), tag];
  await repo.updateVersion(ctx.db, model.id, v.version, { tags: JSON.stringify(tags), updated_at: ctx.clock() });
}

export async function deleteVersionTag(
  ctx: AppContext,
  caller: Caller,
  name: string,
  version: string,
  key: string,
): Promise<void> {
  const model = await modelForCaller(ctx, caller, name, 'editor');
  const v = await versionFor(ctx, model, version);
  const tags = tagsOf(v);
  if (!tags.some((t) => t.key === key)) throw doesNotExist(`No tag with key '${key}' on model version ${version} of '${name}'`);
  await repo.updateVersion(ctx.db, model.id, v.version, {
    tags: JSON.stringify(tags.filter((t) => t.key !== key)),
    updated_at: ctx.clock(),
  });
}

export async function searchModelVersions(
  ctx: AppContext,
  caller: Caller,
  q: { filter?: string; maxResults?: number; orderBy: string[]; pageToken?: string },
): Promise<{ model_versions: ModelVersionDto[]; next_page_token?: string }> {
  const clauses = parseRegistryFilter(q.filter, 'version');
  const size = pageSize(q.maxResults, L.modelVersionsDefaultPage, L.modelVersionsPerPage);
  const offset = decodeToken(q.pageToken);
  const models = await repo.modelsIn(ctx.db, await readable(ctx, caller));
  const byId = new Map(models.map((m) => [m.id, m]));
  const all = (await repo.versionsOf(ctx.db, [...byId.keys()]))
    .map((v) => toVersionDto(byId.get(v.registered_model_id)!, v))
    .filter((v) =>
      matches(clauses, {
        fields: { name: v.name, run_id: v.run_id, source_path: v.source, version_number: Number(v.version) },
        tags: v.tags,
      }),
    );
  if (q.orderBy.length > 0) {
    const keys = q.orderBy.map((o) => {
      const m = /^\s*(name|version_number|creation_timestamp|last_updated_timestamp)(?:\s+(ASC|DESC))?\s*$/i.exec(o);
      if (!m) throw invalidParameter(`Invalid order_by clause '${o}'`);
      return { field: m[1]!.toLowerCase(), desc: m[2]?.toUpperCase() === 'DESC' };
    });
    const value = (v: ModelVersionDto, f: string): string | number =>
      f === 'name'
        ? v.name
        : f === 'version_number'
          ? Number(v.version)
          : f === 'creation_timestamp'
            ? v.creation_timestamp
            : v.last_updated_timestamp;
    all.sort((a, b) => {
      for (const k of keys) {
        const [x, y] = [value(a, k.field), value(b, k.field)];
        if (x !== y) return (x < y ? -1 : 1) * (k.desc ? -1 : 1);
      }
      return 0;
    });
  }
  const model_versions = all.slice(offset, offset + size);
  return offset + size < all.length ? { model_versions, next_page_token: encodeOffset(offset + size) } : { model_versions };
}

/**
 * Where a version's files are, for the client to download: a logged model's artifact URI
 * (`models:/<id>`), a run's artifact path (`runs:/<run>/<path>`), or the source as given.
 */
export async function downloadUri(ctx: AppContext, caller: Caller, name: string, version: string): Promise<string> {
  const model = await modelForCaller(ctx, caller, name, 'viewer');
  const v = await versionFor(ctx, model, version);
  if (v.logged_model_id !== null && v.source.startsWith('models:/')) {
    return (await getLoggedModel(ctx, caller, v.logged_model_id)).info.artifact_uri;
  }
  const runs = /^runs:\/([^/]+)\/?(.*)$/.exec(v.source);
  if (runs) {
    const run = await runForCaller(ctx, caller, runs[1]!, 'viewer');
    const path = runs[2] ? `/${runs[2]}` : '';
    return `mlflow-artifacts:/${run.workspaceId}/${run.id}/artifacts${path}`;
  }
  return v.source;
}
