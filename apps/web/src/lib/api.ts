/**
 * The one typed client for the Tora API. Every request goes to the same origin under /api with
 * the session cookie; errors become ApiError carrying the server's code and message.
 */

import createClient from 'openapi-fetch';
import type { paths } from './generated/api-types';
import { LIMITS } from './generated/limits';

// Every type that describes a server response or request body comes from the OpenAPI document
// (`npm run gen:api` writes ./generated/api-types.ts from /openapi/openapi.json); nothing here restates it.
type Method = 'get' | 'post' | 'put' | 'delete';
type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON body of an operation's success response (200 or 201). */
type Ok<P extends keyof paths, M extends Method> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: infer A }
    ? JsonOf<A>
    : R extends { 201: infer B }
      ? JsonOf<B>
      : never
  : never;
/** The query string of a GET operation, as the server reads it. */
type QueryOf<P extends keyof paths> = paths[P]['get'] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
/** The JSON request body of an operation. */
type Body<P extends keyof paths, M extends Method> = paths[P][M] extends { requestBody?: infer B }
  ? JsonOf<NonNullable<B>>
  : never;

export type User = Ok<'/api/auth/me', 'get'>['user'];
export type Workspace = Ok<'/api/workspaces', 'get'>['workspaces'][number];
export type Role = Workspace['role'];
export type Member = Ok<'/api/workspaces/{id}/members', 'get'>['members'][number];
export type Invite = Ok<'/api/workspaces/{id}/invites', 'get'>['invites'][number];
export type InvitePreview = Ok<'/api/auth/invites/{token}', 'get'>;
export type ApiKey = Ok<'/api/keys', 'get'>['keys'][number];
export type ClientInstall = Ok<'/api/client', 'get'>;
export type Experiment = Ok<'/api/experiments/{id}', 'get'>;
export type Status = Experiment['status'];
export type Hyperparam = Experiment['hyperparams'][number];
export type ExperimentInput = Body<'/api/experiments', 'post'>;
export type ExperimentPatch = Body<'/api/experiments/{id}', 'put'>;
export type BulkRequest = Body<'/api/experiments/bulk', 'post'>;
export type BulkAction = BulkRequest['action'];
/** What the create/edit form collects: valid both as a create body and as an edit. */
export type ExperimentFields = Pick<ExperimentInput, 'name' | 'description' | 'tags'> & ExperimentPatch;
export type MetricSummary = Ok<'/api/experiments/{id}/metrics', 'get'>['metrics'][number];
export type BucketedSeries = Ok<'/api/experiments/{id}/metrics/series', 'get'>;
export type XAxis = NonNullable<BucketedSeries['x']>;
type ExperimentListResult = Ok<'/api/experiments', 'get'>;
/** The list answers a page, or with `groupBy` the groups: one route, two shapes. */
export type ExperimentPage = Extract<ExperimentListResult, { experiments: unknown }>;
export type ExperimentGroups = Extract<ExperimentListResult, { groups: unknown }>;
export type ExperimentGroup = ExperimentGroups['groups'][number];
export type BandRequest = Body<'/api/metrics/band', 'post'>;
export type Band = Ok<'/api/metrics/band', 'post'>;
type RawPage = Ok<'/api/experiments/{id}/metrics/raw', 'get'>;
export type RawPoint = RawPage['points'][number];
export type CompareResult = Ok<'/api/experiments/compare', 'get'>;
export type CompareExperiment = CompareResult['experiments'][number];
export type Direction = NonNullable<CompareResult['metrics'][number]['direction']>;
/** A workspace's overrides and the direction the server infers from each of its metric names. */
export type Directions = Ok<'/api/workspaces/{id}/metric-directions', 'get'>;
export type DirectionsPatch = Body<'/api/workspaces/{id}/metric-directions', 'put'>;
export type Analysis = Ok<'/api/ai/analysis', 'post'>;
export type AnalysisRequest = Body<'/api/ai/analysis', 'post'>;
export type Finding = Analysis['findings'][number];
export type RunFile = Ok<'/api/experiments/{id}/files', 'get'>['files'][number];
export type MediaItem = Ok<'/api/experiments/{id}/media', 'get'>['media'][number];
export type RunModels = Ok<'/api/experiments/{id}/models', 'get'>;
export type RunModel = RunModels['models'][number];
type ReferenceInfo = Ok<'/api/experiments/{id}/ref', 'get'>;
export type DatasetInput = Ok<'/api/experiments/{id}/datasets', 'get'>['datasets'][number];
export type KvTag = Ok<'/api/experiments/{id}/kv-tags', 'get'>['tags'][number];
export type RegisteredModel = Ok<'/api/workspaces/{id}/models', 'get'>['models'][number];
export type ChainLink = ReferenceInfo['chain'][number];

