/**
 * Web app benchmark for issue 4's performance lines, in headless Chromium on this machine:
 *
 *  1. Experiment page, 20 metrics × 100,000 points, as a user sees it (charts mount as their section
 *     scrolls into view): time from navigation start until the charts in the first viewport have
 *     drawn, then until every chart has drawn while scrolling to the end, and the bytes of metric
 *     data transferred. Baseline in the same run: fetch every raw point of the same 20 metrics (in
 *     pages within the server's raw page cap) and draw them with the same uPlot, as a ratio.
 *  2. Dashboard, 10,000 experiments × 5 metrics: first rows after navigation, then scrolling
 *     to the very end (all pages) while recording frame times.
 *  3. Experiment page, 300 metrics × 1,000 points in sections (train/, val/, …): first chart drawn
 *     after navigation, the charts in view drawn, series requests, and the longest main-thread
 *     task (PerformanceObserver "longtask") while the page loads.
 *
 * `BENCH_ONLY=page300` runs case 3 alone and prints it (RESULTS.md is written by full runs only).
 * `--smoke`: tiny sizes (2,000 points, 200 experiments, one run each) to prove every case still runs
 * end to end, baseline included; its figures are not results and RESULTS.md is left alone.
 *
 * Usage: npm run build -w apps/server && npm run build -w apps/web && node --import tsx bench/web/run.ts
 * Writes bench/web/RESULTS.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import * as prettier from 'prettier';
import { ROOT, apiSession, keyClient, launchBrowser, newPage, startServer, steps } from '../../e2e/web/harness.ts';

const SMOKE = process.argv.includes('--smoke');
if (SMOKE) console.log('bench/web --smoke: tiny sizes to prove the benchmark runs end to end; figures below are NOT results');
const METRICS = 20;
const POINTS = SMOKE ? 2_000 : 100_000;
const EXPERIMENTS = SMOKE ? 200 : Number(process.env.BENCH_EXPERIMENTS ?? 10_000);
const RUNS = SMOKE ? 1 : 3;
const PAGE300_POINTS = SMOKE ? 50 : 1000;
// The baseline reads raw points in pages as large as the server allows today.
const { METRIC_LIMITS } = (await import(
  path.join(ROOT, 'apps/server/dist/lib/limits.js')
)) as typeof import('../../apps/server/src/lib/limits.ts');
const RAW_PAGE = METRIC_LIMITS.maxRawPointsPerResponse;

// BENCH_WEB_DIR: serve another build of the web app (e.g. an earlier commit's, for a before/after).
const server = await startServer(process.env.BENCH_WEB_DIR ? { TORA_WEB_DIR: process.env.BENCH_WEB_DIR } : {});
const cookie = await apiSession(server.url, 'bench@example.com', 'correct horse battery');
const keyRes = await fetch(`${server.url}/api/keys`, {
  method: 'POST',
  headers: { cookie, origin: server.url, 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'bench' }),
});
const client = keyClient(server.url, ((await keyRes.json()) as { key: string }).key);
const browser = await launchBrowser();
const { context, page } = await newPage(browser);
const [cName, cValue] = cookie.split('=') as [string, string];
await context.addCookies([{ name: cName, value: cValue, url: server.url }]);
const lines: string[] = [];
const log = (s: string) => {
  console.log(s);
  lines.push(s);
};

const ONLY = process.env.BENCH_ONLY ?? '';

// ---------- 3. experiment page, 300 metrics in sections ----------
async function page300(): Promise<void> {
  const e = await client.createExperiment({ name: 'bench-300-metrics' });
  const n = PAGE300_POINTS;
  const pad = (i: number) => String(i).padStart(3, '0');
  const names = [
    ...Array.from({ length: 120 }, (_, i) => `train/m${pad(i)}`),
    ...Array.from({ length: 120 }, (_, i) => `val/m${pad(i)}`),
    ...Array.from({ length: 56 }, (_, i) => `test/m${pad(i)}`),
    ...['system/cpu', 'system/mem', 'system/gpu0/util', 'system/gpu0/mem'],
  ];
  for (let i = 0; i < names.length; i += 50) {
    const series: Record<string, { steps: number[]; values: number[] }> = {};
    for (const name of names.slice(i, i + 50))
      series[name] = { steps: steps(n), values: steps(n).map((s) => 1 / (1 + s / 100) + 0.01 * Math.random()) };
    const r = await client.call('POST', `/experiments/${e.id}/metrics/batch`, { series });
    if (r.status !== 201) throw new Error(`seed 300 metrics: ${r.status}`);
  }
  await context.addInitScript(`(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const x of l.getEntries()) window.__long.push(x.duration); }).observe({ type: 'longtask', buffered: true });
  })()`);
  const runs: { first: number; inView: number; charts: number; requests: number; longest: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    let requests = 0;
    const onRequest = (r: import('playwright-core').Request) => void (r.url().includes('/metrics/series') && requests++);
    page.on('request', onRequest);
    await page.goto(`${server.url}/experiments/${e.id}`);
    // Settled: every mounted chart has drawn its data and nothing new for 1 s.
    await page.waitForFunction(
      () => {
        const w = window as unknown as { __settle?: { n: number; at: number } };
        const cs = Object.values(window.__toraCharts ?? {});
        const mounted = document.querySelectorAll('[data-testid="metric-chart"]').length;
        if (mounted === 0 || cs.filter((c) => c.xs.length > 0).length < mounted) return false;
        if (!w.__settle || w.__settle.n !== mounted) w.__settle = { n: mounted, at: performance.now() };
        return performance.now() - w.__settle.at > 1000;
      },
      null,
      { timeout: 30_000, polling: 100 },
    );
    page.off('request', onRequest);
    runs.push(
      await page.evaluate(() => {
        const cs = Object.values(window.__toraCharts ?? {}).filter((c) => c.xs.length > 0);
        const long = (window as unknown as { __long: number[] }).__long;
        return {
          first: Math.min(...cs.map((c) => c.drawnAt)),
          inView: Math.max(...cs.map((c) => c.drawnAt)),
          charts: cs.length,
          requests: 0,
          longest: long.length ? Math.max(...long) : 0,
        };
      }),
    );
    runs.at(-1)!.requests = requests;
  }
  const med = (f: (r: (typeof runs)[number]) => number) => median(runs.map(f));
  log(`## Experiment page: ${names.length} metrics × ${n.toLocaleString('en')} points, in sections`);
  log('');
  log(
    '| first chart drawn (median) | runs | charts in view drawn | charts mounted | series requests | longest main-thread task |',
  );
  log('|---|---|---|---|---|---|');
  log(
    `| **${med((r) => r.first).toFixed(0)} ms** | ${runs.map((r) => r.first.toFixed(0)).join(', ')} ms | ${med((r) => r.inView).toFixed(0)} ms | ${runs[0]!.charts} | ${runs[0]!.requests} | **${med((r) => r.longest).toFixed(0)} ms** (runs: ${runs.map((r) => r.longest.toFixed(0)).join(', ')}) |`,
  );
  log('');
  log(
    `Targets: first chart ≤ 1000 ms → ${med((r) => r.first) <= 1000 ? 'PASS' : 'FAIL'}; no main-thread task over 200 ms → ${Math.max(...runs.map((r) => r.longest)) <= 200 ? 'PASS' : 'FAIL'}.`,
  );
  log('');
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
if (ONLY === 'page300') {
  await page300();
  await browser.close();
  await server.stop();
  process.exit(0);
}

// ---------- 1. experiment page ----------
const t0 = Date.now();
const exp = await client.createExperiment({ name: 'bench-20x100k', hyperparams: { lr: 0.001 } });
const names = Array.from({ length: METRICS }, (_, m) => `metric_${String(m).padStart(2, '0')}`);
for (let m = 0; m < METRICS; m += 2) {
  const series: Record<string, { steps: number[]; values: number[] }> = {};
  for (const name of names.slice(m, m + 2)) {
    const k = names.indexOf(name) + 1;
    series[name] = {
      steps: steps(POINTS),
      values: steps(POINTS).map((s) => Math.exp(-s / (20_000 * k)) + 0.05 * Math.sin(s / 37) * Math.random()),
    };
  }
  await client.logSeries(exp.id, series);
}
console.log(`seeded ${METRICS}×${POINTS} points in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

async function metricBytes(p: Page, run: () => Promise<void>): Promise<number> {
  let bytes = 0;
  const pending: Promise<void>[] = [];
  const onResponse = (r: import('playwright-core').Response) => {
    if (!/\/api\/experiments\/[^/]+\/metrics/.test(r.url())) return;
    pending.push(
      r
        .request()
        .sizes()
        .then(
          (s) => void (bytes += s.responseBodySize + s.responseHeadersSize),
          () => undefined,
        ),
    );
  };
  p.on('response', onResponse);
  await run();
  await Promise.all(pending);
  p.off('response', onResponse);
  return bytes;
}

/** Charts with data that have drawn, and the latest drawnAt among them (ms from navigation start). */
async function drawnCharts(p: Page): Promise<{ drawn: number; mounted: number; at: number }> {
  return p.evaluate(() => {
    const cs = Object.values(window.__toraCharts ?? {}).filter((c) => c.xs.length > 0 && c.draws > 0);
    return {
      drawn: cs.length,
      mounted: document.querySelectorAll('[data-testid="metric-chart"]').length,
      at: cs.length ? Math.max(...cs.map((c) => c.drawnAt)) : 0,
    };
  });
}

