/**
 * Truthful charts at scale: a one-step spike in 1,000,000 points survives downsampling at full
 * zoom-out; NaN/Infinity are shown as markers; zoom re-asks the server for the zoomed range.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  apiSession,
  keyClient,
  launchBrowser,
  signedInPage,
  startServer,
  steps,
  waitForCharts,
  type TestServer,
} from './harness.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
let experimentId = '';
const N = 1_000_000;
const SPIKE_STEP = 654_321;
const SPIKE = 1000;

before(async () => {
  server = await startServer();
  const cookie = await apiSession(server.url, 'charts@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'charts' }),
  });
  const { key } = (await res.json()) as { key: string };
  const client = keyClient(server.url, key);
  const exp = await client.createExperiment({ name: 'million-points' });
  experimentId = exp.id;
  const values = steps(N).map((s) => 0.5 + 0.4 * Math.sin(s / 5000));
  values[SPIKE_STEP] = SPIKE;
  const odd: (number | string)[] = steps(1000).map((s) => 1 + s / 1000);
  odd[100] = 'NaN';
  odd[500] = 'Infinity';
  odd[900] = '-Infinity';
  await client.logSeries(exp.id, { big: { steps: steps(N), values }, odd: { steps: steps(1000), values: odd } });

  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a one-step spike in a 1,000,000-point series is the rendered max at full zoom-out', async () => {
  await page.goto(`${server.url}/experiments/${experimentId}`);
  await waitForCharts(page, ['big', 'odd']);
  const c = await page.evaluate(() => window.__toraCharts!.big!);
  assert.equal(c.zoomed, false);
  assert.equal(
    c.counts.reduce((a, b) => a + b, 0),
    N,
  );
  assert.ok(c.xs.length <= c.budget && c.budget < 1300, `${c.xs.length} buckets for a ${c.budget}-px plot`);
  const maxs = c.maxs.filter((v): v is number => v !== null);
  assert.equal(Math.max(...maxs), SPIKE);
  const i = c.maxs.indexOf(SPIKE);
  assert.ok(c.firstSteps[i]! <= SPIKE_STEP && SPIKE_STEP <= c.lastSteps[i]!);
  // Only that bucket reaches it; its neighbours stay in the signal's range.
  assert.equal(c.maxs.filter((v) => v !== null && v > 1).length, 1);
});

test('NaN and ±Infinity are markers, not holes', async () => {
  const c = await page.evaluate(() => window.__toraCharts!.odd!);
  assert.deepEqual(c.nanSteps, [100]);
  assert.deepEqual(c.posInfSteps, [500]);
  assert.deepEqual(c.negInfSteps, [900]);
  assert.ok(c.maxs.every((v) => v === null || Number.isFinite(v)));
  await page.getByText('1 NaN value').waitFor();
});

test('hovering a chart shows the value under the cursor with its bucket range', async () => {
  const over = page.locator('[data-metric="odd"] .u-over');
  // The mouse moves in viewport coordinates: the chart must be on screen (the run page's panels above may push it down).
  await over.scrollIntoViewIfNeeded();
  const box = (await over.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
  const readout = page.locator('[data-metric="odd"]').getByTestId('chart-readout');
  await readout.getByText(/^steps? \d+/).waitFor();
  assert.match(await readout.innerText(), /steps? \d+(–\d+)?\s+\d/);
  await page.mouse.move(0, 0);
});

test('zooming re-queries the server for the zoomed step range at the same pixel budget', async () => {
  const before = await page.evaluate(() => window.__toraCharts!.big!);
  const over = page.locator('[data-metric="big"] .u-over');
  await over.scrollIntoViewIfNeeded();
  const box = (await over.boundingBox())!;
  // Drag over the middle fifth of the plot.
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => window.__toraCharts?.big?.zoomed === true && window.__toraCharts.big.to < 900_000, null, {
    polling: 50,
  });
  const z = await page.evaluate(() => window.__toraCharts!.big!);
  assert.equal(z.requests, before.requests + 1);
  assert.ok(z.from > 550_000 && z.to < 750_000, `zoomed to ${z.from}–${z.to}`);
  assert.ok(z.to - z.from < 150_000);
  // Finer buckets now: the spike is still there, within a much narrower bucket.
  const i = z.maxs.indexOf(SPIKE);
  assert.ok(i >= 0, 'spike still visible when zoomed');
  assert.ok(z.lastSteps[i]! - z.firstSteps[i]! < (before.to - before.from) / before.budget);
  await page.getByRole('button', { name: 'Reset zoom' }).click();
  await page.waitForFunction(() => window.__toraCharts?.big?.zoomed === false, null, { polling: 50 });
  assert.equal((await page.evaluate(() => window.__toraCharts!.big!)).to, N - 1);
});

test('log scale drops values ≤ 0 and smoothing leaves the envelope alone', async () => {
  await page.getByTestId('log-y').check();
  await page.waitForFunction(() => window.__toraCharts?.big?.logY === true, null, { polling: 50 });
  const c = await page.evaluate(() => window.__toraCharts!.big!);
  assert.equal(Math.max(...c.maxs.filter((v): v is number => v !== null)), SPIKE);
  await page.getByTestId('log-y').uncheck();
});
