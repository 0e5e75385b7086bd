/**
 * The one typed client for the Tora API. Every request goes to the same origin under /api with
 * the session cookie; errors become ApiError carrying the server's code and message.
 */

import type { paths } from './api-types';

// Every type that describes a server response or request body comes from the OpenAPI document
// (`npm run gen:api` writes ./api-types.ts from /openapi/openapi.json); nothing here restates it.
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
/** The JSON request body of an operation. */
type Body<P extends keyof paths, M extends Method> = paths[P][M] extends { requestBody?: infer B }
  ? JsonOf<NonNullable<B>>
  : never;

export type User = Ok<'/api/auth/me', 'get'>['user'];
export type Workspace = Ok<'/api/workspaces', 'get'>['workspaces'][number];
export type Role = Workspace['role'];
export type Member = Ok<'/api/workspaces/{id}/members', 'get'>['members'][number];
export type ApiKey = Ok<'/api/keys', 'get'>['keys'][number];
export type CreatedKey = Ok<'/api/keys', 'post'>;
export type ClientInstall = Ok<'/api/client', 'get'>;
export type Experiment = Ok<'/api/experiments/{id}', 'get'>;
export type Status = Experiment['status'];
export type Hyperparam = Experiment['hyperparams'][number];
export type ExperimentList = Ok<'/api/experiments', 'get'>;
export type ExperimentInput = Body<'/api/experiments', 'post'>;
export type ExperimentPatch = Body<'/api/experiments/{id}', 'put'>;
export type BulkRequest = Body<'/api/experiments/bulk', 'post'>;
export type BulkAction = BulkRequest['action'];
/** What the create/edit form collects: valid both as a create body and as an edit. */
export type ExperimentFields = Pick<ExperimentInput, 'name' | 'description' | 'tags'> & ExperimentPatch;
export type MetricSummary = Ok<'/api/experiments/{id}/metrics', 'get'>['metrics'][number];
export type BucketedSeries = Ok<'/api/experiments/{id}/metrics/series', 'get'>;
export type Buckets = BucketedSeries['buckets'];
/** JSON carries non-finite floats as strings ("NaN", "Infinity", "-Infinity"). */
export type WireNumber = MetricSummary['lastValue'];
export type XAxis = NonNullable<BucketedSeries['x']>;
export type RawPage = Ok<'/api/experiments/{id}/metrics/raw', 'get'>;
export type RawPoint = RawPage['points'][number];
export type CompareResult = Ok<'/api/experiments/compare', 'get'>;
export type CompareExperiment = CompareResult['experiments'][number];
export type CompareMetric = CompareExperiment['metrics'][number];
export type Delta = NonNullable<CompareMetric['delta']>;
export type Direction = NonNullable<CompareResult['metrics'][number]['direction']>;
/** A workspace's overrides and the direction the server infers from each of its metric names. */
export type Directions = Ok<'/api/workspaces/{id}/metric-directions', 'get'>;
export type DirectionsPatch = Body<'/api/workspaces/{id}/metric-directions', 'put'>;
export type Columns = Ok<'/api/workspaces/{id}/columns', 'get'>;
export type Analysis = Ok<'/api/ai/analysis', 'post'>;
export type AnalysisRequest = Body<'/api/ai/analysis', 'post'>;
export type Finding = Analysis['findings'][number];
export type ReferenceInfo = Ok<'/api/experiments/{id}/ref', 'get'>;
export type ChainLink = ReferenceInfo['chain'][number];
export type Setup = Ok<'/api/auth/setup', 'get'>;

/** What the compare page asks; `api.compare` turns it into the query string. */
export interface CompareQuery {
  ids: string[];
  metrics?: string[];
  budget: number;
  /** "time": buckets over one shared wall-time range per metric; from/to are then epoch ms. */
  x?: XAxis;
  from?: number;
  to?: number;
  referenceId?: string | null;
}
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
export interface ExperimentQuery {
  workspace?: string;
  startwith?: string;
  /** MLflow's filter grammar (`params.lr < 0.01 and metrics.val/loss < 0.3`), parsed by the server. */
  filter?: string;
  group?: string;
  tags?: string[];
  status?: Status[];
  sort?: SortKey;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string | null;
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

type Query = Record<string, string | number | undefined | null>;

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `/api${path}${qs ? `?${qs}` : ''}`;
}

async function request<T>(
  method: string,
  path: string,
  opts: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url(path, opts.query), {
      method,
      credentials: 'same-origin',
      headers: opts.body === undefined ? {} : { 'content-type': 'application/json' },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', 'Cannot reach the Tora server. Check your connection and try again.');
  }
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? res.statusText, err?.details);
  }
  return data as T;
}

const get = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal });
const send = <T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) => request<T>(method, path, { body });

