#!/usr/bin/env node
// bench/ingest: 1,000,000 points (10 experiments × 10 metrics × 10,000 steps) over HTTP on
// loopback into Tora — columnar batches (JSON numbers and base64 float64 columns) and rows batches
// of 1,000 on SQLite, columnar on
// PostgreSQL — and the same load shape into an MLflow tracking server (SQLite backend, its
// 1,000-metric log-batch), printing the rates and their ratio.
//   node bench/ingest/run.mjs [--skip-mlflow] [--skip-postgres] [--memory] [--smoke]
// MLflow runs from the test command's cached environment (scripts/test-mlflow.sh) when it exists,
// else from bench/.venv-mlflow (installed on first run); --smoke skips it when neither exists.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, stopCluster } from '../../scripts/pg-cluster.mjs';
import { SMOKE, size, smokeBanner } from '../lib/smoke.mjs';
import { ROOT, createExperiment, freePort, pool, rssMb, startTora, waitFor } from '../lib/tora-server.mjs';

const args = new Set(process.argv.slice(2));
const EXPERIMENTS = size(10, 2);
const METRICS = 10;
const STEPS = size(10_000, 1_000);
const PER_BATCH = Math.min(2_000, STEPS);
const TOTAL = EXPERIMENTS * METRICS * STEPS;
const CONCURRENCY = 4;

const metricNames = Array.from({ length: METRICS }, (_, m) => `metric_${m}`);
const value = (e, m, s) => Math.sin(s / 100 + m) * (e + 1);

/** Pre-built request bodies, so the client's JSON work is not timed against the server. */
function columnarBodies(stepsPerBatch, binary = false) {
  const f64 = (xs) => Buffer.from(new Float64Array(xs).buffer).toString('base64');
  const bodies = [];
  for (let e = 0; e < EXPERIMENTS; e++) {
    for (let start = 0; start < STEPS; start += stepsPerBatch) {
      const steps = Array.from({ length: stepsPerBatch }, (_, i) => start + i);
      const series = {};
      metricNames.forEach((name, m) => {
        const values = steps.map((s) => value(e, m, s));
        series[name] = binary ? { stepsF64: f64(steps), valuesF64: f64(values) } : { steps, values };
      });
      bodies.push({ e, body: JSON.stringify({ batchId: `c-${e}-${start}`, series }) });
    }
  }
  return bodies;
}

function rowBodies(rowsPerBatch) {
  const bodies = [];
  const stepsPerBatch = rowsPerBatch / METRICS;
  for (let e = 0; e < EXPERIMENTS; e++) {
    for (let start = 0; start < STEPS; start += stepsPerBatch) {
      const rows = [];
      for (let s = start; s < start + stepsPerBatch; s++) {
        metricNames.forEach((name, m) => rows.push({ name, value: value(e, m, s), step: s, metadata: null }));
      }
      bodies.push({ e, body: JSON.stringify(rows) });
    }
  }
  return bodies;
}

