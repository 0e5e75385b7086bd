// Issue #21's figures, measured the audit's way: a real server process (sources through tsx) on
// SQLite and on a throwaway PostgreSQL 15 cluster, a workspace of 12,000 runs (5 metrics, 5 params,
// 3 MLflow tags each, written straight into the database by seed.mjs), then:
//   - a 400-clause filter (8 KB, runs/search) refused: < 50 ms, both dialects
//   - 30 clauses under the cap: dashboard list and runs/search ≤ 1 s on PostgreSQL
//   - runs/search max_results 50,000 over the 12,000 runs ≤ 3 s, /api/health (every 50 ms) never
//     waiting > 1 s meanwhile; the same with 10 order_by keys (the cap)
//   - PostgreSQL stopped (-m fast) and started again: first 200 within 10 s of its return
//   node bench/hardening/run.mjs [--runs 12000] [--skip-sqlite] [--skip-postgres] [--smoke]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, startServer, stopCluster, stopServer } from '../../scripts/pg-cluster.mjs';
import { ROOT, startToraProcess } from '../../scripts/tora-process.mjs';
import { smokeBanner, SMOKE } from '../lib/smoke.mjs';
import { seedRuns } from './seed.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '12000' },
    'skip-sqlite': { type: 'boolean', default: false },
    'skip-postgres': { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
  },
});
// --smoke: 300 runs, the whole path (figures are not results).
const RUNS = SMOKE ? 300 : Number(args.runs);
smokeBanner('bench/hardening');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rows = [];
function report(dialect, what, ms, target, ok) {
  rows.push({ dialect, what, ms, target, ok });
  console.log(
    `${dialect.padEnd(8)} ${what.padEnd(62)} ${ms.toFixed(0).padStart(7)} ms   target ${target}   ${ok ? 'ok' : 'MISSED'}`,
  );
}

async function timed(fn) {
  const started = performance.now();
  const result = await fn();
  return { ms: performance.now() - started, result };
}

/** `n` AND-ed clauses over the seeded keys (every run matches them all, as in the audit). */
function clauses(n) {
  const kinds = [
    (i) => `metrics.${['loss', 'acc', 'lr', 'epoch', 'val_loss'][i % 5]} > ${-1 - i}`,
    (i) => `params.${['alpha', 'beta', 'gamma', 'delta'][i % 4]} != 'x${i}'`,
    (i) => `tags.${['team', 'dataset', 'stage'][i % 3]} != 'nope${i}'`,
  ];
  return Array.from({ length: n }, (_, i) => kinds[i % 3](i)).join(' and ');
}

