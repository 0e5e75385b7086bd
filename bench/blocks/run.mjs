#!/usr/bin/env node
// bench/blocks: the coded block format against the packed one (TORA_BLOCK_FORMAT=packed, the layout
// before it) in the same run, on realistic curves: a noisy loss, a cosine learning rate, an accuracy
// logged as float32, a GPU utilisation sampled every 10 s; steps from 0 and fractional-millisecond
// times as the Python client sends them. For each format: ingest rate over HTTP (4 in flight,
// alternating formats, medians), database bytes per point (SQLite: file pages after a checkpoint, less
// an empty server's; PostgreSQL: the metric tables' total relation size), and the median server time
// of a 1,000-bucket chart read and of a raw page.
//   node bench/blocks/run.mjs [--postgres] [--smoke]
import path from 'node:path';
import { createRequire } from 'node:module';
import { startCluster, stopCluster } from '../../scripts/pg-cluster.mjs';
import { size, smokeBanner } from '../lib/smoke.mjs';
import { ROOT, createExperiment, pool, startTora } from '../lib/tora-server.mjs';

const require = createRequire(path.join(ROOT, 'apps/server/package.json'));
const Database = require('better-sqlite3');
const pg = require('pg');

const EXPERIMENTS = size(10, 2);
const STEPS = size(100_000, 5_000);
const PER_BATCH = Math.min(10_000, STEPS);
const ROUNDS = size(3, 1);
const READS = size(15, 2);
const T0 = 1_764_000_000_000;
const METRICS = ['train/loss', 'lr', 'val/acc', 'system/gpu0/util'];
const TOTAL = EXPERIMENTS * METRICS.length * STEPS;
smokeBanner('bench/blocks');

const f64 = (xs) => Buffer.from(new Float64Array(xs).buffer).toString('base64');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const serverMs = (res) => Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN);
let seed = 42;
const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;

/** The curves of one experiment, batch by batch: {name: {stepsF64, valuesF64, timesF64}}. */
function bodies(e) {
  const out = [];
  for (let start = 0; start < STEPS; start += PER_BATCH) {
    const steps = Array.from({ length: PER_BATCH }, (_, i) => start + i);
    const times = steps.map((s) => T0 + s * 41.3 + random() * 2);
    const curve = {
      'train/loss': steps.map((s) => (2.5 + e / 10) * Math.exp(-s / (STEPS / 3)) + 0.05 * random()),
      lr: steps.map((s) => 5e-4 * (1 + Math.cos((Math.PI * s) / STEPS))),
      'val/acc': steps.map((s) => Math.fround(0.5 + 0.45 * (1 - Math.exp(-s / (STEPS / 5))) + 0.02 * random())),
      'system/gpu0/util': steps.map(() => Math.round(85 + 15 * random())),
    };
    const series = {};
    for (const name of METRICS) {
      // The sampler logs every 10 s: its own steps and times.
      const sampled = name.startsWith('system/');
      series[name] = {
        stepsF64: f64(steps),
        valuesF64: f64(curve[name]),
        timesF64: f64(sampled ? steps.map((s) => T0 + s * 10_000 + Math.round(random() * 20)) : times),
      };
    }
    out.push(JSON.stringify({ series }));
  }
  return out;
}