interface PageRun {
  /** The charts in the first viewport drawn (ms from navigation start) and how many they were. */
  firstView: number;
  firstViewCharts: number;
  /** Every chart drawn while scrolling to the end (ms from navigation start; includes the scrolling). */
  all: number;
  bytes: number;
}

/**
 * The page as a user sees it: charts mount as their section scrolls into view. First the charts
 * mounted without scrolling draw (settled: nothing new for 500 ms), then the page is scrolled a
 * screen at a time (mouse wheel) until every chart has drawn.
 */
async function toraPage(): Promise<PageRun> {
  let firstView = 0;
  let firstViewCharts = 0;
  let all = 0;
  const bytes = await metricBytes(page, async () => {
    await page.goto(`${server.url}/experiments/${exp.id}`);
    await page.waitForFunction(
      () => {
        const w = window as unknown as { __settle?: { n: number; at: number } };
        const mounted = document.querySelectorAll('[data-testid="metric-chart"]').length;
        const drawn = Object.values(window.__toraCharts ?? {}).filter((c) => c.xs.length > 0 && c.draws > 0).length;
        if (mounted === 0 || drawn < mounted) return false;
        if (!w.__settle || w.__settle.n !== mounted) w.__settle = { n: mounted, at: performance.now() };
        return performance.now() - w.__settle.at > 500;
      },
      null,
      { timeout: 30_000, polling: 50 },
    );
    const first = await drawnCharts(page);
    firstView = first.at;
    firstViewCharts = first.drawn;
    const box = (await page.locator('main').boundingBox()) ?? { x: 0, y: 0, width: 1280, height: 800 };
    await page.mouse.move(box.x + box.width / 2, Math.min(box.y + box.height / 2, 700));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const state = await drawnCharts(page);
      if (state.drawn >= METRICS) {
        all = state.at;
        break;
      }
      if (Date.now() > deadline) throw new Error(`only ${state.drawn} of ${METRICS} charts drew after scrolling to the end`);
      await page.mouse.wheel(0, 600);
      await page.waitForTimeout(50);
    }
  });
  return { firstView, firstViewCharts, all, bytes };
}