export const api = {
  setup: () => get<Setup>('/auth/setup'),
  me: () => get<Ok<'/api/auth/me', 'get'>>('/auth/me').then((r) => r.user),
  signup: (email: string, password: string) =>
    send<Ok<'/api/auth/signup', 'post'>>('POST', '/auth/signup', { email, password } satisfies Body<
      '/api/auth/signup',
      'post'
    >).then((r) => r.user),
  login: (email: string, password: string) =>
    send<Ok<'/api/auth/login', 'post'>>('POST', '/auth/login', { email, password } satisfies Body<
      '/api/auth/login',
      'post'
    >).then((r) => r.user),
  logout: () => send<Ok<'/api/auth/logout', 'post'>>('POST', '/auth/logout'),

  listKeys: () => get<Ok<'/api/keys', 'get'>>('/keys').then((r) => r.keys),
  createKey: (name: string) => send<CreatedKey>('POST', '/keys', { name } satisfies Body<'/api/keys', 'post'>),
  revokeKey: (id: string) => send<Ok<'/api/keys/{id}', 'delete'>>('DELETE', `/keys/${id}`),
  /** The pip command installing the Python client this server serves. */
  client: () => get<ClientInstall>('/client'),

  listWorkspaces: () => get<Ok<'/api/workspaces', 'get'>>('/workspaces').then((r) => r.workspaces),
  createWorkspace: (name: string, description?: string) =>
    send<Ok<'/api/workspaces', 'post'>>('POST', '/workspaces', { name, description } satisfies Body<'/api/workspaces', 'post'>),
  updateWorkspace: (id: string, patch: Body<'/api/workspaces/{id}', 'put'>) =>
    send<Ok<'/api/workspaces/{id}', 'put'>>('PUT', `/workspaces/${id}`, patch),
  deleteWorkspace: (id: string) => send<Ok<'/api/workspaces/{id}', 'delete'>>('DELETE', `/workspaces/${id}`),
  listMembers: (id: string) => get<Ok<'/api/workspaces/{id}/members', 'get'>>(`/workspaces/${id}/members`).then((r) => r.members),
  addMember: (id: string, email: string, role: Role) =>
    send<Ok<'/api/workspaces/{id}/members', 'post'>>('POST', `/workspaces/${id}/members`, {
      email,
      role,
    } satisfies Body<'/api/workspaces/{id}/members', 'post'>),
  changeRole: (id: string, userId: string, role: Role) =>
    send<Ok<'/api/workspaces/{id}/members/{userId}', 'put'>>('PUT', `/workspaces/${id}/members/${userId}`, {
      role,
    } satisfies Body<'/api/workspaces/{id}/members/{userId}', 'put'>),
  removeMember: (id: string, userId: string) =>
    send<Ok<'/api/workspaces/{id}/members/{userId}', 'delete'>>('DELETE', `/workspaces/${id}/members/${userId}`),

  listExperiments: (q: ExperimentQuery, signal?: AbortSignal) =>
    get<ExperimentList>(
      '/experiments',
      {
        workspace: q.workspace,
        startwith: q.startwith,
        filter: q.filter,
        group: q.group,
        tags: q.tags?.join(','),
        status: q.status?.join(','),
        sort: q.sort,
        order: q.order,
        limit: q.limit,
        cursor: q.cursor,
      },
      signal,
    ),
  getExperiment: (id: string) => get<Experiment>(`/experiments/${id}`),
  createExperiment: (input: ExperimentInput) =>
    send<Ok<'/api/experiments', 'post'>>('POST', '/experiments', input).then((r) => r.experiment),
  updateExperiment: (id: string, patch: ExperimentPatch) =>
    send<Ok<'/api/experiments/{id}', 'put'>>('PUT', `/experiments/${id}`, patch),
  deleteExperiment: (id: string) => send<Ok<'/api/experiments/{id}', 'delete'>>('DELETE', `/experiments/${id}`),
  /** Delete, tag or untag many experiments in one transaction (all or nothing). */
  bulk: (body: BulkRequest) => send<Ok<'/api/experiments/bulk', 'post'>>('POST', '/experiments/bulk', body),

  listMetrics: (id: string, signal?: AbortSignal) =>
    get<Ok<'/api/experiments/{id}/metrics', 'get'>>(`/experiments/${id}/metrics`, undefined, signal).then((r) => r.metrics),
  series: (id: string, q: { name: string; from?: number; to?: number; budget: number; x?: XAxis }, signal?: AbortSignal) =>
    get<BucketedSeries>(`/experiments/${id}/metrics/series`, { ...q, x: q.x === 'time' ? 'time' : undefined }, signal),
  compare: (q: CompareQuery, signal?: AbortSignal) =>
    get<CompareResult>(
      '/experiments/compare',
      {
        ids: q.ids.join(','),
        metrics: q.metrics?.join(','),
        budget: Math.max(1, Math.min(5000, Math.round(q.budget))),
        x: q.x === 'time' ? 'time' : undefined,
        from: q.from,
        to: q.to,
        referenceId: q.referenceId,
      },
      signal,
    ),
  directions: (workspaceId: string) => get<Directions>(`/workspaces/${workspaceId}/metric-directions`),
  setDirection: (workspaceId: string, name: string, direction: Direction | null) =>
    send<Ok<'/api/workspaces/{id}/metric-directions', 'put'>>('PUT', `/workspaces/${workspaceId}/metric-directions`, {
      [name]: direction,
    } satisfies DirectionsPatch),
  columns: (workspaceId: string) => get<Columns>(`/workspaces/${workspaceId}/columns`),
  analysis: (body: AnalysisRequest) => send<Analysis>('POST', '/ai/analysis', body),
  getReference: (id: string) => get<ReferenceInfo>(`/experiments/${id}/ref`),
  setReference: (id: string, referenceId: string) =>
    send<Ok<'/api/experiments/{id}/ref', 'post'>>('POST', `/experiments/${id}/ref`, {
      referenceId,
    } satisfies Body<'/api/experiments/{id}/ref', 'post'>),
  clearReference: (id: string, refId: string) =>
    send<Ok<'/api/experiments/{id}/ref/{refId}', 'delete'>>('DELETE', `/experiments/${id}/ref/${refId}`),
  raw: (
    id: string,
    q: { name: string; limit?: number; cursor?: string | null; from?: number; to?: number },
    signal?: AbortSignal,
  ) => get<RawPage>(`/experiments/${id}/metrics/raw`, q, signal),
  csvUrl: (id: string, name?: string) => url(`/experiments/${id}/metrics/csv`, { name }),
};
