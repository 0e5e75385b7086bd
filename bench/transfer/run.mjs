#!/usr/bin/env node
// bench/transfer: `tora export` and `tora import` of 1,000,000 points (10 experiments × 10 metrics
// × 10,000 steps) from one SQLite server's database into a fresh one (or PostgreSQL with
// --postgres), against baselines measured in the same run: reading the same points through the
// API's CSV export, and ingesting them through the HTTP batch API.
//   node bench/transfer/run.mjs [--postgres] [--smoke]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, stopCluster } from '../../scripts/pg-cluster.mjs';
import { size, smokeBanner } from '../lib/smoke.mjs';
import { BIN, createExperiment, pool, startTora } from '../lib/tora-server.mjs';

const EXPERIMENTS = size(10, 2);
const METRICS = 10;
const STEPS = size(10_000, 500);
const CHUNK = Math.min(2_000, STEPS);
smokeBanner('bench/transfer');
const TOTAL = EXPERIMENTS * METRICS * STEPS;
const seconds = (t0) => (performance.now() - t0) / 1000;
const rate = (s) => `${Math.round(TOTAL / s).toLocaleString('en-US')} points/s`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-transfer-bench-'));
const source = await startTora();
let cluster = null;
try {
  const ids = [];
  for (let e = 0; e < EXPERIMENTS; e++) ids.push(await createExperiment(source, `transfer-${e}`));
  const bodies = [];
  for (const [e, id] of ids.entries()) {
    for (let start = 0; start < STEPS; start += CHUNK) {
      const steps = Array.from({ length: CHUNK }, (_, i) => start + i);
      const series = {};
      for (let m = 0; m < METRICS; m++)
        series[`metric_${m}`] = { steps, values: steps.map((s) => Math.sin(s / 100 + m) * (e + 1)) };
      bodies.push({ id, body: JSON.stringify({ series }) });
    }
  }
  let t0 = performance.now();
  await pool(
    bodies.map(({ id, body }) => async () => {
      const res = await fetch(`${source.base}/api/experiments/${id}/metrics/batch`, {
        method: 'POST',
        headers: source.headers,
        body,
      });
      if (res.status !== 201) throw new Error(`ingest: ${res.status}`);
      await res.arrayBuffer();
    }),
    4,
  );
  const ingest = seconds(t0);

  t0 = performance.now();
  let csvLines = 0;
  for (const id of ids) {
    const text = await (await fetch(`${source.base}/api/experiments/${id}/metrics/csv`, { headers: source.headers })).text();
    csvLines += text.split('\n').length - 2;
  }
  const csv = seconds(t0);
  if (csvLines !== TOTAL) throw new Error(`CSV holds ${csvLines} points`);

  const file = path.join(tmp, 'export.jsonl');
  t0 = performance.now();
  execFileSync(process.execPath, [BIN, 'export', '--out', file], { env: source.env, stdio: 'ignore' });
  const exported = seconds(t0);
  const fileBytes = fs.statSync(file).size;

  let databaseUrl = '';
  if (process.argv.includes('--postgres')) {
    cluster = await startCluster();
    databaseUrl = cluster.url;
  }
  const targetEnv = {
    ...process.env,
    TORA_DATA_DIR: path.join(tmp, 'target'),
    TORA_DATABASE_URL: databaseUrl,
    TORA_LOG_LEVEL: 'warn',
  };
  execFileSync(process.execPath, [BIN, 'user', 'create', '--email', 'bench@example.com', '--password', 'benchmark-pw'], {
    env: targetEnv,
    stdio: 'ignore',
  });
  t0 = performance.now();
  const out = execFileSync(process.execPath, [BIN, 'import', file, '--email', 'bench@example.com'], {
    env: targetEnv,
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  const imported = seconds(t0);
  if (!out.includes(`${TOTAL.toLocaleString('en-US')} points (0 already there)`)) throw new Error(`import said: ${out}`);

  const target = databaseUrl ? 'PostgreSQL' : 'SQLite';
  console.log(
    `bench/transfer: ${TOTAL.toLocaleString('en-US')} points (${EXPERIMENTS} × ${METRICS} × ${STEPS}), SQLite → ${target}`,
  );
  console.log(`tora export:  ${exported.toFixed(2)} s (${rate(exported)}), ${(fileBytes / 1e6).toFixed(1)} MB`);
  console.log(
    `  baseline, the same points as CSV through the API: ${csv.toFixed(2)} s → export is ${(csv / exported).toFixed(1)}× faster`,
  );
  console.log(`tora import:  ${imported.toFixed(2)} s (${rate(imported)}) into ${target}`);
  console.log(
    `  baseline, the same points through the HTTP batch API (SQLite, 4 in flight): ${ingest.toFixed(2)} s → ratio ${(ingest / imported).toFixed(2)}×`,
  );
} finally {
  await source.stop();
  if (cluster) stopCluster(cluster.dir);
  fs.rmSync(tmp, { recursive: true, force: true });
}