// The baseline injects uPlot into a page of Tora's origin, which Tora's CSP forbids: it runs in a
// context of its own that bypasses CSP (the same browser, viewport and session).
const baselineContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
await baselineContext.addCookies([{ name: cName, value: cValue, url: server.url }]);
const baselinePage = await baselineContext.newPage();

/** Baseline: every raw point fetched and drawn (a plain line per metric), same uPlot, same sizes. */
async function rawBaseline(): Promise<{ ms: number; bytes: number }> {
  let ms = 0;
  const bytes = await metricBytes(baselinePage, async () => {
    await baselinePage.goto(`${server.url}/compare`);
    await baselinePage.addScriptTag({ path: path.join(ROOT, 'node_modules/uplot/dist/uPlot.iife.min.js') });
    ms = await baselinePage.evaluate(
      async ({ id, ns, pageSize }) => {
        const start = performance.now();
        type Raw = { points: { step: number; value: number | string }[]; nextCursor: string | null };
        const U = (window as unknown as { uPlot: new (o: object, d: unknown, el: HTMLElement) => unknown }).uPlot;
        await Promise.all(
          ns.map(async (n) => {
            const xs: number[] = [];
            const ys: number[] = [];
            let cursor: string | null = null;
            do {
              const q = new URLSearchParams({ name: n, limit: String(pageSize), ...(cursor ? { cursor } : {}) });
              const r = (await (await fetch(`/api/experiments/${id}/metrics/raw?${q}`)).json()) as Raw;
              for (const p of r.points) {
                xs.push(p.step);
                ys.push(Number(p.value));
              }
              cursor = r.nextCursor;
            } while (cursor);
            const el = document.createElement('div');
            document.body.append(el);
            new U(
              {
                width: 395,
                height: 200,
                legend: { show: false },
                scales: { x: { time: false } },
                series: [{}, { stroke: 'blue' }],
              },
              [xs, ys],
              el,
            );
          }),
        );
        return performance.now() - start;
      },
      { id: exp.id, ns: names, pageSize: RAW_PAGE },
    );
  });
  return { ms, bytes };
}

