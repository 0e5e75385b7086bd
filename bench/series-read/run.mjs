#!/usr/bin/env node
// bench/series-read: one series of 1,000,000 points read with a budget of 1,000 buckets
// (first/last/min/max per bucket) versus reading all raw points, on SQLite. Prints the median
// server time (Server-Timing header) and wall time of each, and their ratio.
//   node bench/series-read/run.mjs [--postgres] [--smoke]
import { startCluster, stopCluster } from '../../scripts/pg-cluster.mjs';
import { size, smokeBanner } from '../lib/smoke.mjs';
import { createExperiment, startTora } from '../lib/tora-server.mjs';

const N = size(1_000_000, 20_000);
const CHUNK = Math.min(50_000, N);
const RUNS = size(15, 2);
smokeBanner('bench/series-read');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const serverMs = (res) => Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN);

async function run(label, databaseUrl) {
  const server = await startTora({ databaseUrl });
  try {
    const id = await createExperiment(server, 'series-read');
    for (let start = 0; start < N; start += CHUNK) {
      const steps = Array.from({ length: CHUNK }, (_, i) => start + i);
      const values = steps.map((s) => Math.exp(-s / 300_000) + 0.01 * Math.sin(s));
      if (start === Math.floor(N / 2 / CHUNK) * CHUNK) values[1234 % CHUNK] = 1e3; // a one-step spike
      const res = await fetch(`${server.base}/api/experiments/${id}/metrics/batch`, {
        method: 'POST',
        headers: server.headers,
        body: JSON.stringify({ series: { loss: { steps, values } } }),
      });
      if (res.status !== 201) throw new Error(`ingest: ${res.status}`);
    }
    const bucketed = { server: [], wall: [] };
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const res = await fetch(`${server.base}/api/experiments/${id}/metrics/series?name=loss&budget=1000`, {
        headers: server.headers,
      });
      const body = await res.json();
      bucketed.wall.push(performance.now() - t0);
      bucketed.server.push(serverMs(res));
      if (body.pointCount !== N || Math.max(...body.buckets.maxValue) !== 1e3)
        throw new Error('bucketed read lost points or the spike');
    }
    const raw = { server: [], wall: [] };
    for (let i = 0; i < size(5, 1); i++) {
      let cursor = null;
      let count = 0;
      let srv = 0;
      const t0 = performance.now();
      do {
        const res = await fetch(
          `${server.base}/api/experiments/${id}/metrics/raw?name=loss&limit=20000${cursor ? `&cursor=${cursor}` : ''}`,
          {
            headers: server.headers,
          },
        );
        const page = await res.json();
        srv += serverMs(res);
        count += page.points.length;
        cursor = page.nextCursor;
      } while (cursor);
      raw.wall.push(performance.now() - t0);
      raw.server.push(srv);
      if (count !== N) throw new Error(`raw read returned ${count} points`);
    }
    const b = median(bucketed.server);
    const r = median(raw.server);
    console.log(
      `${label}: budget 1,000 over ${N.toLocaleString('en-US')} points: median server ${b.toFixed(1)} ms (wall ${median(bucketed.wall).toFixed(1)} ms; target ≤ 50 ms)`,
    );
    console.log(
      `${label}: all raw points (pages of 20,000):  median server ${r.toFixed(1)} ms (wall ${median(raw.wall).toFixed(1)} ms)`,
    );
    console.log(`${label}: ratio raw / bucketed (server time): ${(r / b).toFixed(1)}×  (target ≥ 20×)`);
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
