/**
 * A new user's first hour (issue 9, web items): log-scale charts that draw, single-value
 * metrics, readable hyperparameters, one request per chart and per sort, the dashboard's state in
 * the URL, sensible default columns and sorts, bulk actions, and a 300-metric page in sections.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  apiSession,
  inkPixels,
  keyClient,
  launchBrowser,
  signedInPage,
  screenshot,
  startServer,
  steps,
  type TestServer,
} from './harness.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
let client: ReturnType<typeof keyClient>;
let cookie = '';
const errors: string[] = [];
const ids: Record<string, string> = {};
const N = 300;

before(async () => {
  server = await startServer();
  cookie = await apiSession(server.url, 'first-hour@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'first-hour' }),
  });
  client = keyClient(server.url, ((await res.json()) as { key: string }).key);
  for (const [name, lr, final, scale] of [
    ['fh-alpha', 1.3e-5, 0.9123, 1],
    ['fh-beta', 0.003, 0.8871, 1.6],
  ] as const) {
    const e = await client.createExperiment({
      name,
      status: 'finished',
      hyperparams: { lr, batch_size: 64, optimizer: 'adamw' },
    });
    ids[name] = e.id;
    await client.logSeries(e.id, {
      'train/loss': { steps: steps(N), values: steps(N).map((s) => (2 * scale) / (1 + s / 30)) },
      // Crosses zero: a log axis can show only its positive half.
      signed: { steps: steps(N), values: steps(N).map((s) => Math.sin(s / 40)) },
      'test/accuracy': { steps: [N], values: [final] },
    });
  }

  ids['zz-other'] = (await client.createExperiment({ name: 'zz-other', hyperparams: { lr: 0.1 } })).id;

  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie, { width: 1280, height: 900 }));
  page.on('pageerror', (e) => errors.push(e.message));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Waits until every chart on the page has drawn again since `since` (the draw counts it read). */
async function redrawn(kind: 'charts' | 'compare', since: Record<string, number>): Promise<void> {
  await page.waitForFunction(
    ({ kind, since }) => {
      const probes = kind === 'charts' ? window.__toraCharts : window.__toraCompare;
      return Object.entries(since).every(([n, d]) => (probes?.[n]?.draws ?? 0) > d);
    },
    { kind, since },
    { polling: 50 },
  );
}
const drawCounts = (kind: 'charts' | 'compare') =>
  page.evaluate(
    (k) =>
      Object.fromEntries(
        Object.entries((k === 'charts' ? window.__toraCharts : window.__toraCompare) ?? {}).map(([n, p]) => [n, p.draws]),
      ),
    kind,
  );

async function openExperiment(name: string): Promise<void> {
  await page.goto(`${server.url}/experiments/${ids[name]}`);
  await page.waitForFunction(() => (window.__toraCharts?.['train/loss']?.draws ?? 0) > 0, null, { polling: 50 });
}

test('log y draws every curve and says which values a log axis cannot show', async () => {
  await openExperiment('fh-alpha');
  errors.length = 0;
  const before = await drawCounts('charts');
  await page.getByTestId('log-y').check();
  await redrawn('charts', before);
  assert.deepEqual(errors, []);
  assert.ok((await inkPixels(page, '[data-testid="metric-chart"][data-metric="train/loss"]')) > 100, 'train/loss is drawn');
  assert.ok(
    (await inkPixels(page, '[data-testid="metric-chart"][data-metric="signed"]')) > 50,
    'the positive half of signed is drawn',
  );
  const note = page.locator('[data-metric="signed"] [data-testid="log-note"]');
  assert.match(await note.innerText(), /Values ≤ 0 \(lowest -0\.9999\d?\) cannot be drawn on a log scale/);
  assert.equal(await page.locator('[data-metric="train/loss"] [data-testid="log-note"]').count(), 0);
  await screenshot(page, 'first-hour-log-y');
  await page.getByTestId('log-y').uncheck();
});