const tora: PageRun[] = [];
const raw: { ms: number; bytes: number }[] = [];
for (let i = 0; i < RUNS; i++) {
  tora.push(await toraPage());
  raw.push(await rawBaseline());
}
const firstMs = median(tora.map((r) => r.firstView));
const allMs = median(tora.map((r) => r.all));
const rMs = median(raw.map((r) => r.ms));
const mb = (b: number) => (b / 1e6).toFixed(2);
const runsOf = (xs: number[]) => `${xs.map((x) => x.toFixed(0)).join(', ')} ms`;
log(`## Experiment page: ${METRICS} metrics × ${POINTS.toLocaleString('en')} points`);
log('');
log('| | median | runs | metric data transferred |');
log('|---|---|---|---|');
log(
  `| Tora: the ${tora[0]!.firstViewCharts} charts in the first viewport drawn, from navigation start | **${firstMs.toFixed(0)} ms** | ${runsOf(tora.map((r) => r.firstView))} | |`,
);
log(
  `| Tora: all ${METRICS} charts drawn while scrolling to the end (bucketed, budget = plot width) | **${allMs.toFixed(0)} ms** | ${runsOf(tora.map((r) => r.all))} | **${mb(tora[0]!.bytes)} MB** |`,
);
log(
  `| Baseline: all raw points fetched (pages of ${RAW_PAGE.toLocaleString('en')}) and drawn (fetch+draw only) | ${rMs.toFixed(0)} ms | ${runsOf(raw.map((r) => r.ms))} | ${mb(raw[0]!.bytes)} MB |`,
);
log('');
log(
  `Targets: all charts drawn ≤ 1500 ms → ${allMs <= 1500 ? 'PASS' : 'FAIL'}; ≤ 2 MB metric data → ${tora[0]!.bytes <= 2e6 ? 'PASS' : 'FAIL'}.`,
);
log(
  `Baseline ratio: raw / Tora (all charts) = **${(rMs / allMs).toFixed(1)}×** time, ${(raw[0]!.bytes / tora[0]!.bytes).toFixed(0)}× bytes.`,
);
log('');

await page300();

// ---------- 2. dashboard ----------
const t1 = Date.now();
const ws = (await (
  await fetch(`${server.url}/api/workspaces`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Dashboard bench' }),
  })
).json()) as { id: string };
let next = 0;
async function worker(): Promise<void> {
  for (let i = next++; i < EXPERIMENTS; i = next++) {
    const e = await client.createExperiment({
      name: `run-${String(i).padStart(5, '0')}`,
      workspaceId: ws.id,
      tags: [i % 2 ? 'odd' : 'even'],
      hyperparams: { lr: 10 ** -(2 + (i % 3)), seed: i },
    });
    const rows = ['loss', 'acc', 'val_loss', 'val_acc', 'lr'].map((name, k) => ({
      name,
      value: Math.random() * (k + 1),
      step: 0,
    }));
    const r = await client.call('POST', `/experiments/${e.id}/metrics/batch`, rows);
    if (r.status !== 201) throw new Error(`seed metrics: ${r.status}`);
  }
}
await Promise.all(Array.from({ length: 6 }, worker));
console.log(`seeded ${EXPERIMENTS} experiments in ${((Date.now() - t1) / 1000).toFixed(1)} s`);

