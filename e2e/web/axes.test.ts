/**
 * Any x-axis in a real browser: on the experiment page an epoch-like metric is a one-click axis
 * (not a chart of its own) and the choice lives in the URL; on the compare page two runs logged at
 * different steps per epoch line up on x=metric:epoch. Screenshots in light, dark and phone width.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  apiSession,
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

before(async () => {
  server = await startServer();
  cookie = await apiSession(server.url, 'axes@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'axes' }),
  });
  const client = keyClient(server.url, ((await res.json()) as { key: string }).key);
  // Run a: 100 steps per epoch; run b: 200. Same loss per epoch, so on x=epoch their curves coincide.
  for (const [name, perEpoch] of [
    ['epochs-fast', 100],
    ['epochs-slow', 200],
  ] as const) {
    const e = await client.createExperiment({ name });
    const s = steps(10 * perEpoch);
    await client.logSeries(e.id, {
      loss: { steps: s, values: s.map((i) => 2 / (1 + i / perEpoch)) },
      epoch: { steps: s, values: s.map((i) => i / perEpoch) },
    });
    ids.push(e.id);
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an epoch-like metric is a one-click axis, not a chart, and the URL remembers it', async () => {
  const { context, page } = await signedInPage(browser, server.url, cookie);
  await page.goto(`${server.url}/experiments/${ids[0]}`);
  await page.waitForFunction(() => (window.__toraCharts?.loss?.xs.length ?? 0) > 0);
  assert.equal(await page.locator('[data-slot="epoch"]').count(), 0, 'epoch is not drawn as a chart');
  await page.locator('[data-testid="x-metric"][data-metric="epoch"]').check();
  await page.waitForFunction(() => window.__toraCharts?.loss?.x === 'metric:epoch' && window.__toraCharts.loss.xs.length > 0);
  const c = await page.evaluate(() => window.__toraCharts!.loss!);
  assert.equal(c.from, 0);
  assert.equal(c.to, 9.99, 'x runs over epochs 0–9.99, not steps 0–999');
  assert.equal(
    c.counts.reduce((a, b) => a + b, 0),
    1000,
  );
  assert.match(page.url(), /[?&]x=metric%3Aepoch/);
  await screenshot(page, 'axes-experiment-epoch-light');

  // A reload (or a shared link) shows the same axis.
  await page.reload();
  await page.waitForFunction(() => window.__toraCharts?.loss?.x === 'metric:epoch' && window.__toraCharts.loss.xs.length > 0);
  assert.ok(await page.locator('[data-testid="x-metric"][data-metric="epoch"]').isChecked());
  await page.getByTestId('x-relative').check();
  await page.waitForFunction(() => window.__toraCharts?.loss?.x === 'relative' && window.__toraCharts.loss.xs.length > 0);
  assert.match(page.url(), /[?&]x=relative/);
  await page.getByTestId('x-step').check();
  await page.waitForFunction(() => window.__toraCharts?.loss?.x === 'step' && window.__toraCharts.loss.to === 999);
  assert.doesNotMatch(page.url(), /[?&]x=/);
  await context.close();
});

test('compare lines up runs logged at different steps on x=metric:epoch (light, dark, phone)', async () => {
  for (const opts of [
    { name: 'light', colorScheme: 'light' as const },
    { name: 'dark', colorScheme: 'dark' as const },
    { name: 'phone', colorScheme: 'light' as const, width: 390, height: 844 },
  ]) {
    const { context, page } = await signedInPage(browser, server.url, cookie, opts);
    await page.goto(`${server.url}/compare?ids=${ids.join(',')}&x=metric:epoch`);
    await page.waitForFunction(
      () => window.__toraCompare?.loss?.x === 'metric:epoch' && window.__toraCompare.loss.experiments.length === 2,
    );
    const c = await page.evaluate(() => window.__toraCompare!.loss!);
    assert.equal(c.from, 0);
    assert.equal(c.to, 9.995, 'one shared epoch range: the slower run ends at epoch 9.995');
    assert.ok(await page.locator('[data-testid="x-metric"][data-metric="epoch"]').isChecked());
    assert.equal(
      await page
        .getByTestId('compare-grid')
        .locator('figure', { hasText: /^epoch/ })
        .count(),
      0,
    );
    await screenshot(page, `axes-compare-epoch-${opts.name}`);
    await context.close();
  }
});