test('log y on the compare page draws the curves and names the runs with values ≤ 0', async () => {
  await page.goto(`${server.url}/compare?ids=${ids['fh-alpha']},${ids['fh-beta']}`);
  await page.waitForFunction(() => (window.__toraCompare?.signed?.draws ?? 0) > 0, null, { polling: 50 });
  errors.length = 0;
  const before = await drawCounts('compare');
  await page.getByTestId('compare-log-y').check();
  await redrawn('compare', before);
  assert.deepEqual(errors, []);
  const color = await page.evaluate(() => window.__toraCompare!['train/loss']!.experiments[0]!.color);
  assert.ok((await inkPixels(page, '[data-testid="compare-chart"][data-metric="train/loss"]', color)) > 100);
  assert.match(
    await page.locator('[data-testid="compare-chart"][data-metric="signed"] [data-testid="log-note"]').innerText(),
    /fh-alpha, fh-beta/,
  );
  await page.getByTestId('compare-log-y').uncheck();
});

test('a metric logged once is a value in the summary strip, and a one-point curve is drawn as a dot', async () => {
  await openExperiment('fh-alpha');
  const strip = page.getByTestId('summary-strip');
  assert.match(await strip.locator('[data-metric="test/accuracy"]').innerText(), /test\/accuracy\s+0\.9123/);
  // No empty chart for it.
  assert.equal(await page.locator('[data-testid="metric-chart"][data-metric="test/accuracy"]').count(), 0);
  // On the compare page each run's single point is a visible dot in its colour.
  await page.goto(`${server.url}/compare?ids=${ids['fh-alpha']},${ids['fh-beta']}`);
  await page.waitForFunction(() => (window.__toraCompare?.['test/accuracy']?.draws ?? 0) > 0, null, { polling: 50 });
  const probe = await page.evaluate(() => window.__toraCompare!['test/accuracy']!);
  for (const e of probe.experiments) {
    assert.equal(e.xs.length, 1);
    assert.ok(
      (await inkPixels(page, '[data-testid="compare-chart"][data-metric="test/accuracy"]', e.color)) > 10,
      `${e.name}'s dot`,
    );
  }
});

test('hyperparameter cells show small values readably, the full value on hover', async () => {
  await openExperiment('fh-alpha');
  const lr = page.locator('tr', { has: page.locator('code', { hasText: /^lr$/ }) }).getByTestId('hp-value');
  assert.equal(await lr.innerText(), '1.300e-5');
  assert.equal(await lr.getAttribute('title'), '0.000013');
});

test('each chart reads its data once on load, at its plot width', async () => {
  const reads: string[] = [];
  const onRequest = (r: import('playwright-core').Request) => {
    if (r.url().includes('/metrics/series')) reads.push(new URL(r.url()).searchParams.get('name')!);
  };
  page.on('request', onRequest);
  await openExperiment('fh-beta');
  await page.waitForFunction(() => (window.__toraCharts?.signed?.draws ?? 0) > 0, null, { polling: 50 });
  await page.waitForTimeout(500);
  page.off('request', onRequest);
  assert.deepEqual(reads.sort(), ['signed', 'train/loss']);
  const probe = await page.evaluate(() => window.__toraCharts!['train/loss']!);
  const plotWidth = await page.locator('[data-metric="train/loss"] .u-over').evaluate((el) => el.getBoundingClientRect().width);
  assert.ok(Math.abs(probe.budget - plotWidth) <= 2, `budget ${probe.budget} vs plot width ${plotWidth}`);
});

/** Names of the dashboard's rows, top to bottom. */
const rowNames = () => page.getByTestId('experiment-row').locator('.name').allInnerTexts();
/** Counts the page's experiment list requests (GET /api/experiments?…) while `run` runs. */
async function listRequests(run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onRequest = (r: import('playwright-core').Request) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/experiments' && r.method() === 'GET') seen.push(u.search);
  };
  page.on('request', onRequest);
  await run();
  await page.waitForTimeout(400);
  page.off('request', onRequest);
  return seen;
}