await page.evaluate((id) => localStorage.setItem('tora.workspace', id), ws.id);
const firstRows: number[] = [];
for (let i = 0; i < RUNS; i++) {
  await page.goto(`${server.url}/`);
  const h = await page.waitForFunction(
    () => document.querySelector('[data-testid="experiment-row"]') && performance.now(),
    null,
    {
      polling: 'raf',
      timeout: 30_000,
    },
  );
  firstRows.push((await h.jsonValue()) as number);
}
// Scroll to the end like a user flicking the wheel, recording every frame's duration.
// A string, not a function: tsx would wrap named inner functions in a helper the page lacks.
await page.evaluate(`(() => {
  window.__frames = [];
  window.__stop = false;
  let last = performance.now();
  function tick(t) {
    window.__frames.push(t - last);
    last = t;
    if (!window.__stop) requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
})()`);
const table = page.getByTestId('experiment-table');
const box = (await table.boundingBox())!;
await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
const scrollStart = Date.now();
for (;;) {
  await page.mouse.wheel(0, 1200);
  await page.waitForTimeout(16);
  const state = await page.evaluate(() => {
    const el = document.querySelector('[data-testid="experiment-table"]')!;
    return {
      atEnd: el.scrollTop + el.clientHeight >= el.scrollHeight - 2,
      // "10,000 experiments · 4,200 loaded" (or "4,200+" from a server without totals): not all rows yet.
      more: /\+|loaded/.test(document.querySelector('.count')?.textContent ?? ''),
      rows: el.querySelectorAll('[data-testid="experiment-row"]').length,
    };
  });
  if (state.atEnd && !state.more) break;
  if (Date.now() - scrollStart > 240_000) throw new Error('scrolling to the end took > 4 min');
}
const frames = await page.evaluate(() => {
  const w = window as unknown as { __frames: number[]; __stop: boolean };
  w.__stop = true;
  return w.__frames.slice(1);
});
const lastRow = await page.getByTestId('experiment-row').last().innerText();
const domRows = await page.getByTestId('experiment-row').count();
const sorted = [...frames].sort((a, b) => a - b);
const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const over50 = frames.filter((f) => f >= 50).length;
log(`## Dashboard: ${EXPERIMENTS.toLocaleString('en')} experiments, 5 metric columns`);
log('');
log(
  `| first rows after navigation (median of ${RUNS}) | runs | scroll to end | frames | p50 / p95 / p99 / max frame | frames ≥ 50 ms | rows in DOM at end |`,
);
log('|---|---|---|---|---|---|---|');
log(
  `| **${median(firstRows).toFixed(0)} ms** | ${firstRows.map((x) => x.toFixed(0)).join(', ')} ms | ${((Date.now() - scrollStart) / 1000).toFixed(1)} s | ${frames.length} | ${p(0.5).toFixed(1)} / ${p(0.95).toFixed(1)} / ${p(0.99).toFixed(1)} / **${sorted.at(-1)!.toFixed(1)} ms** | ${over50} | ${domRows} |`,
);
log('');
log(`Last row reached: \`${lastRow.split('\n')[0]}\` (the table is sorted newest first, so run-00000 is last).`);
log(
  `Targets: first rows ≤ 1000 ms → ${median(firstRows) <= 1000 ? 'PASS' : 'FAIL'}; frames < 50 ms while scrolling to the end → ${over50 === 0 ? 'PASS' : `FAIL (${over50} frames)`}.`,
);

await browser.close();
await server.stop();

const header = [
  '# Web app benchmark results',
  '',
  `Command: \`npm run build -w apps/server && npm run build -w apps/web && node --import tsx bench/web/run.ts\``,
  '',
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, headless Debian Chromium (1280×800), SQLite, server and browser on the same machine. Run at ${new Date().toISOString()}; load average at the end ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ')} (other jobs share the machine, so frame times vary between runs).`,
  '',
];
if (SMOKE) {
  console.log('--smoke: bench/web/RESULTS.md left as it was');
  process.exit(0);
}
// Formatted like every other file, so the repo's `prettier --check` stays green after a run.
const resultsPath = path.join(ROOT, 'bench/web/RESULTS.md');
const prettierConfig = (await prettier.resolveConfig(resultsPath)) ?? {};
fs.writeFileSync(
  resultsPath,
  await prettier.format([...header, ...lines, ''].join('\n'), { ...prettierConfig, parser: 'markdown' }),
);
console.log('wrote bench/web/RESULTS.md');
