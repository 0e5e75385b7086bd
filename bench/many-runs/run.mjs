#!/usr/bin/env node
// bench/many-runs: the reads of issue #17, each with a baseline measured in the same run.
//   band:   POST /api/metrics/band over R runs × N points at 1,000 buckets, versus R single-series
//           reads (GET …/metrics/series, budget 1,000) of the same runs, summed.
//   axis:   GET …/metrics/series?x=metric:tokens over 10 runs × N points (a one-step spike checked
//           in every answer), versus the same reads on x=step.
//   groups: GET /api/experiments?groupBy=params.lr over E experiments with 10 metrics each, versus
//           the flat list's first page sorted by a metric.
// Median server time (Server-Timing). Sizes are flags so a loaded machine can run smaller ones:
//   node bench/many-runs/run.mjs [--postgres] [--only band|axis|groups] [--runs 50] [--points 1000000] [--experiments 10000] [--smoke]
import { startCluster, stopCluster } from '../../scripts/pg-cluster.mjs';
import { smokeBanner, SMOKE } from '../lib/smoke.mjs';
import { createExperiment, startTora } from '../lib/tora-server.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
// --smoke: 3 runs × 5,000 points, 100 experiments, one repeat (figures are not results).
const RUNS = SMOKE ? 3 : Number(arg('runs', 50));
const POINTS = SMOKE ? 5_000 : Number(arg('points', 1_000_000));
const EXPERIMENTS = SMOKE ? 100 : Number(arg('experiments', 10_000));
smokeBanner('bench/many-runs');
const ONLY = arg('only', null);
const REPEAT = SMOKE ? 1 : 7;
const BATCH = 100_000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const serverMs = (res) => Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN);
const f64 = (arr) => Buffer.from(new Float64Array(arr).buffer).toString('base64');
const fmt = (ms) => `${ms.toFixed(1)} ms`;