test('each sort click sends one list request', async () => {
  await page.goto(server.url);
  await page.getByTestId('experiment-row').first().waitFor();
  const reqs = await listRequests(async () => {
    await page.getByRole('button', { name: /^Name/ }).click();
    await page.waitForFunction(() => document.querySelector('[aria-sort="ascending"]') !== null);
  });
  assert.equal(reqs.length, 1, reqs.join('\n'));
  assert.deepEqual(await rowNames(), ['fh-alpha', 'fh-beta', 'zz-other']);
});

test('the dashboard view lives in the URL: Back restores it and a copied link shows it', async () => {
  await page.goto(server.url);
  await page.getByTestId('experiment-row').first().waitFor();
  await page.getByRole('button', { name: /^Name/ }).click();
  await page.getByRole('button', { name: /^Name/ }).click();
  await page.getByLabel('finished').check();
  await page.getByTestId('search').fill('fh');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'fh');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 2);
  assert.deepEqual(await rowNames(), ['fh-beta', 'fh-alpha']);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('sort'), 'name');
  assert.equal(url.searchParams.get('order'), 'desc');
  assert.deepEqual(url.searchParams.getAll('status'), ['finished']);

  // Away to an experiment and Back: the same rows, sort and filter inputs.
  await page.getByRole('link', { name: 'fh-alpha' }).click();
  await page.getByTestId('experiment-name').waitFor();
  await page.goBack();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 2);
  assert.deepEqual(await rowNames(), ['fh-beta', 'fh-alpha']);
  assert.equal(await page.getByTestId('search').inputValue(), 'fh');
  assert.equal(await page.getByLabel('finished').isChecked(), true);
  assert.equal(await page.getByRole('columnheader', { name: /^Name/ }).getAttribute('aria-sort'), 'descending');

  // Back once more undoes the last filter step (the status box), not the whole view.
  await page.goBack();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === null);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 2);
  assert.equal(await page.getByLabel('finished').isChecked(), true);
  assert.equal(await page.getByTestId('search').inputValue(), '');

  // A teammate's fresh browser opening the link sees the same view.
  const link = url.toString();
  const other = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await other.addCookies(await page.context().cookies());
  const p2 = await other.newPage();
  await p2.goto(link);
  await p2.getByTestId('experiment-row').first().waitFor();
  await p2.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 2);
  assert.deepEqual(await p2.getByTestId('experiment-row').locator('.name').allInnerTexts(), ['fh-beta', 'fh-alpha']);
  assert.equal(await p2.getByTestId('search').inputValue(), 'fh');
  await other.close();
});

test('chosen columns are part of the link', async () => {
  await page.goto(server.url);
  await page.getByTestId('experiment-row').first().waitFor();
  await page.getByText('Columns', { exact: true }).click();
  await page.getByLabel('lr', { exact: true }).check();
  await page.waitForFunction(() => new URL(location.href).searchParams.getAll('hp').includes('lr'));
  const link = page.url();
  const other = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await other.addCookies(await page.context().cookies());
  const p2 = await other.newPage();
  await p2.goto(link);
  await p2.getByTestId('experiment-row').first().waitFor();
  assert.equal(await p2.getByRole('columnheader', { name: /^lr/ }).count(), 1);
  await other.close();
  await page.getByText('Columns', { exact: true }).click();
});

/** A workspace of its own: five alphabetically-first metrics nobody looks at, and the ones they do. */
async function defaultsWorkspace(): Promise<{ ws: string; runs: string[] }> {
  const res = await fetch(`${server.url}/api/workspaces`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Defaults' }),
  });
  const ws = ((await res.json()) as { id: string }).id;
  const runs: string[] = [];
  for (const [i, name] of ['d-one', 'd-two', 'd-three'].entries()) {
    const e = await client.createExperiment({ name, workspaceId: ws, status: 'finished' });
    runs.push(e.id);
    const flat = (v: number) => ({ steps: steps(20), values: steps(20).map(() => v) });
    await client.logSeries(e.id, {
      aaa: flat(1),
      bbb: flat(2),
      ccc: flat(3),
      ddd: flat(4),
      eee: flat(5),
      // Dips to its best at step 10, then rises: best 0.5 + i/10, last 0.59 + i/10.
      'val/loss': { steps: steps(20), values: steps(20).map((s) => 0.5 + i / 10 + Math.abs(s - 10) / 100) },
    });
    // Logged last: the most recent metric with a direction.
    await client.logSeries(e.id, { 'val/accuracy': flat(0.8 - i / 10), ['x'.repeat(250) + '/thing']: flat(i) });
  }
  return { ws, runs };
}
let defaults: { ws: string; runs: string[] } | null = null;