/** One series read: the route's query with a budget always given (a chart asks for its width). */
export type SeriesQuery = Pick<QueryOf<'/api/experiments/{id}/metrics/series'>, 'name' | 'from' | 'to' | 'x'> & {
  budget: number;
};
type CompareParams = QueryOf<'/api/experiments/compare'>;
/**
 * What the compare page asks; `api.compare` turns it into the query string (lists comma-joined).
 * `x: "time"`: buckets over one shared wall-time range per metric; from/to are then epoch ms.
 */
export type CompareQuery = Pick<CompareParams, 'x' | 'from' | 'to'> & {
  ids: string[];
  metrics?: string[];
  budget: number;
  referenceId?: CompareParams['referenceId'] | null;
};
/** `metric:` sorts by last value, `metric-min:` / `metric-max:` by the smallest / largest (the best). */
export type SortKey =
  | 'created'
  | 'updated'
  | 'name'
  | 'status'
  | `metric:${string}`
  | `metric-min:${string}`
  | `metric-max:${string}`
  | `hp:${string}`;
type ListParams = QueryOf<'/api/experiments'>;
/**
 * The list's query as the app holds it: the route's fields, with lists as arrays and the sort and
 * status values typed (the server reads them from text). `filter` is MLflow's grammar
 * (`params.lr < 0.01 and metrics.val/loss < 0.3`), parsed by the server.
 */
export type ExperimentQuery = Pick<ListParams, 'workspace' | 'startwith' | 'filter' | 'group' | 'order' | 'limit'> & {
  tags?: string[];
  status?: Status[];
  sort?: SortKey;
  cursor?: ListParams['cursor'] | null;
};

/** The list's filters as the server reads them (lists comma-joined): shared by the page and the grouped read. */
function filterQuery(q: ExperimentQuery) {
  return {
    workspace: q.workspace,
    startwith: q.startwith,
    filter: q.filter,
    group: q.group,
    tags: q.tags?.join(','),
    status: q.status?.join(','),
  };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Decodes a wire number ("NaN", "Infinity", …) into a float. */
export function num(v: number | string | null | undefined): number {
  if (v === null || v === undefined) return NaN;
  return typeof v === 'number' ? v : Number(v);
}

/**
 * The one fetch client: each call names its path and method as the OpenAPI document spells them
 * (`paths` from ./generated/api-types.ts), so a path, parameter or body the server does not have
 * fails the type check. Query values are written as today: empty ones left out, the rest as strings.
 */
const client = createClient<paths>({
  credentials: 'same-origin',
  // Resolved at call time, not captured at import, like a plain fetch() call.
  fetch: (request) => globalThis.fetch(request),
  querySerializer: (query) => search(query as Query),
});
client.use({
  // Only a request that never got an answer lands here; an aborted one stays an AbortError.
  onError: ({ error }) =>
    error instanceof DOMException && error.name === 'AbortError'
      ? undefined
      : new ApiError(0, 'NETWORK', 'Cannot reach the Tora server. Check your connection and try again.'),
});

type Query = Record<string, string | number | undefined | null>;

function search(query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  return params.toString();
}

/** The success body of a call, or ApiError with the server's `{error: {code, message, details}}`. */
async function ok<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) {
    const err = (error as { error?: { code?: string; message?: string; details?: unknown } } | null | undefined)?.error;
    throw new ApiError(
      response.status,
      err?.code ?? `HTTP_${response.status}`,
      err?.message ?? response.statusText,
      err?.details,
    );
  }
  return data as T;
}

