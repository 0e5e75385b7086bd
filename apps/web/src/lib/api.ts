/**
 * The one typed client for the Tora API. Every request goes to the same origin under /api with
 * the session cookie; errors become ApiError carrying the server's code and message.
 */

export type Role = 'viewer' | 'editor' | 'admin' | 'owner';
export type Status = 'running' | 'finished' | 'failed' | 'crashed';
/** JSON carries non-finite floats as strings. */
export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export interface User {
  id: string;
  email: string;
  defaultWorkspaceId: string | null;
  createdAt: string;
}
export interface Workspace {
  id: string;
  name: string;
  description: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
}
export interface Member {
  userId: string;
  email: string;
  role: Role;
  createdAt: string;
}
export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsed: string | null;
  revoked: boolean;
}
export interface Hyperparam {
  key: string;
  value: string | number | boolean | null;
}
export interface Experiment {
  id: string;
  name: string;
  description: string | null;
  hyperparams: Hyperparam[];
  tags: string[];
  visibility: string;
  status: Status;
  workspaceId: string;
  referenceId: string | null;
  createdAt: string;
  updatedAt: string;
  lastActivityAt: string;
  availableMetrics: string[];
  latestMetrics: Record<string, number | string | null>;
}
export interface MetricSummary {
  name: string;
  count: number;
  firstStep: number;
  lastStep: number;
  lastValue: WireNumber;
  min: WireNumber | null;
  max: WireNumber | null;
  nanCount: number;
  updatedAt: string;
}
export interface Buckets {
  count: number[];
  firstStep: number[];
  firstValue: WireNumber[];
  lastStep: number[];
  lastValue: WireNumber[];
  minStep: (number | null)[];
  minValue: (WireNumber | null)[];
  maxStep: (number | null)[];
  maxValue: (WireNumber | null)[];
  nanCount: number[];
  firstNanStep: (number | null)[];
}
export interface BucketedSeries {
  name: string;
  from: number;
  to: number;
  budget: number;
  bucketStart?: number;
  bucketWidth: number;
  pointCount: number;
  /** "time": from/to/bucketStart/bucketWidth and every *Step array hold epoch milliseconds. */
  x?: XAxis;
  summary: MetricSummary;
  buckets: Buckets;
}
export type XAxis = 'step' | 'time';
export type Direction = 'min' | 'max';
export interface Delta {
  last: number | null;
  lastPct: number | null;
  best: number | null;
  bestPct: number | null;
  bestIsBetter: boolean | null;
}
export interface CompareMetric {
  name: string;
  count: number;
  last: WireNumber;
  lastStep: number;
  best: WireNumber | null;
  bestStep: number | null;
  delta: Delta | null;
  series: BucketedSeries;
}
export interface CompareExperiment {
  id: string;
  name: string;
  workspaceId: string;
  status: Status;
  referenceId: string | null;
  hyperparams: Hyperparam[];
  metrics: CompareMetric[];
}
export interface CompareResult {
  budget: number;
  referenceId: string | null;
  metrics: { name: string; direction: Direction | null }[];
  experiments: CompareExperiment[];
}
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
export interface Finding {
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  metric: string;
  steps: [number, number];
  message: string;
}
export interface Analysis {
  experimentId: string;
  referenceId: string | null;
  summary: string;
  hyperparameter_recommendations: Record<string, { recommendation: string; importance_level: number }>;
  findings: Finding[];
  primaryMetric?: string | null;
  provider: string;
  model?: string | null;
  cached: boolean;
  note?: string;
}
export interface ChainLink {
  id: string;
  name: string;
  status: Status;
  workspaceId: string;
  createdAt: string;
}
export interface RawPoint {
  step: number;
  value: WireNumber;
  time: string;
  metadata: unknown;
}
export type SortKey = 'created' | 'updated' | 'name' | 'status' | `metric:${string}` | `hp:${string}`;
export interface ExperimentQuery {
  workspace?: string;
  startwith?: string;
  tags?: string[];
  status?: Status[];
  sort?: SortKey;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string | null;
}
export interface ExperimentInput {
  name: string;
  description?: string | null;
  tags?: string[];
  status?: Status;
  workspaceId?: string;
  hyperparams?: Record<string, string | number | boolean>;
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
  setup: () => get<{ hasUsers: boolean; signupOpen: boolean }>('/auth/setup'),
  me: () => get<{ user: User }>('/auth/me').then((r) => r.user),
  signup: (email: string, password: string) =>
    send<{ user: User }>('POST', '/auth/signup', { email, password }).then((r) => r.user),
  login: (email: string, password: string) =>
    send<{ user: User }>('POST', '/auth/login', { email, password }).then((r) => r.user),
  logout: () => send<{ success: true }>('POST', '/auth/logout'),