async function boot(dialect) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tora-hardening-'));
  const cluster = dialect === 'postgres' ? await startCluster() : null;
  const server = await startToraProcess({
    dataDir,
    env: { TORA_DATABASE_URL: cluster?.url ?? '', TORA_ALLOW_SIGNUP: 'true' },
    command: [process.execPath, '--import', 'tsx', 'src/main.ts'],
    cwd: path.join(ROOT, 'apps/server'),
    stdout: process.env.BENCH_SERVER_LOG ? 'inherit' : 'ignore',
    timeoutMs: 60_000,
  });
  const signup = await fetch(`${server.url}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@example.com', password: 'correct horse battery' }),
  });
  const user = (await signup.json()).user;
  const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0];
  const keyRes = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, origin: server.url },
    body: JSON.stringify({ name: 'bench' }),
  });
  const headers = { 'content-type': 'application/json', 'x-api-key': (await keyRes.json()).key };
  const seeded = await timed(() =>
    seedRuns(cluster ? { pgUrl: cluster.url } : { sqliteFile: path.join(dataDir, 'tora.db') }, {
      workspaceId: user.defaultWorkspaceId,
      userId: user.id,
      runs: RUNS,
    }),
  );
  console.log(`${dialect}: seeded ${RUNS} runs in ${(seeded.ms / 1000).toFixed(1)} s`);
  return {
    base: server.url,
    headers,
    ws: user.defaultWorkspaceId,
    cluster,
    async stop() {
      await server.stop();
      if (cluster) stopCluster(cluster.dir);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const search = (s, body) =>
  fetch(`${s.base}/api/2.0/mlflow/runs/search`, {
    method: 'POST',
    headers: s.headers,
    body: JSON.stringify({ experiment_ids: [s.ws], ...body }),
  });
const list = (s, filter) =>
  fetch(`${s.base}/api/experiments?workspace=${s.ws}&filter=${encodeURIComponent(filter)}`, { headers: s.headers });

/** Runs `fn` while /api/health is called every 50 ms; returns fn's time and the longest health wait. */
async function withHealthProbe(s, fn) {
  let running = true;
  let longest = 0;
  const probe = (async () => {
    while (running) {
      const t = performance.now();
      await fetch(`${s.base}/api/health`).then((r) => r.arrayBuffer());
      longest = Math.max(longest, performance.now() - t);
      await sleep(50);
    }
  })();
  const { ms, result } = await timed(fn);
  running = false;
  await probe;
  return { ms, longest, result };
}

async function bench(dialect) {
  const s = await boot(dialect);
  try {
    const filter400 = clauses(400);
    const refusals = [];
    for (let i = 0; i < 7; i++) {
      const { ms, result } = await timed(() => search(s, { filter: filter400 }).then(async (r) => [r.status, await r.text()]));
      if (result[0] !== 400) throw new Error(`400 clauses: expected 400, got ${result[0]} ${result[1]}`);
      refusals.push(ms);
    }
    report(
      dialect,
      `runs/search, 400-clause filter (${filter400.length} B) refused, median`,
      median(refusals),
      '< 50 ms',
      median(refusals) < 50,
    );
    const dash = [];
    for (let i = 0; i < 7; i++) dash.push((await timed(() => list(s, clauses(51)).then((r) => r.text()))).ms);
    report(dialect, 'dashboard list, 51-clause filter refused, median', median(dash), '< 50 ms', median(dash) < 50);

    const filter30 = clauses(30);
    const lists = [];
    const searches = [];
    for (let i = 0; i < 3; i++) {
      const l = await timed(() => list(s, filter30).then(async (r) => [r.status, await r.json()]));
      if (l.result[0] !== 200 || l.result[1].total !== RUNS)
        throw new Error(`30 clauses (list): ${l.result[0]} total ${l.result[1].total}`);
      lists.push(l.ms);
      const r = await timed(() => search(s, { filter: filter30 }).then(async (res) => [res.status, await res.json()]));
      if (r.result[0] !== 200 || r.result[1].runs.length !== Math.min(1000, RUNS))
        throw new Error(`30 clauses (search): ${r.result[0]}`);
      searches.push(r.ms);
    }
    report(
      dialect,
      `dashboard list, 30 clauses over ${RUNS} runs (all match), median`,
      median(lists),
      '≤ 1000 ms',
      median(lists) <= 1000,
    );
    report(
      dialect,
      `runs/search, 30 clauses, first 1,000 of ${RUNS}, median`,
      median(searches),
      '≤ 1000 ms',
      median(searches) <= 1000,
    );

    for (const [label, body] of [
      ['', { max_results: 50_000 }],
      [
        ', 10 order_by keys',
        {
          max_results: 50_000,
          order_by: [
            'metrics.loss DESC',
            'metrics.acc',
            'metrics.lr',
            'metrics.epoch',
            'metrics.val_loss',
            'params.alpha',
            'params.beta',
            'params.gamma',
            'tags.team',
            'attributes.start_time',
          ],
        },
      ],
    ]) {
      const big = await withHealthProbe(s, () => search(s, body).then(async (r) => [r.status, await r.json()]));
      if (big.result[0] !== 200 || big.result[1].runs.length !== RUNS) throw new Error(`50,000 search: ${big.result[0]}`);
      report(dialect, `runs/search max_results 50,000 over ${RUNS} runs${label}`, big.ms, '≤ 3000 ms', big.ms <= 3000);
      report(dialect, `  /api/health longest wait meanwhile${label}`, big.longest, '≤ 1000 ms', big.longest <= 1000);
    }

    if (s.cluster) {
      stopServer(s.cluster.dir, 'fast');
      const down = await list(s, '');
      if (down.status !== 503) throw new Error(`while PostgreSQL is down: ${down.status}`);
      await sleep(2000);
      startServer(s.cluster.dir, s.cluster.port);
      const back = performance.now();
      while ((await list(s, '')).status !== 200) await sleep(50);
      const ms = performance.now() - back;
      report(dialect, 'PostgreSQL restarted (-m fast): first 200 after its return', ms, '≤ 10000 ms', ms <= 10_000);
    }
  } finally {
    await s.stop();
  }
}

if (!args['skip-sqlite']) await bench('sqlite');
if (!args['skip-postgres']) await bench('postgres');
console.log(`\n${rows.filter((r) => r.ok).length}/${rows.length} figures within target`);