async function post(server, url, body) {
  const res = await fetch(`${server.base}${url}`, { method: 'POST', headers: server.headers, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res;
}

/** Logs `loss` (with a spike at step N/2 + 17) and `tokens` (growing 400–1,000 a step) for one run. */
async function logRun(server, id, r, withTokens) {
  let tokens = 0;
  for (let start = 0; start < POINTS; start += BATCH) {
    const n = Math.min(BATCH, POINTS - start);
    const steps = new Float64Array(n);
    const loss = new Float64Array(n);
    const tok = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = start + i;
      steps[i] = s;
      loss[i] = 2 * Math.exp(-s / (POINTS / 3)) + 0.05 * Math.sin(s / 50 + r) + 0.01 * r;
      if (s === POINTS / 2 + 17) loss[i] = 1e3;
      tok[i] = tokens += 400 + ((s * 7919) % 601);
    }
    const series = { loss: { stepsF64: f64(steps), valuesF64: f64(loss) } };
    if (withTokens) series.tokens = { stepsF64: f64(steps), valuesF64: f64(tok) };
    await post(server, `/api/experiments/${id}/metrics/batch`, { series });
  }
}

async function timed(fn) {
  const times = [];
  for (let i = 0; i < REPEAT; i++) times.push(await fn());
  return median(times);
}

async function benchBand(server, label) {
  const ids = [];
  const t0 = performance.now();
  for (let r = 0; r < RUNS; r++) {
    const id = await createExperiment(server, `band-${r}`);
    await logRun(server, id, r, false);
    ids.push(id);
  }
  console.log(
    `${label}: band data: ${RUNS} runs × ${POINTS} points ingested in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const band = await timed(async () => {
    const res = await post(server, '/api/metrics/band', { experimentIds: ids, name: 'loss', budget: 1000 });
    const body = await res.json();
    if (body.n[Math.floor(body.n.length / 2)] !== RUNS || body.experiments.length !== RUNS) throw new Error('band lost runs');
    return serverMs(res);
  });
  const singles = await timed(async () => {
    let sum = 0;
    for (const id of ids) {
      const res = await fetch(`${server.base}/api/experiments/${id}/metrics/series?name=loss&budget=1000`, {
        headers: server.headers,
      });
      await res.json();
      sum += serverMs(res);
    }
    return sum;
  });
  console.log(
    `${label}: band of ${RUNS} runs × ${POINTS} points, 1,000 buckets: median server ${fmt(band)} (target ≤ 1,000 ms); ` +
      `${RUNS} single-series reads summed ${fmt(singles)}; band / singles ${(band / singles).toFixed(2)}`,
  );
}

async function benchAxis(server, label) {
  const ids = [];
  for (let r = 0; r < 10; r++) {
    const id = await createExperiment(server, `axis-${r}`);
    await logRun(server, id, r, true);
    ids.push(id);
  }
  const read = (x) =>
    timed(async () => {
      let worst = 0;
      for (const id of ids) {
        const res = await fetch(`${server.base}/api/experiments/${id}/metrics/series?name=loss&budget=1000&x=${x}`, {
          headers: server.headers,
        });
        const body = await res.json();
        if (body.pointCount !== POINTS || Math.max(...body.buckets.maxValue) !== 1e3) throw new Error(`x=${x} lost the spike`);
        worst = Math.max(worst, serverMs(res));
      }
      return worst;
    });
  const tokens = await read('metric:tokens');
  const steps = await read('step');
  console.log(
    `${label}: series of ${POINTS} points on x=metric:tokens, slowest of 10 runs: median server ${fmt(tokens)} (target ≤ 150 ms); ` +
      `same on x=step ${fmt(steps)}; ratio ${(tokens / steps).toFixed(1)}× (spike kept in every answer)`,
  );
}

async function benchGroups(server, label) {
  const t0 = performance.now();
  const lrs = [0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001, 0.00003];
  const names = Array.from({ length: 10 }, (_, m) => `m${m}`);
  const ws = (await (await post(server, '/api/workspaces', { name: 'groups' })).json()).id;
  let next = 0;
  const worker = async () => {
    while (next < EXPERIMENTS) {
      const e = next++;
      const res = await post(server, '/api/experiments', {
        name: `g-${e}`,
        workspaceId: ws,
        hyperparams: { lr: lrs[e % lrs.length], seed: e },
      });
      const id = (await res.json()).experiment.id;
      const series = Object.fromEntries(names.map((n, m) => [n, { values: [1, 0.5 + ((e * (m + 3)) % 97) / 97] }]));
      await post(server, `/api/experiments/${id}/metrics/batch`, { series });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  console.log(
    `${label}: groups data: ${EXPERIMENTS} experiments × 10 metrics in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const grouped = await timed(async () => {
    const res = await fetch(`${server.base}/api/experiments?workspace=${ws}&groupBy=params.lr&groupMetrics=${names.join(',')}`, {
      headers: server.headers,
    });
    const body = await res.json();
    if (body.total !== EXPERIMENTS || body.groups.length !== lrs.length) throw new Error('groups miscounted');
    return serverMs(res);
  });
  const flat = await timed(async () => {
    const res = await fetch(`${server.base}/api/experiments?workspace=${ws}&sort=metric:m0&limit=50`, {
      headers: server.headers,
    });
    await res.json();
    return serverMs(res);
  });
  console.log(
    `${label}: dashboard grouped by params.lr over ${EXPERIMENTS} experiments (10 metric columns): median server ${fmt(grouped)} ` +
      `(target ≤ 300 ms at 10,000); flat list page sorted by a metric ${fmt(flat)}; ratio ${(grouped / flat).toFixed(1)}×`,
  );
}

/** Each part on a fresh server and database (its data does not slow the others): SQLite, or a cluster of its own. */
async function run(label, postgres) {
  for (const [name, fn] of [
    ['band', benchBand],
    ['axis', benchAxis],
    ['groups', benchGroups],
  ]) {
    if (ONLY && ONLY !== name) continue;
    const cluster = postgres ? await startCluster() : null;
    const server = await startTora({ databaseUrl: cluster?.url ?? '' });
    try {
      await fn(server, label);
    } finally {
      await server.stop();
      if (cluster) stopCluster(cluster.dir);
    }
  }
}

// SQLite, or PostgreSQL with --postgres; a smoke run takes both.
if (SMOKE || !process.argv.includes('--postgres')) await run('SQLite', false);
if (process.argv.includes('--postgres')) await run('PostgreSQL', true);
