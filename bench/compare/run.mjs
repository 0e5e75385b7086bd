#!/usr/bin/env node
// bench/compare: one compare read of 20 experiments × 4 metrics × 100,000 points at a budget of
// 800 buckets, versus the same data read with 80 separate series requests (the baseline a
// client without the compare read would make). Prints median server time (Server-Timing) and
// wall time of each and their ratio. Target: compare ≤ 200 ms server time.
//   node bench/compare/run.mjs [--postgres] [--smoke]
import { startCluster, stopCluster } from '../../scripts/pg-cluster.mjs';
import { size, smokeBanner } from '../lib/smoke.mjs';
import { createExperiment, startTora } from '../lib/tora-server.mjs';

const EXPERIMENTS = size(20, 3);
const METRICS = ['train/loss', 'val/loss', 'val/acc', 'lr'];
const N = size(100_000, 2_000);
const BUDGET = 800;
const RUNS = size(15, 1);
smokeBanner('bench/compare');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const serverMs = (res) => Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN);

async function ingest(server, id, e) {
  const half = N / 2;
  for (let start = 0; start < N; start += half) {
    const steps = Array.from({ length: half }, (_, i) => start + i);
    const series = {};
    METRICS.forEach((name, m) => {
      series[name] = { steps, values: steps.map((s) => Math.exp(-s / (20_000 + 1000 * e)) + 0.01 * Math.sin(s + m)) };
    });
    const res = await fetch(`${server.base}/api/experiments/${id}/metrics/batch`, {
      method: 'POST',
      headers: server.headers,
      body: JSON.stringify({ series }),
    });
    if (res.status !== 201) throw new Error(`ingest: ${res.status} ${await res.text()}`);
  }
}

async function run(label, databaseUrl) {
  const server = await startTora({ databaseUrl });
  try {
    const ids = [];
    for (let e = 0; e < EXPERIMENTS; e++) {
      const id = await createExperiment(server, `compare-${e}`);
      await ingest(server, id, e);
      ids.push(id);
    }
    const metrics = METRICS.map(encodeURIComponent).join(',');
    const url = `${server.base}/api/experiments/compare?ids=${ids.join(',')}&metrics=${metrics}&budget=${BUDGET}&referenceId=${ids[0]}`;
    const compare = { server: [], wall: [] };
    for (let i = 0; i < RUNS + 2; i++) {
      const t0 = performance.now();
      const res = await fetch(url, { headers: server.headers });
      const body = await res.json();
      if (i < 2) continue; // warm-up
      compare.wall.push(performance.now() - t0);
      compare.server.push(serverMs(res));
      const points = body.experiments.reduce((a, e) => a + e.metrics.reduce((b, m) => b + m.series.pointCount, 0), 0);
      if (points !== EXPERIMENTS * METRICS.length * N) throw new Error(`compare covered ${points} points`);
    }
    const separate = { server: [], wall: [] };
    for (let i = 0; i < RUNS + 2; i++) {
      let srv = 0;
      const t0 = performance.now();
      for (const id of ids) {
        for (const name of METRICS) {
          const res = await fetch(
            `${server.base}/api/experiments/${id}/metrics/series?name=${encodeURIComponent(name)}&budget=${BUDGET}`,
            { headers: server.headers },
          );
          await res.json();
          srv += serverMs(res);
        }
      }
      if (i < 2) continue;
      separate.wall.push(performance.now() - t0);
      separate.server.push(srv);
    }
    const c = median(compare.server);
    const s = median(separate.server);
    console.log(
      `${label}: compare ${EXPERIMENTS} experiments × ${METRICS.length} metrics × ${N.toLocaleString('en')} points, budget ${BUDGET}: ` +
        `median server ${c.toFixed(1)} ms (wall ${median(compare.wall).toFixed(1)} ms; target ≤ 200 ms)`,
    );
    console.log(
      `${label}: baseline, ${EXPERIMENTS * METRICS.length} separate series requests: ` +
        `median server ${s.toFixed(1)} ms summed (wall ${median(separate.wall).toFixed(1)} ms)`,
    );
    console.log(
      `${label}: ratio baseline / compare: server ${(s / c).toFixed(2)}×, wall ${(median(separate.wall) / median(compare.wall)).toFixed(2)}×`,
    );
  } finally {
    await server.stop();
  }
}

await run('SQLite', '');
if (process.argv.includes('--postgres')) {
  const cluster = await startCluster();
  try {
    await run('PostgreSQL', cluster.url);
  } finally {
    stopCluster(cluster.dir);
  }
}