test('default metric columns are the loss/accuracy-like ones, and a first sort click sorts best first', async () => {
  defaults ??= await defaultsWorkspace();
  await page.goto(`${server.url}/?ws=${defaults.ws}`);
  await page.getByTestId('experiment-row').first().waitFor();
  const headers = async () => (await page.getByRole('columnheader').allInnerTexts()).map((h) => h.replace(/ [▲▼]$/, '').trim());
  await page.waitForFunction(() =>
    Array.from(document.querySelectorAll('[role="columnheader"]')).some((h) => h.textContent?.includes('val/loss')),
  );
  const shown = await headers();
  assert.ok(shown.includes('val/loss') && shown.includes('val/accuracy'), shown.join(' | '));
  assert.ok(!['aaa', 'bbb', 'ccc', 'ddd', 'eee'].every((m) => shown.includes(m)), 'not simply the first five alphabetically');

  // val/loss: lower is better, so the first click puts the lowest first; val/accuracy the highest.
  await page.getByRole('button', { name: /^val\/loss/ }).click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('sort') === 'metric:val/loss');
  await page.waitForFunction(() => document.querySelector('[data-testid="experiment-row"] .name')?.textContent === 'd-one');
  assert.deepEqual(await rowNames(), ['d-one', 'd-two', 'd-three']);
  assert.equal(new URL(page.url()).searchParams.get('order'), 'asc');
  await page.getByRole('button', { name: /^val\/accuracy/ }).click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('sort') === 'metric:val/accuracy');
  assert.equal(new URL(page.url()).searchParams.get('order'), 'desc');
  await page.waitForFunction(() => document.querySelector('[data-testid="experiment-row"] .name')?.textContent === 'd-one');
});

test('a metric column can show the best value (by direction) and sorts by it', async () => {
  defaults ??= await defaultsWorkspace();
  await page.goto(`${server.url}/?ws=${defaults.ws}`);
  const cell = page.getByTestId('experiment-row').filter({ hasText: 'd-one' }).locator('[data-metric="val/loss"]');
  await cell.waitFor();
  assert.equal(await cell.innerText(), '0.59');
  await page.getByText('Columns', { exact: true }).click();
  await page.getByTestId('value-best').check();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('value') === 'best');
  await page.getByText('Columns', { exact: true }).click();
  await page.getByRole('button', { name: /^val\/loss \(best\)/ }).waitFor();
  assert.equal(await cell.innerText(), '0.5');
  await page.getByRole('button', { name: /^val\/loss \(best\)/ }).click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('sort') === 'metric-min:val/loss');
  assert.equal(new URL(page.url()).searchParams.get('order'), 'asc');
  await page.waitForFunction(() => document.querySelector('[data-testid="experiment-row"] .name')?.textContent === 'd-one');
  // Back twice: before the sort, then before "best".
  await page.goBack();
  await page.goBack();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('value') === null);
  await page.getByRole('button', { name: /^val\/loss$/ }).waitFor();
  assert.equal(await cell.innerText(), '0.59');
});