async function ingest(server, label, prepared) {
  const ids = [];
  for (let e = 0; e < EXPERIMENTS; e++) ids.push(await createExperiment(server, `${label}-${e}`));
  const t0 = performance.now();
  await pool(
    prepared.flatMap((batches, e) =>
      batches.map((body) => async () => {
        const res = await fetch(`${server.base}/api/experiments/${ids[e]}/metrics/batch`, {
          method: 'POST',
          headers: server.headers,
          body,
        });
        if (res.status !== 201) throw new Error(`batch: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }),
    ),
    4,
  );
  return { rate: TOTAL / ((performance.now() - t0) / 1000), ids };
}

async function reads(server, ids) {
  const chart = [];
  const raw = [];
  for (let i = 0; i < READS; i++) {
    const id = ids[i % ids.length];
    for (const name of METRICS) {
      const q = encodeURIComponent(name);
      const res = await fetch(`${server.base}/api/experiments/${id}/metrics/series?name=${q}&budget=1000`, {
        headers: server.headers,
      });
      const body = await res.json();
      if (body.pointCount !== STEPS) throw new Error(`chart read of ${name} covered ${body.pointCount} points`);
      chart.push(serverMs(res));
      const page = await fetch(`${server.base}/api/experiments/${id}/metrics/raw?name=${q}&limit=20000`, {
        headers: server.headers,
      });
      await page.arrayBuffer();
      raw.push(serverMs(page));
    }
  }
  return { chart: median(chart), raw: median(raw) };
}

/** Bytes the database holds, after a checkpoint (SQLite) or for the metric tables (PostgreSQL). */
async function dbBytes(server, databaseUrl) {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const r = await client.query(
        "select sum(pg_total_relation_size(c)) as bytes from unnest(array['metric_blocks', 'metric_series', 'metric_batches']) as c",
      );
      return Number(r.rows[0].bytes);
    } finally {
      await client.end();
    }
  }
  const db = new Database(path.join(server.env.TORA_DATA_DIR, 'tora.db'));
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    return db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true });
  } finally {
    db.close();
  }
}

async function run(dialect) {
  const prepared = Array.from({ length: EXPERIMENTS }, (_, e) => bodies(e));
  const formats = ['packed', 'coded'];
  const results = Object.fromEntries(formats.map((f) => [f, { rates: [], bytes: 0, chart: 0, raw: 0 }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const format of round % 2 ? [...formats].reverse() : formats) {
      const cluster = dialect === 'PostgreSQL' ? await startCluster() : null;
      const server = await startTora({ databaseUrl: cluster?.url ?? '', env: { TORA_BLOCK_FORMAT: format } });
      try {
        const empty = await dbBytes(server, cluster?.url);
        const { rate, ids } = await ingest(server, format, prepared);
        results[format].rates.push(rate);
        if (round === 0) {
          results[format].bytes = ((await dbBytes(server, cluster?.url)) - (cluster ? 0 : empty)) / TOTAL;
          Object.assign(results[format], await reads(server, ids));
        }
      } finally {
        await server.stop();
        if (cluster) stopCluster(cluster.dir);
      }
    }
  }
  const p = results.packed;
  const c = results.coded;
  const rate = (r) => `${Math.round(median(r.rates)).toLocaleString('en-US')} points/s`;
  console.log(
    `${dialect}: ${TOTAL.toLocaleString('en-US')} points (${EXPERIMENTS} experiments × ${METRICS.join(', ')} × ${STEPS.toLocaleString('en-US')} steps)`,
  );
  console.log(
    `  database per point: coded ${c.bytes.toFixed(2)} B, packed ${p.bytes.toFixed(2)} B → ${(p.bytes / c.bytes).toFixed(2)}× smaller (target ≤ 12 B)`,
  );
  console.log(
    `  ingest (median of ${ROUNDS}): coded ${rate(c)}, packed ${rate(p)} → ${((median(c.rates) / median(p.rates) - 1) * 100).toFixed(1)}% (target ≥ −10%)`,
  );
  console.log(
    `  chart read, 1,000 buckets (median server): coded ${c.chart.toFixed(2)} ms, packed ${p.chart.toFixed(2)} ms → ${((c.chart / p.chart - 1) * 100).toFixed(1)}% (target within ±10%)`,
  );
  console.log(
    `  raw page of 20,000 points (median server): coded ${c.raw.toFixed(2)} ms, packed ${p.raw.toFixed(2)} ms → ${((c.raw / p.raw - 1) * 100).toFixed(1)}%`,
  );
}

await run('SQLite');
if (process.argv.includes('--postgres')) await run('PostgreSQL');
