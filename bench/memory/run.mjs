#!/usr/bin/env node
// bench/memory: how much one read grows the server. 20 experiments × 2 metrics × 100,000 points
// (4·10⁶ points, one second apart in wall time) on SQLite; for each read, the server's peak RSS
// during the request (Linux VmHWM, reset through /proc/PID/clear_refs) minus its RSS before it.
//   node bench/memory/run.mjs [--raw-limit N] [--smoke]
import fs from 'node:fs';
import { size, smokeBanner } from '../lib/smoke.mjs';
import { createExperiment, startTora } from '../lib/tora-server.mjs';

const EXPERIMENTS = size(20, 2);
const METRICS = ['train/loss', 'val/loss'];
const N = size(100_000, 2_000);
const CHUNK = Math.min(50_000, N);
smokeBanner('bench/memory');
const flag = process.argv.indexOf('--raw-limit');
const rawLimit = flag > 0 ? Number(process.argv[flag + 1]) : 20_000;

const fmtN = (n) => n.toLocaleString('en-US');
const status = (pid) => fs.readFileSync(`/proc/${pid}/status`, 'utf8');
const kb = (text, field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)[1]);

async function measure(server, label, url) {
  await new Promise((r) => setTimeout(r, 300));
  fs.writeFileSync(`/proc/${server.pid}/clear_refs`, '5'); // resets the peak to the current RSS
  const before = kb(status(server.pid), 'VmRSS');
  const t0 = performance.now();
  const res = await fetch(url, { headers: server.headers });
  const bytes = (await res.arrayBuffer()).byteLength;
  const ms = performance.now() - t0;
  const peak = kb(status(server.pid), 'VmHWM');
  console.log(
    `${label.padEnd(44)} ${String(res.status).padEnd(4)} ${(bytes / 1e6).toFixed(1).padStart(6)} MB body ` +
      `${ms.toFixed(0).padStart(6)} ms  +${((peak - before) / 1024).toFixed(1)} MB peak RSS`,
  );
}

const server = await startTora();
try {
  const ids = [];
  for (let e = 0; e < EXPERIMENTS; e++) {
    const id = await createExperiment(server, `mem-${e}`);
    for (let start = 0; start < N; start += CHUNK) {
      const steps = Array.from({ length: CHUNK }, (_, i) => start + i);
      const times = steps.map((s) => 1_764_000_000_000 + s * 1000);
      const series = Object.fromEntries(METRICS.map((m, k) => [m, { steps, times, values: steps.map((s) => 1 / (s + 1 + k)) }]));
      const res = await fetch(`${server.base}/api/experiments/${id}/metrics/batch`, {
        method: 'POST',
        headers: server.headers,
        body: JSON.stringify({ series }),
      });
      if (res.status !== 201) throw new Error(`ingest ${res.status}: ${await res.text()}`);
    }
    ids.push(id);
  }
  const metrics = METRICS.map(encodeURIComponent).join(',');
  const api = `${server.base}/api/experiments`;
  console.log(`server RSS at start of reads: ${(kb(status(server.pid), 'VmRSS') / 1024).toFixed(0)} MB`);
  await measure(
    server,
    `compare ${EXPERIMENTS} × 2 by wall time (${fmtN(EXPERIMENTS * 2 * N)} points)`,
    `${api}/compare?ids=${ids}&metrics=${metrics}&x=time&budget=800`,
  );
  await measure(
    server,
    `compare ${EXPERIMENTS} × 2 by step (${fmtN(EXPERIMENTS * 2 * N)} points)`,
    `${api}/compare?ids=${ids}&metrics=${metrics}&budget=800`,
  );
  await measure(server, `raw page, limit=${rawLimit}`, `${api}/${ids[0]}/metrics/raw?name=train%2Floss&limit=${rawLimit}`);
  await measure(server, `series by wall time (${fmtN(N)} points)`, `${api}/${ids[0]}/metrics/series?name=train%2Floss&x=time`);
  await measure(server, `CSV of one experiment (${fmtN(2 * N)} points)`, `${api}/${ids[0]}/metrics/csv`);
} finally {
  await server.stop();
}
