/**
 * The dashboard's search box takes MLflow's filter grammar (issue 11): the server's one parser
 * picks the rows, a filter it refuses is explained under the box, and the filter lives in the URL.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { apiSession, keyClient, launchBrowser, signedInPage, screenshot, startServer, type TestServer } from './harness.ts';

const FILTER = 'params.lr < 0.01 and metrics.val/loss < 0.3';
const BAD = 'params.lr < 0.01 and metrics.val/loss <';

let server: TestServer;
let browser: Browser;
let page: Page;
let cookie = '';
let key = '';
const errors: string[] = [];

before(async () => {
  server = await startServer();
  cookie = await apiSession(server.url, 'filter-box@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'filter-box' }),
  });
  key = ((await res.json()) as { key: string }).key;
  const client = keyClient(server.url, key);
  // Tora runs: only "small-good" has lr < 0.01 and a last val/loss < 0.3.
  for (const [name, lr, loss] of [
    ['small-good', 0.001, 0.2],
    ['small-bad', 0.005, 0.5],
    ['big-good', 0.1, 0.1],
    ['nan-loss', 0.0001, 'NaN'],
  ] as const) {
    const e = await client.createExperiment({ name, status: 'finished', hyperparams: { lr, optimizer: 'adamw' } });
    await client.logSeries(e.id, { 'val/loss': { steps: [0, 1], values: [1, loss] } });
  }
  // And one MLflow run that matches (its param a string, as MLflow logs them).
  const ml = (p: string, body: unknown) =>
    fetch(`${server.url}/api/2.0/mlflow${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.json() as Promise<{ run: { info: { run_id: string } } }>);
  const run = await ml('/runs/create', { experiment_id: '0', run_name: 'mlflow-good' });
  await ml('/runs/log-batch', {
    run_id: run.run.info.run_id,
    params: [{ key: 'lr', value: '0.002' }],
    metrics: [{ key: 'val/loss', value: 0.25, timestamp: Date.now(), step: 0 }],
  });

  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie, { width: 1280, height: 800 }));
  page.on('pageerror', (e) => errors.push(e.message));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const rowNames = async (p: Page = page) => (await p.getByTestId('experiment-row').locator('.name').allInnerTexts()).sort();
/** Waits until the table shows exactly these rows (any order). */
const rowsAre = (p: Page, names: string[]) =>
  p.waitForFunction(
    (want) =>
      JSON.stringify(
        Array.from(document.querySelectorAll('[data-testid="experiment-row"] .name'))
          .map((e) => e.textContent?.trim())
          .sort(),
      ) === JSON.stringify(want),
    [...names].sort(),
    { polling: 50 },
  );
const rowCount = (p: Page, n: number) =>
  p.waitForFunction((n) => document.querySelectorAll('[data-testid="experiment-row"]').length === n, n, { polling: 50 });

test('a filter typed in the search box shows exactly the matching runs, and stays in the URL', async () => {
  await page.goto(server.url);
  await rowCount(page, 5);
  const sent: URLSearchParams[] = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/experiments' && r.method() === 'GET') sent.push(u.searchParams);
  });
  const box = page.getByTestId('search');
  assert.match((await box.getAttribute('placeholder')) ?? '', /params\.lr < 0\.01 and metrics\.val\/loss < 0\.3/);
  assert.match(await page.locator('#search-help').innerText(), /MLflow filters, e.g. params.lr < 0.01/);
  await box.fill(FILTER);
  await page.waitForFunction((f) => new URL(location.href).searchParams.get('q') === f, FILTER);
  await rowsAre(page, ['mlflow-good', 'small-good']);
  assert.deepEqual(await rowNames(), ['mlflow-good', 'small-good']);
  // The server got it as filter=, not as a name search.
  const last = sent.at(-1)!;
  assert.equal(last.get('filter'), FILTER);
  assert.equal(last.get('startwith'), null);
  assert.equal(await page.getByTestId('row-count').innerText(), '2 experiments');
  await screenshot(page, 'filter-box-light');

  // Into a run and Back: the same filter and rows.
  await page.getByRole('link', { name: 'small-good' }).click();
  await page.getByTestId('experiment-name').waitFor();
  await page.goBack();
  await rowCount(page, 2);
  assert.equal(await box.inputValue(), FILTER);
  assert.deepEqual(await rowNames(), ['mlflow-good', 'small-good']);

  // A reload keeps it too.
  await page.reload();
  await rowCount(page, 2);
  assert.equal(await page.getByTestId('search').inputValue(), FILTER);
  assert.deepEqual(await rowNames(), ['mlflow-good', 'small-good']);

  // Plain text is still the name search.
  await page.getByTestId('search').fill('small');
  await rowsAre(page, ['small-bad', 'small-good']);
  assert.deepEqual(await rowNames(), ['small-bad', 'small-good']);
  assert.equal(sent.at(-1)!.get('startwith'), 'small');
  assert.equal(sent.at(-1)!.get('filter'), null);
  assert.deepEqual(errors, []);
});

test("a filter the server refuses shows the server's message under the box, not a toast", async () => {
  const direct = await fetch(`${server.url}/api/experiments?filter=${encodeURIComponent(BAD)}`, {
    headers: { 'x-api-key': key },
  });
  assert.equal(direct.status, 400);
  const message = ((await direct.json()) as { error: { message: string } }).error.message;

  await page.goto(`${server.url}/?q=${encodeURIComponent(FILTER)}`);
  await rowCount(page, 2);
  await page.getByTestId('search').fill(BAD);
  const shown = page.getByTestId('search-error');
  await shown.waitFor();
  assert.equal(await shown.innerText(), message);
  assert.match(message, /^Filter expected a value at the end of the filter$/);
  await rowCount(page, 0);
  assert.equal(await page.getByTestId('search').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByTestId('toast-error').count(), 0);
  await screenshot(page, 'filter-box-error-light');

  // Fixing it clears the message and brings the rows back.
  await page.getByTestId('search').fill(FILTER);
  await rowCount(page, 2);
  assert.equal(await shown.count(), 0);

  // The same views in a dark theme (looked at for contrast of the hint and the error).
  const { context, page: dark } = await signedInPage(browser, server.url, cookie, {
    colorScheme: 'dark',
    width: 1280,
    height: 800,
  });
  try {
    await dark.goto(`${server.url}/?q=${encodeURIComponent(FILTER)}`);
    await rowCount(dark, 2);
    await screenshot(dark, 'filter-box-dark');
    await dark.goto(`${server.url}/?q=${encodeURIComponent(BAD)}`);
    await dark.getByTestId('search-error').waitFor();
    await screenshot(dark, 'filter-box-error-dark');
  } finally {
    await context.close();
  }
  assert.deepEqual(errors, []);
});
