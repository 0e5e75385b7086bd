/**
 * Bands on the compare page in a real browser: 4 runs (2 learning rates × 2 seeds) banded by lr
 * draw one mean line per group with its ±std band (values checked against the logged ones), the
 * legend names each group and its n, min–max is one click away and stays in the URL. Screenshots
 * in light, dark and phone width.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  apiSession,
  inkPixels,
  keyClient,
  launchBrowser,
  screenshot,
  signedInPage,
  startServer,
  steps,
  type TestServer,
} from './harness.ts';

let server: TestServer;
let browser: Browser;
let cookie: string;
const ids: string[] = [];
// Each run's loss: its level plus a curve shared by all, so per bucket the spread is the levels'.
const level = { '0.1': [1, 1.2], '0.01': [0.5, 0.6] } as const;
const N = 500;

before(async () => {
  server = await startServer();
  cookie = await apiSession(server.url, 'bands@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bands' }),
  });
  const client = keyClient(server.url, ((await res.json()) as { key: string }).key);
  for (const [lr, levels] of Object.entries(level)) {
    for (const [seed, l] of levels.entries()) {
      const e = await client.createExperiment({ name: `lr${lr}-s${seed}`, hyperparams: { lr: Number(lr), seed } });
      await client.logSeries(e.id, { loss: { steps: steps(N), values: steps(N).map(() => l) } });
      ids.push(e.id);
    }
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('banded by lr: one mean line per group with ±std, legend with n, min–max on demand, in the URL', async () => {
  const { context, page } = await signedInPage(browser, server.url, cookie);
  await page.goto(`${server.url}/compare?ids=${ids.join(',')}`);
  await page.getByTestId('band-by').waitFor();
  await page.getByTestId('band-by').selectOption('lr');
  await page.waitForFunction(() => window.__toraBands?.loss?.groups.length === 2);
  assert.match(page.url(), /[?&]band=params\.lr/);
  const probe = await page.evaluate(() => window.__toraBands!.loss!);
  const byLabel = new Map(probe.groups.map((g) => [g.label, g]));
  for (const [lr, [a, b]] of Object.entries(level)) {
    const g = byLabel.get(`lr=${lr}`)!;
    assert.equal(g.n, 2);
    const mean = (a + b) / 2;
    const std = Math.abs(a - b) / 2;
    for (let i = 0; i < g.lines.length; i++) {
      assert.ok(Math.abs(g.lines[i]! - mean) < 1e-12, `mean ${g.lines[i]} vs ${mean}`);
      assert.ok(Math.abs(g.mins[i]! - (mean - std)) < 1e-12 && Math.abs(g.maxs[i]! - (mean + std)) < 1e-12);
    }
  }
  assert.deepEqual((await page.getByTestId('band-legend').allTextContents()).map((t) => t.trim()).sort(), [
    'lr=0.01 n=2',
    'lr=0.1 n=2',
  ]);
  // Both groups' mean lines are on the canvas (the y axis follows the data, not a placeholder range).
  const chart = '[data-testid="band-chart"][data-metric="loss"]';
  await page.locator(chart).scrollIntoViewIfNeeded();
  const colors = await page
    .getByTestId('band-legend')
    .locator('.swatch')
    .evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  assert.equal(colors.length, 2);
  for (const c of colors) assert.ok((await inkPixels(page, chart, c)) > 100, `the ${c} mean line is drawn`);
  await screenshot(page, 'bands-compare-light');

  await page.getByTestId('band-spread').selectOption('minmax');
  await page.waitForFunction(() => window.__toraBands?.loss?.spread === 'minmax' && window.__toraBands.loss.groups.length === 2);
  const mm = await page.evaluate(() => window.__toraBands!.loss!.groups.find((g) => g.label === 'lr=0.1')!);
  assert.equal(mm.mins[0], 1);
  assert.equal(mm.maxs[0], 1.2);
  assert.match(page.url(), /[?&]spread=minmax/);
  await context.close();
});

test('bands in dark and at phone width', async () => {
  for (const opts of [
    { name: 'dark', colorScheme: 'dark' as const },
    { name: 'phone', colorScheme: 'light' as const, width: 390, height: 844 },
  ]) {
    const { context, page } = await signedInPage(browser, server.url, cookie, opts);
    await page.goto(`${server.url}/compare?ids=${ids.join(',')}&band=lr`);
    await page.waitForFunction(() => window.__toraBands?.loss?.groups.length === 2);
    await page.getByTestId('band-chart').first().scrollIntoViewIfNeeded();
    await screenshot(page, `bands-compare-${opts.name}`);
    await context.close();
  }
});
