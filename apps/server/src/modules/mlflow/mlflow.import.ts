import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { AppContext, Caller } from '../../context.js';
import { findRunByTag } from '../experiments/experiments.rows.service.js';
import { findFile } from '../files/files.service.js';
import { storeRunFile } from '../files/files.store.js';
import { MlflowError } from './mlflow.errors.js';
import * as experiments from './mlflow.experiments.service.js';
import { logBatch, metricInput, type MetricInput } from './mlflow.logging.service.js';
import { createRun, MLFLOW_STATUSES, updateRun, type MlflowStatus } from './mlflow.runs.service.js';

/** The tag that remembers where an imported run came from, so a second import finds it. */
const IMPORT_SOURCE_TAG = 'tora.import.source';

export interface ImportOptions {
  /** Base URL of the MLflow tracking server, e.g. http://mlflow-host:5000 */
  from: string;
  /** Bearer token for the MLflow server, if it needs one. */
  token?: string;
  /** Experiment names to copy; all active experiments when empty. */
  experiments: string[];
  /** Also copy each run's artifact files (through the source's `/get-artifact`, whatever its artifact store). */
  artifacts?: boolean;
}

export interface ImportTotals {
  experiments: number;
  runs: number;
  newRuns: number;
  points: number;
  /** Artifact files copied (with `artifacts`); those already here with the same size are not fetched again. */
  files: number;
}

interface KV {
  key: string;
  value: string;
}
interface RemoteExperiment {
  experiment_id: string;
  name: string;
  tags?: KV[];
}
interface RemoteRun {
  info: { run_id: string; run_name?: string; status?: string; start_time?: number | string; end_time?: number | string };
  data?: { metrics?: { key: string }[]; params?: KV[]; tags?: KV[] };
}

const HISTORY_PAGE = 25_000;

interface RemoteFile {
  path: string;
  is_dir?: boolean;
  file_size?: number | string;
}

