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
  newPage,
  screenshot,
  startServer,
  steps,
  type TestServer,
} from './harness.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
let client: ReturnType<typeof keyClient>;
const errors: string[] = [];
const ids: Record<string, string> = {};
const N = 300;

before(async () => {
  server = await startServer();
  const cookie = await apiSession(server.url, 'first-hour@example.com', 'password123');
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

  browser = await launchBrowser();
  let context;
  ({ context, page } = await newPage(browser, { width: 1280, height: 900 }));
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => errors.push(e.message));
  const [cname, value] = cookie.split('=') as [string, string];
  await context.addCookies([{ name: cname, value, url: server.url }]);
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