  listKeys: () => get<{ keys: ApiKey[] }>('/keys').then((r) => r.keys),
  createKey: (name: string) => send<ApiKey & { key: string }>('POST', '/keys', { name }),
  revokeKey: (id: string) => send<{ success: true }>('DELETE', `/keys/${id}`),

  listWorkspaces: () => get<{ workspaces: Workspace[] }>('/workspaces').then((r) => r.workspaces),
  createWorkspace: (name: string, description?: string) => send<Workspace>('POST', '/workspaces', { name, description }),
  updateWorkspace: (id: string, patch: { name?: string; description?: string }) =>
    send<Workspace>('PUT', `/workspaces/${id}`, patch),
  deleteWorkspace: (id: string) => send<{ success: true }>('DELETE', `/workspaces/${id}`),
  listMembers: (id: string) => get<{ members: Member[] }>(`/workspaces/${id}/members`).then((r) => r.members),
  addMember: (id: string, email: string, role: Role) => send<Member>('POST', `/workspaces/${id}/members`, { email, role }),
  changeRole: (id: string, userId: string, role: Role) => send<Member>('PUT', `/workspaces/${id}/members/${userId}`, { role }),
  removeMember: (id: string, userId: string) => send<{ success: true }>('DELETE', `/workspaces/${id}/members/${userId}`),

  listExperiments: (q: ExperimentQuery, signal?: AbortSignal) =>
    get<{ experiments: Experiment[]; nextCursor: string | null; total?: number }>(
      '/experiments',
      {
        workspace: q.workspace,
        startwith: q.startwith,
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
    send<{ success: true; experiment: Experiment }>('POST', '/experiments', input).then((r) => r.experiment),
  updateExperiment: (id: string, patch: Partial<ExperimentInput>) => send<Experiment>('PUT', `/experiments/${id}`, patch),
  deleteExperiment: (id: string) => send<{ success: true }>('DELETE', `/experiments/${id}`),

  listMetrics: (id: string, signal?: AbortSignal) =>
    get<{ metrics: MetricSummary[] }>(`/experiments/${id}/metrics`, undefined, signal).then((r) => r.metrics),
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
  directions: (workspaceId: string) =>
    get<{ directions: Record<string, Direction> }>(`/workspaces/${workspaceId}/metric-directions`).then((r) => r.directions),
  setDirection: (workspaceId: string, name: string, direction: Direction | null) =>
    send<{ directions: Record<string, Direction> }>('PUT', `/workspaces/${workspaceId}/metric-directions`, { [name]: direction }),
  columns: (workspaceId: string) => get<{ hyperparams: string[]; metrics: string[] }>(`/workspaces/${workspaceId}/columns`),
  analysis: (body: { experimentId: string; referenceId?: string; provider?: string; question?: string }) =>
    send<Analysis>('POST', '/ai/analysis', body),
  getReference: (id: string) => get<{ referenceId: string | null; chain: ChainLink[] }>(`/experiments/${id}/ref`),
  setReference: (id: string, referenceId: string) =>
    send<{ referenceId: string | null; chain: ChainLink[] }>('POST', `/experiments/${id}/ref`, { referenceId }),
  clearReference: (id: string, refId: string) => send<{ success: true }>('DELETE', `/experiments/${id}/ref/${refId}`),
  raw: (
    id: string,
    q: { name: string; limit?: number; cursor?: string | null; from?: number; to?: number },
    signal?: AbortSignal,
  ) => get<{ name: string; points: RawPoint[]; nextCursor: string | null }>(`/experiments/${id}/metrics/raw`, q, signal),
  csvUrl: (id: string, name?: string) => url(`/experiments/${id}/metrics/csv`, { name }),
};
