#!/usr/bin/env node
// bench/team: the team deployment's numbers (issue 22), on one throwaway PostgreSQL cluster.
//   replicas: the same ingest load (concurrent columnar batches) through nginx (docs/nginx-team.conf)
//             in front of 1 replica, then 3 replicas: points/s each and the ratio. On a 2-core
//             machine the three replicas share the cores with PostgreSQL and nginx, so the ratio
//             mostly shows the proxy and coordination overhead, not a scaling gain.
//   scale:    one workspace filled to 10^8 points (100,000 experiments × 10 metrics × 100 steps, plus
//             one 10^6-point series): ingest rate, database size per point, the 10^6-point chart
//             read, the dashboard's first rows and a hyperparameter filter over 100,000 experiments
//             (server time, Server-Timing). The baseline in the same run: the same reads at 1/100 of
//             the experiments, measured before the rest arrives.
//   node bench/team/run.mjs [--part replicas|scale] [--experiments N] [--smoke]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startCluster, stopCluster } from '../../scripts/pg-cluster.mjs';
import { startToraProcess } from '../../scripts/tora-process.mjs';
import { SMOKE, size, smokeBanner } from '../lib/smoke.mjs';
import { ROOT, benchUserKey, ensureBuilt, freePort, pool, waitFor } from '../lib/tora-server.mjs';

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const PART = flag('--part', 'all');
const SCALE_EXPERIMENTS = Number(flag('--experiments', size(100_000, 300)));
const SCALE_STEPS = 100;
const SCALE_METRICS = 10;
const BIG_SERIES = size(1_000_000, 20_000);

smokeBanner('bench/team');
ensureBuilt();

const serverMs = (res) => Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');

function nginxBinary() {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (fs.existsSync(p)) return p;
  throw new Error('nginx is not installed (scripts/test-team.sh installs Debian’s package)');
}