async function ingestTora(server, bodies, label) {
  const ids = [];
  for (let e = 0; e < EXPERIMENTS; e++) ids.push(await createExperiment(server, `${label}-${e}`));
  const t0 = performance.now();
  await pool(
    bodies.map(({ e, body }) => async () => {
      const res = await fetch(`${server.base}/api/experiments/${ids[e]}/metrics/batch`, {
        method: 'POST',
        headers: server.headers,
        body,
      });
      if (res.status !== 201) throw new Error(`batch failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }),
    CONCURRENCY,
  );
  const seconds = (performance.now() - t0) / 1000;
  // Verify: every point is there.
  let stored = 0;
  for (const id of ids) {
    const metrics = (await (await fetch(`${server.base}/api/experiments/${id}/metrics`, { headers: server.headers })).json())
      .metrics;
    stored += metrics.reduce((a, m) => a + m.count, 0);
  }
  if (stored !== TOTAL) throw new Error(`${label}: stored ${stored} points, expected ${TOTAL}`);
  return TOTAL / seconds;
}

function fmt(rate) {
  return `${Math.round(rate).toLocaleString('en-US')} points/s`;
}

/** The test command's cached MLflow environment (keyed like scripts/test-mlflow.sh), if installed. */
function cachedMlflowVenv() {
  const hash = crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(ROOT, 'scripts/mlflow-requirements.txt')))
    .digest('hex')
    .slice(0, 16);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const venv = process.env.TORA_MLFLOW_VENV || path.join(cache, 'tora', `venv-mlflow-${hash}`);
  return fs.existsSync(path.join(venv, '.complete')) ? venv : null;
}

function mlflowPython() {
  const cached = cachedMlflowVenv();
  if (cached) return cached;
  const venv = path.join(ROOT, 'bench/.venv-mlflow');
  const py = path.join(venv, 'bin/python');
  if (!fs.existsSync(path.join(venv, 'bin/mlflow'))) {
    console.log('installing mlflow into bench/.venv-mlflow (once)…');
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(py, ['-m', 'pip', 'install', '-q', 'mlflow'], { stdio: 'inherit' });
  }
  return venv;
}

/** MLflow's REST log-batch (1,000 metrics per request, its limit), same shape and concurrency. */
async function ingestMlflow(maxSeconds) {
  const venv = mlflowPython();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-bench-'));
  const port = await freePort();
  // python -m mlflow, not the console script: a venv built elsewhere and moved keeps stale shebangs.
  const child = spawn(
    path.join(venv, 'bin/python'),
    [
      '-m',
      'mlflow',
      'server',
      '--backend-store-uri',
      `sqlite:///${dir}/mlflow.db`,
      '--default-artifact-root',
      `${dir}/artifacts`,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '2',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', TMPDIR: dir } },
  );
  const base = `http://127.0.0.1:${port}/api/2.0/mlflow`;
  try {
    await waitFor(`http://127.0.0.1:${port}/health`, 180_000);
    const post = async (p, body) => {
      const res = await fetch(`${base}/${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`mlflow ${p}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const experimentId = (await post('experiments/create', { name: 'bench' })).experiment_id;
    const runs = [];
    for (let e = 0; e < EXPERIMENTS; e++)
      runs.push((await post('runs/create', { experiment_id: experimentId, start_time: Date.now() })).run.info.run_id);
    const bodies = [];
    const stepsPerBatch = 1000 / METRICS;
    for (let start = 0; start < STEPS; start += stepsPerBatch) {
      for (let e = 0; e < EXPERIMENTS; e++) {
        const metrics = [];
        for (let s = start; s < start + stepsPerBatch; s++) {
          metricNames.forEach((key, m) => metrics.push({ key, value: value(e, m, s), timestamp: Date.now(), step: s }));
        }
        bodies.push(JSON.stringify({ run_id: runs[e], metrics }));
      }
    }
    let sent = 0;
    const t0 = performance.now();
    const deadline = t0 + maxSeconds * 1000;
    await pool(
      bodies.map((body) => async () => {
        if (performance.now() > deadline) return;
        const res = await fetch(`${base}/runs/log-batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (!res.ok) throw new Error(`mlflow log-batch: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
        sent += 1000;
      }),
      CONCURRENCY,
    );
    const seconds = (performance.now() - t0) / 1000;
    return { rate: sent / seconds, sent };
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function memory() {
  const server = await startTora();
  try {
    const ids = [];
    for (let e = 0; e < 10; e++) ids.push(await createExperiment(server, `mem-${e}`));
    const steps = size(100_000, 2_000);
    const perBatch = Math.min(2_000, steps);
    const tasks = [];
    for (let e = 0; e < 10; e++) {
      for (let start = 0; start < steps; start += perBatch) {
        tasks.push(async () => {
          const s = Array.from({ length: perBatch }, (_, i) => start + i);
          const series = {};
          metricNames.forEach((name, m) => (series[name] = { steps: s, values: s.map((x) => value(e, m, x)) }));
          const res = await fetch(`${server.base}/api/experiments/${ids[e]}/metrics/batch`, {
            method: 'POST',
            headers: server.headers,
            body: JSON.stringify({ series }),
          });
          if (res.status !== 201) throw new Error(`batch failed: ${res.status}`);
          await res.arrayBuffer();
        });
      }
    }
    const baseline = rssMb(server.pid);
    const t0 = performance.now();
    await pool(tasks, CONCURRENCY);
    const seconds = (performance.now() - t0) / 1000;
    const rss = rssMb(server.pid);
    console.log(
      `memory: ${(10 * METRICS * steps).toLocaleString('en-US')} points ingested in ${seconds.toFixed(1)} s; server RSS ${rss.toFixed(0)} MB (at start ${baseline.toFixed(0)} MB; target ≤ 300 MB)`,
    );
  } finally {
    await server.stop();
  }
}

smokeBanner('bench/ingest');
console.log(
  `bench/ingest: ${TOTAL.toLocaleString('en-US')} points (${EXPERIMENTS} experiments × ${METRICS} metrics × ${STEPS} steps), ${CONCURRENCY} requests in flight, ${os.cpus().length} cores`,
);
const results = {};
{
  const server = await startTora();
  try {
    results.columnar = await ingestTora(server, columnarBodies(PER_BATCH), 'columnar');
    console.log(
      `Tora SQLite, columnar batches of ${(PER_BATCH * METRICS).toLocaleString('en-US')} points: ${fmt(results.columnar)}  (target ≥ 300,000)`,
    );
    results.binary = await ingestTora(server, columnarBodies(PER_BATCH, true), 'binary');
    console.log(
      `Tora SQLite, same batches as float64 columns:  ${fmt(results.binary)}  (${(results.binary / results.columnar).toFixed(2)}× JSON numbers)`,
    );
    results.rows = await ingestTora(server, rowBodies(1_000), 'rows');
    console.log(`Tora SQLite, rows batches of 1,000:            ${fmt(results.rows)}  (target ≥ 100,000)`);
  } finally {
    await server.stop();
  }
}
if (!args.has('--skip-postgres')) {
  const cluster = await startCluster();
  const server = await startTora({ databaseUrl: cluster.url });
  try {
    results.postgres = await ingestTora(server, columnarBodies(PER_BATCH), 'pg');
    console.log(`Tora PostgreSQL, columnar batches:             ${fmt(results.postgres)}  (target ≥ 100,000)`);
  } finally {
    await server.stop();
    stopCluster(cluster.dir);
  }
}
if (
  SMOKE &&
  !args.has('--skip-mlflow') &&
  !cachedMlflowVenv() &&
  !fs.existsSync(path.join(ROOT, 'bench/.venv-mlflow/bin/mlflow'))
) {
  console.log('MLflow baseline skipped in --smoke: it needs an install (run scripts/test-mlflow.sh once)');
} else if (!args.has('--skip-mlflow')) {
  const { rate, sent } = await ingestMlflow(size(60, 5));
  results.mlflow = rate;
  console.log(
    `MLflow SQLite, log-batch of 1,000 metrics:     ${fmt(rate)}  (${sent.toLocaleString('en-US')} points in ≤ ${size(60, 5)} s)`,
  );
  console.log(
    `ratio Tora columnar / MLflow: ${(results.columnar / rate).toFixed(1)}×, Tora rows / MLflow: ${(results.rows / rate).toFixed(1)}×  (target ≥ 30×)`,
  );
}
if (args.has('--memory')) await memory();