test('the Name column stays in view while the table scrolls sideways', async () => {
  defaults ??= await defaultsWorkspace();
  await page.setViewportSize({ width: 700, height: 800 });
  await page.goto(`${server.url}/?ws=${defaults.ws}`);
  await page.getByTestId('experiment-row').first().waitFor();
  const table = page.getByTestId('experiment-table');
  const name = page.getByTestId('experiment-row').first().locator('.name');
  const box = (await table.boundingBox())!;
  await table.evaluate((el) => (el.scrollLeft = el.scrollWidth));
  await page.waitForTimeout(100);
  assert.ok((await table.evaluate((el) => el.scrollLeft)) > 200, 'the table scrolls sideways');
  const after = (await name.boundingBox())!;
  await screenshot(page, 'first-hour-pinned-name');
  // Still at the table's left edge (after the selection checkbox), not scrolled out of view.
  assert.ok(after.x >= box.x && after.x < box.x + 60, `Name cell at x=${after.x}, table at ${box.x}`);
  const header = (await page.locator('[role="columnheader"]', { hasText: /^Name/ }).boundingBox())!;
  assert.ok(Math.abs(header.x - after.x) < 2, 'the header stays above it');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('compare: the summary metric defaults like the dashboard, long names do not widen the page, and lines can be smoothed', async () => {
  defaults ??= await defaultsWorkspace();
  await page.goto(`${server.url}/compare?ids=${defaults.runs.join(',')}`);
  await page.waitForFunction(() => (window.__toraCompare?.['val/loss']?.draws ?? 0) > 0, null, { polling: 50 });
  assert.equal(await page.getByTestId('summary-metric').inputValue(), 'val/accuracy');
  const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, window: window.innerWidth }));
  assert.ok(widths.page <= widths.window, `page ${widths.page} px wide in a ${widths.window}-px window`);
  await page.getByTestId('summary-metric').selectOption({ index: 0 });
  const still = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(still <= widths.window, `page ${still} px wide after choosing the long name`);
  await screenshot(page, 'first-hour-compare-long-name');

  const before = await drawCounts('compare');
  await page.getByTestId('compare-smoothing').fill('0.9');
  await redrawn('compare', before);
  const e = (await page.evaluate(() => window.__toraCompare!['val/loss']!)).experiments[0]!;
  assert.equal(e.drawn.length, e.points.length);
  assert.notDeepEqual(e.drawn, e.points);
});

/** 300 metrics in sections: 150 under train/, 100 under val/, 46 without a prefix, 4 system samples. */
async function bigExperiment(): Promise<string> {
  const e = await client.createExperiment({ name: 'three-hundred', status: 'finished' });
  const t0 = Date.now() - 3_600_000;
  const series: Record<string, { steps: number[]; values: number[]; times?: number[] }> = {};
  const curve = (k: number) => steps(50).map((s) => 1 / (1 + s / (5 + k)));
  const pad = (i: number) => String(i).padStart(3, '0');
  for (let i = 0; i < 150; i++) series[`train/m${pad(i)}`] = { steps: steps(50), values: curve(i) };
  for (let i = 0; i < 100; i++) series[`val/m${pad(i)}`] = { steps: steps(50), values: curve(i) };
  for (let i = 0; i < 46; i++) series[`plain_${pad(i)}`] = { steps: steps(50), values: curve(i) };
  for (const n of ['system/cpu', 'system/mem', 'system/gpu0/util', 'system/gpu0/mem']) {
    series[n] = { steps: steps(50), values: curve(3), times: steps(50).map((s) => t0 + s * 60_000) };
  }
  const res = await client.call('POST', `/experiments/${e.id}/metrics/batch`, { series });
  assert.equal(res.status, 201, await res.text());
  return e.id;
}