/** nginx with the documented site config in front of `ports`; returns {url, stop}. */
async function startNginx(ports) {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-nginx-'));
  const port = await freePort();
  const site = fs
    .readFileSync(path.join(ROOT, 'docs/nginx-team.conf'), 'utf8')
    .replace('#REPLICAS#', ports.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n  '))
    .replace('listen 80;', `listen 127.0.0.1:${port};`);
  const temp = ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((d) => `  ${d}_temp_path ${prefix}/${d};`).join('\n');
  fs.writeFileSync(
    path.join(prefix, 'nginx.conf'),
    `worker_processes 2;\ndaemon off;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log warn;\n` +
      `events { worker_connections 1024; }\nhttp {\n  access_log off;\n${temp.replace('body_temp_path', 'client_body_temp_path')}\n${site}\n}\n`,
  );
  const child = spawn(
    nginxBinary(),
    ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')],
    {
      stdio: 'ignore',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/api/health`, 15_000);
  return {
    url,
    async stop() {
      child.kill('SIGQUIT');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the cluster, a user and an API key in it. */
async function freshDatabase(clusterUrl, name) {
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const databaseUrl = clusterUrl.replace(/\/postgres$/, `/${name}`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-team-bench-'));
  const env = { ...process.env, TORA_DATA_DIR: dataDir, TORA_DATABASE_URL: databaseUrl, TORA_LOG_LEVEL: 'warn' };
  const key = benchUserKey(env);
  return { databaseUrl, dataDir, key };
}

async function startReplicas(db, n) {
  const replicas = [];
  for (let i = 0; i < n; i++) {
    replicas.push(
      await startToraProcess({
        dataDir: db.dataDir,
        env: { TORA_DATABASE_URL: db.databaseUrl, TORA_TRUST_PROXY: '127.0.0.1', TORA_DB_POOL_SIZE: '10' },
        stdout: 'ignore',
        timeoutMs: 60_000,
      }),
    );
  }
  return replicas;
}

const headersFor = (key) => ({ 'content-type': 'application/json', 'x-api-key': key });

async function createExperiment(base, key, body) {
  const res = await fetch(`${base}/api/experiments`, { method: 'POST', headers: headersFor(key), body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`create experiment: ${res.status} ${await res.text()}`);
  return (await res.json()).experiment.id;
}

async function postBatch(base, key, id, body) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${base}/api/experiments/${id}/metrics/batch`, { method: 'POST', headers: headersFor(key), body });
    if (res.status === 201) return void (await res.arrayBuffer());
    if (attempt < 3 && res.status >= 500) continue;
    throw new Error(`batch: ${res.status} ${await res.text()}`);
  }
}

function columnarBody(batchId, metrics, start, steps) {
  const series = {};
  for (let m = 0; m < metrics; m++) {
    const xs = Array.from({ length: steps }, (_, i) => start + i);
    series[`metric_${m}`] = { steps: xs, values: xs.map((s) => Math.exp(-s / 500) + 0.01 * Math.sin(s * (m + 1))) };
  }
  return JSON.stringify({ batchId, series });
}

// ---- 1 vs 3 replicas ------------------------------------------------------------------------

async function replicasPart(clusterUrl) {
  const EXPERIMENTS = size(12, 3);
  const STEPS = size(20_000, 1_000);
  const PER_BATCH = 1_000;
  const CONCURRENCY = 12;
  const points = EXPERIMENTS * 10 * STEPS;
  const bodies = [];
  for (let e = 0; e < EXPERIMENTS; e++) {
    for (let start = 0; start < STEPS; start += PER_BATCH)
      bodies.push({ e, start, body: columnarBody(`b-${e}-${start}`, 10, start, PER_BATCH) });
  }
  const rates = {};
  for (const n of [1, 3]) {
    const db = await freshDatabase(clusterUrl, `team_replicas_${n}`);
    const replicas = await startReplicas(db, n);
    const nginx = await startNginx(replicas.map((r) => r.port));
    try {
      const ids = [];
      for (let e = 0; e < EXPERIMENTS; e++) ids.push(await createExperiment(nginx.url, db.key, { name: `load-${e}` }));
      const t0 = performance.now();
      await pool(
        bodies.map(
          ({ e, body }) =>
            () =>
              postBatch(nginx.url, db.key, ids[e], body),
        ),
        CONCURRENCY,
      );
      const seconds = (performance.now() - t0) / 1000;
      rates[n] = points / seconds;
      console.log(
        `${n} replica${n > 1 ? 's' : ''} behind nginx: ${fmt(points)} points in ${seconds.toFixed(1)} s = ${fmt(rates[n])} points/s`,
      );
    } finally {
      await nginx.stop();
      for (const r of replicas) await r.stop();
      fs.rmSync(db.dataDir, { recursive: true, force: true });
    }
  }
  console.log(
    `ratio 3 replicas / 1 replica: ${(rates[3] / rates[1]).toFixed(2)}× (${os.cpus().length} cores shared by all processes)`,
  );
}

// ---- 10^8 points in one workspace -----------------------------------------------------------

async function dashboardReads(base, key, workspace) {
  const first = [];
  const filtered = [];
  for (let i = 0; i < 5; i++) {
    const a = await fetch(`${base}/api/experiments?workspace=${workspace}&limit=50`, { headers: headersFor(key) });
    if (a.status !== 200) throw new Error(`list: ${a.status}`);
    await a.arrayBuffer();
    first.push(serverMs(a));
    const filter = encodeURIComponent('params.lr = 0.001 and params.layers > 6');
    const b = await fetch(`${base}/api/experiments?workspace=${workspace}&limit=50&filter=${filter}`, {
      headers: headersFor(key),
    });
    if (b.status !== 200) throw new Error(`filtered list: ${b.status} ${await b.text()}`);
    await b.arrayBuffer();
    filtered.push(serverMs(b));
  }
  return { first: median(first), filtered: median(filtered) };
}

async function scalePart(clusterUrl) {
  const db = await freshDatabase(clusterUrl, 'team_scale');
  const [replica] = await startReplicas(db, 1);
  const base = replica.url;
  const client = new pg.Client({ connectionString: db.databaseUrl });
  await client.connect();
  try {
    const me = await (await fetch(`${base}/api/auth/me`, { headers: headersFor(db.key) })).json();
    const workspace = me.user.defaultWorkspaceId;
    const lrs = [0.1, 0.03, 0.01, 0.003, 0.001];
    const body = (e) => columnarBody(`s-${e}`, SCALE_METRICS, 0, SCALE_STEPS);
    const fill = async (from, to) => {
      const t0 = performance.now();
      let done = 0;
      let lastReport = t0;
      await pool(
        Array.from({ length: to - from }, (_, k) => async () => {
          const e = from + k;
          const id = await createExperiment(base, db.key, {
            name: `run-${e}`,
            group: `sweep-${e % 100}`,
            hyperparams: { lr: lrs[e % lrs.length], layers: 2 + (e % 10), seed: e },
          });
          await postBatch(base, db.key, id, body(e));
          done++;
          if (performance.now() - lastReport > 30_000) {
            lastReport = performance.now();
            const rate = (done * SCALE_METRICS * SCALE_STEPS) / ((lastReport - t0) / 1000);
            console.log(`  … ${fmt(from + done)} experiments, ${fmt(rate)} points/s`);
          }
        }),
        8,
      );
      return (performance.now() - t0) / 1000;
    };
    const baselineCount = Math.max(1, Math.floor(SCALE_EXPERIMENTS / 100));
    await fill(0, baselineCount);
    const baseline = await dashboardReads(base, db.key, workspace);
    const seconds = await fill(baselineCount, SCALE_EXPERIMENTS);
    const smallPoints = (SCALE_EXPERIMENTS - baselineCount) * SCALE_METRICS * SCALE_STEPS;
    // One long series: the 10^6-point chart read.
    const big = await createExperiment(base, db.key, { name: 'long-run' });
    for (let start = 0; start < BIG_SERIES; start += 50_000) {
      const steps = Math.min(50_000, BIG_SERIES - start);
      await postBatch(base, db.key, big, columnarBody(`big-${start}`, 1, start, steps));
    }
    const totalPoints = SCALE_EXPERIMENTS * SCALE_METRICS * SCALE_STEPS + BIG_SERIES;
    await client.query('vacuum analyze');
    const bytes = Number((await client.query('select pg_database_size(current_database()) as n')).rows[0].n);
    const chart = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${base}/api/experiments/${big}/metrics/series?name=metric_0&budget=1000`, {
        headers: headersFor(db.key),
      });
      if (res.status !== 200) throw new Error(`series: ${res.status}`);
      await res.arrayBuffer();
      chart.push(serverMs(res));
    }
    const full = await dashboardReads(base, db.key, workspace);
    console.log(
      `scale: ${fmt(totalPoints)} points in one workspace (${fmt(SCALE_EXPERIMENTS)} experiments + one ${fmt(BIG_SERIES)}-point series)`,
    );
    console.log(`  ingest (experiment create + its batch, 8 at once): ${fmt(smallPoints / seconds)} points/s`);
    console.log(
      `  database size: ${(bytes / 2 ** 30).toFixed(2)} GiB = ${(bytes / totalPoints).toFixed(1)} bytes/point (indexes and experiments included)`,
    );
    console.log(
      `  chart read of the ${fmt(BIG_SERIES)}-point series at 1,000 buckets: ${median(chart).toFixed(1)} ms server time (target ≤ 1,000 ms for 10^6)`,
    );
    console.log(
      `  dashboard first 50 rows: ${full.first.toFixed(1)} ms at ${fmt(SCALE_EXPERIMENTS)} experiments vs ${baseline.first.toFixed(1)} ms at ${fmt(baselineCount)} (${(full.first / baseline.first).toFixed(1)}×; target ≤ 1,000 ms)`,
    );
    console.log(
      `  hyperparameter filter (params.lr = 0.001 and params.layers > 6): ${full.filtered.toFixed(1)} ms vs ${baseline.filtered.toFixed(1)} ms (${(full.filtered / baseline.filtered).toFixed(1)}×; target ≤ 300 ms)`,
    );
  } finally {
    await client.end();
    await replica.stop();
    fs.rmSync(db.dataDir, { recursive: true, force: true });
  }
}

const cluster = await startCluster();
try {
  if (PART === 'all' || PART === 'replicas') await replicasPart(cluster.url);
  if (PART === 'all' || PART === 'scale') await scalePart(cluster.url);
} finally {
  stopCluster(cluster.dir);
}