/** A small MLflow REST client over fetch: MLflow's errors come back as a clear exception. */
function remote(opts: ImportOptions) {
  const base = opts.from.replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return async <T>(
    method: 'GET' | 'POST',
    path: string,
    body: Record<string, string | number | string[] | undefined>,
  ): Promise<T> => {
    let url = `${base}/api/2.0/mlflow/${path}`;
    if (method === 'GET') {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) if (v !== undefined) qs.append(k, Array.isArray(v) ? v.join(',') : String(v));
      url += `?${qs.toString()}`;
    }
    const res = await fetch(url, { method, headers, body: method === 'POST' ? JSON.stringify(body) : undefined });
    const text = await res.text();
    if (!res.ok) throw new Error(`MLflow server answered ${res.status} to ${path}: ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
}

async function sourceExperiments(call: ReturnType<typeof remote>, names: string[]): Promise<RemoteExperiment[]> {
  if (names.length > 0) {
    const out: RemoteExperiment[] = [];
    for (const name of names) {
      out.push(
        (await call<{ experiment: RemoteExperiment }>('GET', 'experiments/get-by-name', { experiment_name: name })).experiment,
      );
    }
    return out;
  }
  const out: RemoteExperiment[] = [];
  let token: string | undefined;
  do {
    const page = await call<{ experiments?: RemoteExperiment[]; next_page_token?: string }>('POST', 'experiments/search', {
      max_results: 1000,
      page_token: token,
    });
    out.push(...(page.experiments ?? []));
    token = page.next_page_token || undefined;
  } while (token);
  return out;
}

/** The caller's workspace named like the MLflow experiment, created when there is none. */
async function workspaceFor(ctx: AppContext, caller: Caller, exp: RemoteExperiment): Promise<string> {
  try {
    return (await experiments.getExperimentByName(ctx, caller, exp.name)).experiment_id;
  } catch (err) {
    if (!(err instanceof MlflowError) || err.status !== 404) throw err;
  }
  const tags = (exp.tags ?? []).filter((t) => !t.key.startsWith('mlflow.'));
  return experiments.createExperiment(ctx, caller, { name: exp.name, tags });
}

const toInt = (v: number | string | undefined): number | undefined =>
  v === undefined || v === null || v === '' ? undefined : Number(v);

async function copyRun(
  ctx: AppContext,
  caller: Caller,
  call: ReturnType<typeof remote>,
  workspaceId: string,
  run: RemoteRun,
  source: string,
): Promise<{ created: boolean; points: number; runId: string }> {
  const existing = await findRunByTag(ctx, workspaceId, IMPORT_SOURCE_TAG, source);
  const tags = (run.data?.tags ?? []).filter((t) => t.key !== 'mlflow.runName');
  let runId = existing;
  if (runId === undefined) {
    const created = await createRun(ctx, caller, {
      experimentId: workspaceId,
      runName: run.info.run_name,
      startTime: toInt(run.info.start_time),
      tags: [...tags.slice(0, 99), { key: IMPORT_SOURCE_TAG, value: source }],
    });
    runId = created.info.run_id;
  }
  const params = run.data?.params ?? [];
  for (let i = 0; i < Math.max(params.length, tags.length); i += 100) {
    await logBatch(ctx, caller, runId, { metrics: [], params: params.slice(i, i + 100), tags: tags.slice(i, i + 100) });
  }
  let points = 0;
  for (const key of [...new Set((run.data?.metrics ?? []).map((m) => m.key))]) {
    let token: string | undefined;
    do {
      const page = await call<{ metrics?: unknown[]; next_page_token?: string }>('GET', 'metrics/get-history', {
        run_id: run.info.run_id,
        metric_key: key,
        max_results: HISTORY_PAGE,
        page_token: token,
      });
      const metrics: MetricInput[] = (page.metrics ?? []).map((m) => metricInput(m));
      // One page per transaction; its content hash is its batch id, so a rerun stores nothing again.
      if (metrics.length > 0) await logBatch(ctx, caller, runId, { metrics, params: [], tags: [] }, { bulk: true });
      points += metrics.length;
      token = page.next_page_token || undefined;
    } while (token);
  }
  const status = run.info.status;
  if (status !== undefined && (MLFLOW_STATUSES as readonly string[]).includes(status)) {
    await updateRun(ctx, caller, runId, { status: status as MlflowStatus, endTime: toInt(run.info.end_time) });
  }
  return { created: existing === undefined, points, runId };
}

/**
 * Copies a run's artifact files, walking `artifacts/list` and streaming each file from the source's
 * `/get-artifact` into the run's files here (the one writer, so images logged by key and step
 * become media). A file already here with the same size is taken as copied by an earlier import.
 */
async function copyArtifacts(
  ctx: AppContext,
  opts: ImportOptions,
  call: ReturnType<typeof remote>,
  remoteRunId: string,
  run: { workspaceId: string; experimentId: string },
): Promise<number> {
  const base = opts.from.replace(/\/+$/, '');
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  let copied = 0;
  const dirs = [''];
  while (dirs.length > 0) {
    const dir = dirs.shift()!;
    const listing = await call<{ files?: RemoteFile[] }>('GET', 'artifacts/list', {
      run_id: remoteRunId,
      path: dir || undefined,
    });
    for (const f of listing.files ?? []) {
      if (f.is_dir) {
        dirs.push(f.path);
        continue;
      }
      const here = await findFile(ctx, run.experimentId, f.path);
      if (here !== undefined && here.size === Number(f.file_size)) continue;
      const qs = new URLSearchParams({ path: f.path, run_uuid: remoteRunId, run_id: remoteRunId });
      const res = await fetch(`${base}/get-artifact?${qs.toString()}`, { headers });
      if (!res.ok || res.body === null) throw new Error(`MLflow server answered ${res.status} to get-artifact ${f.path}`);
      await storeRunFile(ctx, run, f.path, Readable.fromWeb(res.body as WebReadableStream<Uint8Array>));
      copied++;
    }
  }
  return copied;
}

/**
 * Copies experiments, runs, params, tags, statuses, times and every metric point from a running
 * MLflow tracking server into workspaces of the same names, as `caller`. Rerun-safe: runs are
 * found again by their source tag and points are claimed by content, so a second import adds
 * nothing and an interrupted one is finished by importing again.
 */
export async function importMlflow(
  ctx: AppContext,
  caller: Caller,
  opts: ImportOptions,
  progress: (line: string) => void,
): Promise<ImportTotals> {
  const call = remote(opts);
  const totals: ImportTotals = { experiments: 0, runs: 0, newRuns: 0, points: 0, files: 0 };
  const base = opts.from.replace(/\/+$/, '');
  for (const exp of await sourceExperiments(call, opts.experiments)) {
    const workspaceId = await workspaceFor(ctx, caller, exp);
    totals.experiments++;
    progress(`experiment "${exp.name}" → workspace ${workspaceId}`);
    let token: string | undefined;
    do {
      const page = await call<{ runs?: RemoteRun[]; next_page_token?: string }>('POST', 'runs/search', {
        experiment_ids: [exp.experiment_id],
        max_results: 1000,
        page_token: token,
        order_by: ['attributes.start_time ASC'],
      });
      for (const run of page.runs ?? []) {
        const result = await copyRun(ctx, caller, call, workspaceId, run, `${base}#${run.info.run_id}`);
        totals.runs++;
        if (result.created) totals.newRuns++;
        totals.points += result.points;
        const files = opts.artifacts
          ? await copyArtifacts(ctx, opts, call, run.info.run_id, { workspaceId, experimentId: result.runId })
          : 0;
        totals.files += files;
        progress(
          `  run "${run.info.run_name ?? run.info.run_id}": ${result.points} points` +
            `${opts.artifacts ? `, ${files} files` : ''}${result.created ? '' : ' (found from an earlier import)'}`,
        );
      }
      token = page.next_page_token || undefined;
    } while (token);
  }
  return totals;
}