export const api = {
  setup: () => ok(client.GET('/api/auth/setup')),
  me: () => ok(client.GET('/api/auth/me')).then((r) => r.user),
  /** With `invite` (an invite link's token) sign-up works even while closed, and joins its workspace. */
  signup: (email: string, password: string, invite?: string) =>
    ok(client.POST('/api/auth/signup', { body: { email, password, invite } })).then((r) => r.user),
  /** What an invite link grants, or its refusal in words (used, revoked, expired). */
  invitePreview: (token: string) => ok(client.GET('/api/auth/invites/{token}', { params: { path: { token } } })),
  login: (email: string, password: string) =>
    ok(client.POST('/api/auth/login', { body: { email, password } })).then((r) => r.user),
  logout: () => ok(client.POST('/api/auth/logout')),

  listKeys: () => ok(client.GET('/api/keys')).then((r) => r.keys),
  createKey: (name: string) => ok(client.POST('/api/keys', { body: { name } })),
  revokeKey: (id: string) => ok(client.DELETE('/api/keys/{id}', { params: { path: { id } } })),
  /** The pip command installing the Python client this server serves. */
  client: () => ok(client.GET('/api/client')),

  listWorkspaces: () => ok(client.GET('/api/workspaces')).then((r) => r.workspaces),
  createWorkspace: (name: string, description?: string) => ok(client.POST('/api/workspaces', { body: { name, description } })),
  updateWorkspace: (id: string, patch: Body<'/api/workspaces/{id}', 'put'>) =>
    ok(client.PUT('/api/workspaces/{id}', { params: { path: { id } }, body: patch })),
  deleteWorkspace: (id: string) => ok(client.DELETE('/api/workspaces/{id}', { params: { path: { id } } })),
  listMembers: (id: string) =>
    ok(client.GET('/api/workspaces/{id}/members', { params: { path: { id } } })).then((r) => r.members),
  addMember: (id: string, email: string, role: Role) =>
    ok(client.POST('/api/workspaces/{id}/members', { params: { path: { id } }, body: { email, role } })),
  listInvites: (id: string) =>
    ok(client.GET('/api/workspaces/{id}/invites', { params: { path: { id } } })).then((r) => r.invites),
  /** A single-use, expiring invite link; its `path` (with the token) is shown only now. */
  createInvite: (id: string, body: Body<'/api/workspaces/{id}/invites', 'post'>) =>
    ok(client.POST('/api/workspaces/{id}/invites', { params: { path: { id } }, body })),
  revokeInvite: (id: string, inviteId: string) =>
    ok(client.DELETE('/api/workspaces/{id}/invites/{inviteId}', { params: { path: { id, inviteId } } })),
  changeRole: (id: string, userId: string, role: Role) =>
    ok(client.PUT('/api/workspaces/{id}/members/{userId}', { params: { path: { id, userId } }, body: { role } })),
  removeMember: (id: string, userId: string) =>
    ok(client.DELETE('/api/workspaces/{id}/members/{userId}', { params: { path: { id, userId } } })),

  listExperiments: (q: ExperimentQuery, signal?: AbortSignal) =>
    ok(
      client.GET('/api/experiments', {
        params: {
          query: {
            ...filterQuery(q),
            sort: q.sort,
            order: q.order,
            limit: q.limit,
            cursor: q.cursor ?? undefined,
          },
        },
        signal,
      }),
    ).then((r) => r as ExperimentPage),
  /** The same filters, grouped by `group`, `params.<key>` or `tags.<key>`, with mean ± std per metric column. */
  groupExperiments: (
    q: ExperimentQuery & Required<Pick<ListParams, 'groupBy'>> & { groupMetrics?: string[] },
    signal?: AbortSignal,
  ) =>
    ok(
      client.GET('/api/experiments', {
        params: {
          query: {
            ...filterQuery(q),
            groupBy: q.groupBy,
            groupMetrics: q.groupMetrics?.length ? q.groupMetrics.join(',') : undefined,
          },
        },
        signal,
      }),
    ).then((r) => r as ExperimentGroups),
  /** Mean ± spread of one metric across runs, per bucket of x. */
  band: (body: BandRequest, signal?: AbortSignal) => ok(client.POST('/api/metrics/band', { body, signal })),
  getExperiment: (id: string) => ok(client.GET('/api/experiments/{id}', { params: { path: { id } } })),
  /** A workspace's registered models (MLflow's model registry), each with its versions. */
  listModels: (workspaceId: string) =>
    ok(client.GET('/api/workspaces/{id}/models', { params: { path: { id: workspaceId } } })).then((r) => r.models),
  setAlias: (workspaceId: string, name: string, alias: string, version: number) =>
    ok(
      client.PUT('/api/workspaces/{id}/models/{name}/aliases/{alias}', {
        params: { path: { id: workspaceId, name, alias } },
        body: { version },
      }),
    ),
  removeAlias: (workspaceId: string, name: string, alias: string) =>
    ok(
      client.DELETE('/api/workspaces/{id}/models/{name}/aliases/{alias}', { params: { path: { id: workspaceId, name, alias } } }),
    ),
  /** The datasets MLflow logged for this experiment (runs/log-inputs). */
  datasets: (id: string) =>
    ok(client.GET('/api/experiments/{id}/datasets', { params: { path: { id } } })).then((r) => r.datasets),
  /** The run's MLflow key/value tags (`mlflow.set_tag`); `system` marks MLflow's read-only `mlflow.*` ones. */
  kvTags: (id: string) => ok(client.GET('/api/experiments/{id}/kv-tags', { params: { path: { id } } })).then((r) => r.tags),
  setKvTag: (id: string, key: string, value: string) =>
    ok(client.PUT('/api/experiments/{id}/kv-tags/{key}', { params: { path: { id, key } }, body: { value } })).then((r) => r.tags),
  deleteKvTag: (id: string, key: string) =>
    ok(client.DELETE('/api/experiments/{id}/kv-tags/{key}', { params: { path: { id, key } } })).then((r) => r.tags),
  createExperiment: (input: ExperimentInput) => ok(client.POST('/api/experiments', { body: input })).then((r) => r.experiment),
  updateExperiment: (id: string, patch: ExperimentPatch) =>
    ok(client.PUT('/api/experiments/{id}', { params: { path: { id } }, body: patch })),
  deleteExperiment: (id: string) => ok(client.DELETE('/api/experiments/{id}', { params: { path: { id } } })),
  /** Delete, tag or untag many experiments in one transaction (all or nothing). */
  bulk: (body: BulkRequest) => ok(client.POST('/api/experiments/bulk', { body })),

  listMetrics: (id: string, signal?: AbortSignal) =>
    ok(client.GET('/api/experiments/{id}/metrics', { params: { path: { id } }, signal })).then((r) => r.metrics),
  series: (id: string, q: SeriesQuery, signal?: AbortSignal) =>
    ok(
      client.GET('/api/experiments/{id}/metrics/series', {
        params: { path: { id }, query: { ...q, x: q.x === 'step' ? undefined : q.x } },
        signal,
      }),
    ),
  compare: (q: CompareQuery, signal?: AbortSignal) =>
    ok(
      client.GET('/api/experiments/compare', {
        params: {
          query: {
            ids: q.ids.join(','),
            metrics: q.metrics?.join(','),
            budget: Math.max(1, Math.min(LIMITS.compareBudget, Math.round(q.budget))),
            x: q.x === 'step' ? undefined : q.x,
            from: q.from,
            to: q.to,
            referenceId: q.referenceId ?? undefined,
          },
        },
        signal,
      }),
    ),
  directions: (workspaceId: string) =>
    ok(client.GET('/api/workspaces/{id}/metric-directions', { params: { path: { id: workspaceId } } })),
  setDirection: (workspaceId: string, name: string, direction: Direction | null) =>
    ok(
      client.PUT('/api/workspaces/{id}/metric-directions', {
        params: { path: { id: workspaceId } },
        body: { [name]: direction } satisfies DirectionsPatch,
      }),
    ),
  columns: (workspaceId: string) => ok(client.GET('/api/workspaces/{id}/columns', { params: { path: { id: workspaceId } } })),
  analysis: (body: AnalysisRequest) => ok(client.POST('/api/ai/analysis', { body })),
  getReference: (id: string) => ok(client.GET('/api/experiments/{id}/ref', { params: { path: { id } } })),
  setReference: (id: string, referenceId: string) =>
    ok(client.POST('/api/experiments/{id}/ref', { params: { path: { id } }, body: { referenceId } })),
  clearReference: (id: string, refId: string) =>
    ok(client.DELETE('/api/experiments/{id}/ref/{refId}', { params: { path: { id, refId } } })),
  raw: (
    id: string,
    q: { name: string; limit?: number; cursor?: string | null; from?: number; to?: number },
    signal?: AbortSignal,
  ) =>
    ok(
      client.GET('/api/experiments/{id}/metrics/raw', {
        params: { path: { id }, query: { ...q, cursor: q.cursor ?? undefined } },
        signal,
      }),
    ),
  listFiles: (id: string, signal?: AbortSignal) =>
    ok(client.GET('/api/experiments/{id}/files', { params: { path: { id } }, signal })).then((r) => r.files),
  listMedia: (id: string, signal?: AbortSignal) =>
    ok(client.GET('/api/experiments/{id}/media', { params: { path: { id } }, signal })).then((r) => r.media),
  /** The models a run logged, and the registered versions made from it. */
  runModels: (id: string, signal?: AbortSignal) =>
    ok(client.GET('/api/experiments/{id}/models', { params: { path: { id } }, signal })),
  /** Tora's small copy of a run's image (see MediaItem.thumbnail). */
  thumbnailUrl: (id: string, path: string) => href('/api/experiments/{id}/thumbnails/{path}', { id, path }),
  /** The src a media panel shows: Tora's thumbnail, else MLflow's compressed copy, else the image. */
  mediaSrc: (id: string, m: Pick<MediaItem, 'path' | 'thumbnail' | 'thumbnailPath'>) =>
    m.thumbnail
      ? href('/api/experiments/{id}/thumbnails/{path}', { id, path: m.path })
      : href('/api/experiments/{id}/files/{path}', { id, path: m.thumbnailPath ?? m.path }),
  /** A run file's URL: a download link, an image's src, or what a text preview fetches. */
  fileUrl: (id: string, path: string) => href('/api/experiments/{id}/files/{path}', { id, path }),
  /** A link, not a fetch: the browser downloads the file itself. */
  csvUrl: (id: string, name?: string) => href('/api/experiments/{id}/metrics/csv', { id }, { name }),
};

/** The URL of a GET path of the document with its path parameters filled in and a query. */
function href<P extends keyof paths>(path: P, params: Record<string, string>, query?: Query): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(params[k] ?? ''));
  const qs = search(query);
  return `${filled}${qs ? `?${qs}` : ''}`;
}
