/**
 * The main user journey against a real built server: first account → workspace → API key read
 * from the page → its Python snippet run as pasted → 3 metrics × 5,000 steps logged with that key → dashboard → charts whose
 * plotted envelope matches the data → live update → revoke the key in the UI → 401.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { keyClient, launchBrowser, newPage, screenshot, startServer, steps, waitForCharts, type TestServer } from './harness.ts';

const run = promisify(execFile);
let server: TestServer;
let browser: Browser;
let page: Page;
let apiKey = '';
let experimentId = '';
let workspaceId = '';
const N = 5000;
const data: Record<string, number[]> = {
  loss: steps(N).map((s) => 2 / (1 + s / 300) + 0.05 * Math.sin(s / 7)),
  accuracy: steps(N).map((s) => 1 - 0.9 * Math.exp(-s / 800) + 0.01 * Math.cos(s / 3)),
  lr: steps(N).map((s) => 1e-3 * Math.pow(0.5, Math.floor(s / 1000))),
};

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ page } = await newPage(browser));
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => console.error('pageerror:', e.message));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a first visit leads to creating the first account', async () => {
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Create the first account' }).waitFor();
  await page.getByLabel('Email').fill('owner@example.com');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByTestId('auth-error').waitFor();
  assert.match(await page.getByTestId('auth-error').innerText(), /8 characters/);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: /Experiments/ }).waitFor();
  // A new workspace teaches how to log the first experiment.
  await page.getByTestId('quickstart').waitFor();
});

test('create a workspace; it becomes the current one', async () => {
  await page.getByRole('link', { name: 'Workspaces' }).click();
  await page.getByLabel('Name', { exact: true }).last().fill('Vision');
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await page.getByRole('heading', { name: /^Vision/ }).waitFor();
  workspaceId = await page.getByTestId('workspace-switcher').inputValue();
  const selected = await page.getByTestId('workspace-switcher').locator('option:checked').innerText();
  assert.equal(selected.trim(), 'Vision');
});

test('create an API key and read it from the page', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
  await page.getByLabel('Key name').fill('e2e laptop');
  await page.getByRole('button', { name: 'Create key' }).click();
  apiKey = (await page.getByTestId('new-key').innerText()).trim();
  assert.match(apiKey, /^tora_[A-Za-z0-9]{32,}$/);
  assert.match(await page.getByTestId('python-snippet').innerText(), /TORA_API_KEY/);
  await page.getByTestId('key-row').first().waitFor();
  await screenshot(page, 'keys');
});

test("the keys page offers the Python client's config.json with this server and the new key", async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('client-config').click()]);
  assert.equal(download.suggestedFilename(), 'config.json');
  const saved = await download.path();
  assert.deepEqual(JSON.parse(fs.readFileSync(saved, 'utf8')), { server_url: server.url, api_key: apiKey });
});

test('the keys page shows the pip command of the client this server serves, and it serves that wheel', async () => {
  const install = (await page.getByTestId('pip-install').innerText()).trim();
  const match = /^pip install (\S+\/api\/client\/tora_client-[\d.]+-py3-none-any\.whl)$/.exec(install);
  assert.ok(match, install);
  assert.ok(match[1]!.startsWith(`${server.url}/api/client/`), install);
  const wheel = await fetch(match[1]!);
  assert.equal(wheel.status, 200);
  assert.equal(
    Buffer.from(await wheel.arrayBuffer())
      .subarray(0, 2)
      .toString(),
    'PK',
  );
});

test("the keys page's Python snippet runs as pasted and its run arrives finished", async () => {
  const snippet = await page.getByTestId('python-snippet').innerText();
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const { stderr } = await run('python3', ['-c', snippet], {
    // The client as `pip install ./clients/python` provides it; no TORA_* variables but the snippet's.
    // HOME inside the server's data dir: the client's ~/.tora goes when the server's data does.
    env: { PATH: process.env.PATH ?? '', HOME: server.dataDir, PYTHONPATH: path.join(root, 'clients/python/src') },
    timeout: 60_000,
  });
  assert.doesNotMatch(stderr, /Traceback|spooled|dropped/);
  const client = keyClient(server.url, apiKey);
  const list = (await (await client.call('GET', '/experiments?startwith=my-run')).json()) as {
    experiments: { id: string; status: string }[];
  };
  assert.equal(list.experiments.length, 1);
  assert.equal(list.experiments[0]!.status, 'finished');
  const metrics = (await (await client.call('GET', `/experiments/${list.experiments[0]!.id}/metrics`)).json()) as {
    metrics: { name: string; count: number; lastValue: number }[];
  };
  assert.deepEqual(
    metrics.metrics.map((m) => [m.name, m.count, m.lastValue]),
    [['loss', 1, 0.5]],
  );
});

test('an experiment logged over the API with that key is listed on the dashboard', async () => {
  const client = keyClient(server.url, apiKey);
  const exp = await client.createExperiment({
    name: 'resnet50-baseline',
    workspaceId,
    tags: ['baseline', 'resnet'],
    hyperparams: { lr: 0.001, batch_size: 256, optimizer: 'adamw' },
  });
  experimentId = exp.id;
  await client.logSeries(
    exp.id,
    Object.fromEntries(Object.entries(data).map(([name, values]) => [name, { steps: steps(N), values }])),
  );
  await page.getByRole('link', { name: 'Experiments' }).click();
  const row = page.getByTestId('experiment-row').filter({ hasText: 'resnet50-baseline' });
  await row.waitFor();
  assert.match(await row.innerText(), /running/);
  await screenshot(page, 'dashboard');
});

function expectedExtremes(values: number[], from: number, to: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let s = from; s <= to; s++) {
    min = Math.min(min, values[s]!);
    max = Math.max(max, values[s]!);
  }
  return { min, max };
}

test('the experiment page draws 3 charts whose plotted data matches the logged points', async () => {
  await page.getByRole('link', { name: 'resnet50-baseline' }).click();
  await page.getByTestId('experiment-name').waitFor();
  await waitForCharts(page, Object.keys(data));
  assert.equal(await page.getByTestId('metric-chart').count(), 3);
  const charts = await page.evaluate(() => window.__toraCharts!);
  for (const [name, values] of Object.entries(data)) {
    const c = charts[name]!;
    const plotWidth = await page.locator(`[data-metric="${name}"] .u-over`).evaluate((el) => el.getBoundingClientRect().width);
    // The chart asked for one bucket per pixel of its plot area.
    assert.ok(Math.abs(c.budget - plotWidth) <= 16, `${name}: budget ${c.budget} vs plot width ${plotWidth}`);
    assert.ok(c.xs.length > 100 && c.xs.length <= c.budget, `${name}: ${c.xs.length} buckets`);
    assert.equal(
      c.counts.reduce((a, b) => a + b, 0),
      N,
      `${name}: every point is in some bucket`,
    );
    assert.equal(c.firstSteps[0], 0);
    assert.equal(c.lastSteps.at(-1), N - 1);
    for (let i = 0; i < c.xs.length; i++) {
      const { min, max } = expectedExtremes(values, c.firstSteps[i]!, c.lastSteps[i]!);
      assert.equal(c.mins[i], min, `${name} bucket ${i} min`);
      assert.equal(c.maxs[i], max, `${name} bucket ${i} max`);
      const line = c.lines[i]!;
      assert.ok(line >= min && line <= max, `${name} bucket ${i} line inside envelope`);
    }
  }
  await screenshot(page, 'experiment-light');
});

test('the theme toggles to dark and is remembered', async () => {
  await page.getByTestId('theme-toggle').click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.reload();
  await waitForCharts(page, Object.keys(data));
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bg, 'rgb(246, 247, 249)');
  await screenshot(page, 'experiment-dark');
  await page.getByTestId('theme-toggle').click();
});

test('live update: points logged while the page is open appear within 3 s', async () => {
  await waitForCharts(page, Object.keys(data));
  const before = await page.evaluate(() => ({
    to: window.__toraCharts!.loss!.to,
    requests: window.__toraCharts!.loss!.requests,
  }));
  assert.equal(before.to, N - 1);
  const client = keyClient(server.url, apiKey);
  const t0 = Date.now();
  await client.logSeries(experimentId, { loss: { steps: steps(100, N), values: steps(100).map(() => 5) } });
  await page.waitForFunction((last) => window.__toraCharts?.loss?.to === last, N + 99, { timeout: 3000, polling: 50 });
  const elapsed = Date.now() - t0;
  const after = await page.evaluate(() => window.__toraCharts!.loss!);
  assert.ok(elapsed <= 3000, `appeared after ${elapsed} ms`);
  assert.equal(after.maxs.at(-1), 5);
  assert.equal(
    after.counts.reduce((a, b) => a + b, 0),
    N + 100,
  );
  // Only the new range was fetched: one small extra request, the old buckets kept.
  assert.equal(after.requests, before.requests + 1); // A metric that starts mid-run gets its own chart without a reload.
  await client.logSeries(experimentId, { grad_norm: { steps: [0, 1, 2], values: [3, 'NaN', 1] } });
  await page.waitForFunction(() => (window.__toraCharts?.grad_norm?.xs.length ?? 0) === 3, null, { timeout: 3000, polling: 50 });
  assert.deepEqual(await page.evaluate(() => window.__toraCharts!.grad_norm!.nanSteps), [1]);
});

test('the dashboard works on a 390-px-wide phone screen', async () => {
  const { context, page: phone } = await newPage(browser, { width: 390, height: 844 });
  await context.addCookies(await page.context().cookies());
  await phone.goto(server.url);
  await phone.getByTestId('workspace-switcher').selectOption(workspaceId);
  await phone.getByTestId('experiment-row').first().waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page overflows by ${overflow}px`);
  await screenshot(phone, 'dashboard-phone');
  await context.close();
});

test('create, edit and delete an experiment from the dashboard; search and select for comparison', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Experiments' }).click();
  await page.getByRole('button', { name: 'New experiment' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name').fill('ui-made');
  await dialog.getByLabel('Tags (comma-separated)').fill('scratch, ui');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('experiment-name').filter({ hasText: 'ui-made' }).waitFor();
  await page.getByTestId('edit-experiment').click();
  await page.getByRole('dialog').getByLabel('Description').fill('made in the browser');
  await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
  await page.getByText('made in the browser').waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Experiments' }).click();
  await page.getByTestId('experiment-row').nth(1).waitFor();
  // Server-side search.
  await page.getByTestId('search').fill('ui-m');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 1);
  await page.getByTestId('search').fill('');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 2);
  // Selection leads to the comparison link.
  await page.getByRole('checkbox', { name: 'Select ui-made' }).check();
  await page.getByRole('checkbox', { name: 'Select resnet50-baseline' }).check();
  const href = await page.getByTestId('compare-link').getAttribute('href');
  assert.match(href!, /^\/compare\?ids=[0-9a-f-]{36},[0-9a-f-]{36}$/);
  await page.getByRole('button', { name: 'Delete ui-made' }).click();
  await page.getByTestId('confirm').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="experiment-row"]').length === 1);
});

test('the experiment page works on a 390-px-wide phone screen', async () => {
  const { context, page: phone } = await newPage(browser, { width: 390, height: 844 });
  await context.addCookies(await page.context().cookies());
  await phone.goto(`${server.url}/experiments/${experimentId}`);
  // Charts mount as they scroll into view.
  for (const name of Object.keys(data)) {
    await phone.locator(`[data-slot="${name}"]`).scrollIntoViewIfNeeded();
    await waitForCharts(phone, [name]);
  }
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page overflows by ${overflow}px`);
  const budget = await phone.evaluate(() => window.__toraCharts!.loss!.budget);
  assert.ok(budget < 390, `phone chart asked for ${budget} buckets`);
  await screenshot(phone, 'experiment-phone');
  await context.close();
});

test('revoking the key in the UI makes the next API call with it get 401', async () => {
  const client = keyClient(server.url, apiKey);
  assert.equal((await client.call('GET', `/experiments/${experimentId}`)).status, 200);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
  await page.getByRole('button', { name: 'Revoke e2e laptop' }).click();
  await page.getByTestId('confirm').click();
  await page.getByTestId('key-row').filter({ hasText: 'revoked' }).waitFor();
  assert.equal((await client.call('GET', `/experiments/${experimentId}`)).status, 401);
});