test('a 300-metric page groups charts in sections and mounts them as they scroll into view', async () => {
  const id = await bigExperiment();
  const reads: string[] = [];
  const onRequest = (r: import('playwright-core').Request) => {
    if (r.url().includes('/metrics/series')) reads.push(new URL(r.url()).searchParams.get('name')!);
  };
  page.on('request', onRequest);
  await page.goto(`${server.url}/experiments/${id}`);
  await page.waitForFunction(() => Object.values(window.__toraCharts ?? {}).some((c) => c.xs.length > 0), null, { polling: 50 });
  await page.waitForTimeout(500);
  const sections = page.getByTestId('metric-section');
  assert.deepEqual(await sections.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.prefix)), [
    '',
    'train/',
    'val/',
    'system/',
  ]);
  const mounted = await page.getByTestId('metric-chart').count();
  assert.ok(mounted > 0 && mounted < 40, `${mounted} charts mounted at first`);
  assert.equal(reads.length, mounted, 'one read per mounted chart');

  // System starts folded; opened, its charts use wall time.
  const system = page.locator('[data-testid="metric-section"][data-prefix="system/"]');
  assert.equal(await system.getByRole('button').getAttribute('aria-expanded'), 'false');
  assert.equal(await system.getByTestId('metric-chart').count(), 0);

  // Scrolling further mounts more; folding a section removes its charts.
  await page.locator('[data-slot="val/m050"]').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => (window.__toraCharts?.['val/m050']?.xs.length ?? 0) > 0, null, { polling: 50 });
  const train = page.locator('[data-testid="metric-section"][data-prefix="train/"]');
  await train.getByRole('button').click();
  assert.equal(await train.getByTestId('metric-chart').count(), 0);
  await system.getByRole('button').click();
  await system.locator('[data-slot="system/cpu"]').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => (window.__toraCharts?.['system/cpu']?.xs.length ?? 0) > 0, null, { polling: 50 });
  const cpu = await page.evaluate(() => window.__toraCharts!['system/cpu']!);
  assert.equal(cpu.x, 'time');
  assert.ok(cpu.from > 1e12, 'epoch milliseconds on the x axis');
  page.off('request', onRequest);
  assert.ok(reads.length < 150, `${reads.length} reads for 300 metrics`);
  await screenshot(page, 'first-hour-sections');
});

test('bulk actions: select many, tag, untag, and delete after confirming', async () => {
  const res = await fetch(`${server.url}/api/workspaces`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bulk' }),
  });
  const ws = ((await res.json()) as { id: string }).id;
  const bulkIds: Record<string, string> = {};
  for (const name of ['b1', 'b2', 'b3', 'b4']) bulkIds[name] = (await client.createExperiment({ name, workspaceId: ws })).id;
  const tagsOf = async (name: string) =>
    ((await (await client.call('GET', `/experiments/${bulkIds[name]}`)).json()) as { tags: string[] }).tags;

  await page.goto(`${server.url}/?ws=${ws}`);
  await page.getByTestId('experiment-row').first().waitFor();
  for (const name of ['b1', 'b2', 'b3']) await page.getByLabel(`Select ${name}`).check();
  const bar = page.getByTestId('bulk-actions');
  await bar.getByRole('button', { name: 'Tag…', exact: true }).click();
  await page.getByTestId('bulk-tags').fill('ablation, keep');
  await page.getByRole('button', { name: 'Add tags' }).click();
  await page.getByText('Tagged 3 experiments (ablation, keep)').waitFor();
  for (const name of ['b1', 'b2', 'b3']) assert.deepEqual(await tagsOf(name), ['ablation', 'keep']);
  assert.deepEqual(await tagsOf('b4'), []);
  await page.getByTestId('experiment-row').filter({ hasText: 'b1' }).getByText('ablation').waitFor();

  await page.getByLabel('Select b3').uncheck();
  await bar.getByRole('button', { name: 'Untag…' }).click();
  await page.getByTestId('bulk-tags').fill('keep');
  await page.getByRole('button', { name: 'Remove tags' }).click();
  await page.getByText('Untagged 2 experiments (keep)').waitFor();
  assert.deepEqual(await tagsOf('b1'), ['ablation']);
  assert.deepEqual(await tagsOf('b3'), ['ablation', 'keep']);

  // Delete asks first; cancelling deletes nothing.
  await page.getByLabel('Select b3').check();
  await bar.getByRole('button', { name: 'Delete 3…' }).click();
  await page.getByText('3 experiments and all their metrics will be deleted').waitFor();
  await screenshot(page, 'first-hour-bulk-delete');
  await page.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await client.call('GET', `/experiments/${bulkIds.b1}`)).status, 200);
  await bar.getByRole('button', { name: 'Delete 3…' }).click();
  await page.getByRole('button', { name: 'Delete 3 experiments' }).click();
  await page.getByText('Deleted 3 experiments').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 1);
  assert.deepEqual(await rowNames(), ['b4']);
  for (const name of ['b1', 'b2', 'b3']) assert.equal((await client.call('GET', `/experiments/${bulkIds[name]}`)).status, 404);
  assert.equal(await page.getByTestId('bulk-actions').count(), 0, 'the selection is cleared');
});
