/**
 * Groups of runs in a real browser: a sweep's group page (its band per shared metric with the
 * group's n and mean, its runs, the hyperparameters that differ and, folded, those that do not),
 * groups picked on the grouped dashboard banded on compare, banding by `group` and by an MLflow tag,
 * runs drawn faint behind the bands and a group as the reference (Δ against its mean).
 * Screenshots in light, dark and phone width.
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
const ids = new Map<string, string>();
// Each run's loss is flat at its level, so a band's mean and spread are the levels'.
const RUNS = [
  { name: 'a-lr0.1-s1', group: 'sweep', lr: 0.1, seed: 1, arch: 'a', level: 1 },
  { name: 'a-lr0.1-s2', group: 'sweep', lr: 0.1, seed: 2, arch: 'a', level: 1.2 },
  { name: 'a-lr0.01-s1', group: 'sweep', lr: 0.01, seed: 1, arch: 'a', level: 0.5 },
  { name: 'a-lr0.01-s2', group: 'sweep', lr: 0.01, seed: 2, arch: 'a', level: 0.7 },
  { name: 'b-lr0.5-s1', group: 'other', lr: 0.5, seed: 1, arch: 'b', level: 2 },
  { name: 'b-lr0.5-s2', group: 'other', lr: 0.5, seed: 2, arch: 'b', level: 2.4 },
];
const N = 300;
const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const close = (a: number | null | undefined, b: number) => a !== null && a !== undefined && Math.abs(a - b) < 1e-9;

before(async () => {
  server = await startServer({ TORA_ALLOW_SIGNUP: 'true' });
  cookie = await apiSession(server.url, 'group-page@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'group-page' }),
  });
  const key = ((await res.json()) as { key: string }).key;
  const client = keyClient(server.url, key);
  for (const r of RUNS) {
    const e = await client.createExperiment({
      name: r.name,
      group: r.group,
      status: 'finished',
      hyperparams: { lr: r.lr, seed: r.seed, model: 'mlp' },
    });
    await client.logSeries(e.id, {
      loss: { steps: steps(N), values: steps(N).map(() => r.level) },
      epoch: { steps: steps(N), values: steps(N).map((s) => s / 100) },
    });
    const tag = await fetch(`${server.url}/api/2.0/mlflow/runs/set-tag`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: e.id, key: 'arch', value: r.arch }),
    });
    assert.equal(tag.status, 200);
    ids.set(r.name, e.id);
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the group page from the dashboard: the sweep's band, its runs, what differs inside it", async () => {
  const { context, page } = await signedInPage(browser, server.url, cookie);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/?by=group`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="group-row"]').length === 2);
  await page.locator('[data-testid="group-row"][data-value="sweep"] [data-testid="group-page-link"]').click();
  await page.waitForURL(/\/groups\/sweep\?ws=/);
  await page.waitForFunction(() => window.__toraBands?.loss?.groups.length === 1);
  const levels = RUNS.filter((r) => r.group === 'sweep').map((r) => r.level);
  const g = (await page.evaluate(() => window.__toraBands!.loss!)).groups[0]!;
  assert.equal(g.n, 4);
  assert.ok(g.lines.length > 0);
  for (let i = 0; i < g.lines.length; i++) {
    assert.ok(close(g.lines[i], mean(levels)), `mean ${g.lines[i]}`);
    assert.ok(close(g.mins[i], mean(levels) - std(levels)), `mean − std ${g.mins[i]}`);
  }
  // epoch is an axis of the page, not a band of its own.
  assert.equal(await page.locator('[data-testid="band-chart"][data-metric="epoch"]').count(), 0);
  assert.equal(await page.locator('[data-testid="x-metric"][data-metric="epoch"]').count(), 1);
  assert.deepEqual(
    (await page.getByTestId('group-run').locator('a').allTextContents()).sort(),
    RUNS.filter((r) => r.group === 'sweep')
      .map((r) => r.name)
      .sort(),
  );
  const differ = await page.getByTestId('hp-differ-row').evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.key));
  assert.deepEqual(differ, ['lr', 'seed']);
  // The shared hyperparameters are folded away until asked for.
  assert.equal(await page.getByTestId('hp-equal-row').first().isVisible(), false);
  await page.getByTestId('hp-equal').locator('summary').click();
  assert.equal(await page.locator('[data-testid="hp-equal-row"][data-key="model"]').isVisible(), true);
  const chart = '[data-testid="band-chart"][data-metric="loss"]';
  const color = await page
    .getByTestId('band-legend')
    .locator('.swatch')
    .evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.ok((await inkPixels(page, chart, color)) > 100, 'the mean line is drawn');
  await screenshot(page, 'group-page-light');

  // Runs faint behind the band: one line per run, read at the band's budget.
  await page.getByTestId('band-runs').check();
  await page.waitForFunction(() => window.__toraBands?.loss?.groups[0]?.runs === 4);
  await screenshot(page, 'group-page-runs-light');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a group page by a hyperparameter, in dark and at phone width', async () => {
  for (const opts of [
    { name: 'dark', colorScheme: 'dark' as const },
    { name: 'phone', colorScheme: 'light' as const, width: 390, height: 844 },
  ]) {
    const { context, page } = await signedInPage(browser, server.url, cookie, opts);
    await page.goto(`${server.url}/groups/0.1?by=params.lr`);
    await page.waitForFunction(() => window.__toraBands?.loss?.groups[0]?.n === 2);
    assert.deepEqual(await page.getByTestId('hp-differ-row').evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.key)), [
      'seed',
    ]);
    await screenshot(page, `group-page-${opts.name}`);
    await context.close();
  }
});

test('groups ticked on the grouped dashboard open compare banded one band per group', async () => {
  const { context, page } = await signedInPage(browser, server.url, cookie);
  await page.goto(`${server.url}/?by=params.lr`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="group-row"]').length === 3);
  for (const v of ['0.1', '0.01'])
    await page.locator(`[data-testid="group-row"][data-value="${v}"] [data-testid="group-pick"]`).check();
  await page.getByTestId('compare-groups').click();
  await page.waitForURL(/\/compare\?/);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('band'), 'params.lr');
  assert.deepEqual(
    url.searchParams.get('ids')!.split(',').sort(),
    RUNS.filter((r) => r.lr !== 0.5)
      .map((r) => ids.get(r.name)!)
      .sort(),
  );
  await page.waitForFunction(() => window.__toraBands?.loss?.groups.length === 2);
  const probe = await page.evaluate(() => window.__toraBands!.loss!);
  for (const lr of [0.1, 0.01]) {
    const g = probe.groups.find((x) => x.label === `lr=${lr}`)!;
    assert.equal(g.n, 2);
    assert.ok(close(g.lines[0], mean(RUNS.filter((r) => r.lr === lr).map((r) => r.level))));
  }

  // Grouped by an MLflow tag (from a link): the same, one band per tag value.
  await page.goto(`${server.url}/?by=tags.arch`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="group-row"]').length === 2);
  assert.equal(await page.getByTestId('group-by').inputValue(), 'tags.arch');
  for (const v of ['a', 'b'])
    await page.locator(`[data-testid="group-row"][data-value="${v}"] [data-testid="group-pick"]`).check();
  await page.getByTestId('compare-groups').click();
  await page.waitForURL(/band=tags\.arch/);
  await page.waitForFunction(() => window.__toraBands?.loss?.groups.length === 2);
  const byTag = await page.evaluate(() => window.__toraBands!.loss!.groups.map((g) => [g.label, g.n]));
  assert.deepEqual(byTag.sort(), [
    ['tag arch=a', 4],
    ['tag arch=b', 2],
  ]);
  await context.close();
});

test('compare bands by group and by an MLflow tag, runs faint behind, a group as the reference', async () => {
  const { context, page } = await signedInPage(browser, server.url, cookie);
  await page.goto(`${server.url}/compare?ids=${[...ids.values()].join(',')}&band=tags.arch`);
  await page.waitForFunction(() => window.__toraBands?.loss?.groups.length === 2);
  let probe = await page.evaluate(() => window.__toraBands!.loss!);
  assert.deepEqual(probe.groups.map((g) => [g.label, g.n]).sort(), [
    ['tag arch=a', 4],
    ['tag arch=b', 2],
  ]);

  await page.getByTestId('band-by').selectOption('group');
  await page.waitForFunction(() => window.__toraBands?.loss?.groups.some((g) => g.label === 'group=other'));
  probe = await page.evaluate(() => window.__toraBands!.loss!);
  assert.ok(close(probe.groups.find((g) => g.label === 'group=other')!.lines[0], 2.2));
  assert.match(page.url(), /[?&]band=group/);

  await page.getByTestId('band-runs').check();
  await page.waitForFunction(() => window.__toraBands?.loss?.groups.every((g) => g.runs === g.n));
  assert.match(page.url(), /[?&]runs=1/);

  // The sweep as the reference: its mean line dashed, the other group's Δ against its mean.
  await page.getByTestId('band-reference').selectOption({ label: 'group=sweep' });
  await page.waitForFunction(() => window.__toraBands?.loss?.referenceId === 'sweep');
  assert.match(page.url(), /[?&]refgroup=sweep/);
  await page.getByTestId('summary-metric').selectOption('loss');
  const row = page.locator('[data-testid="group-delta-row"][data-group="other"]');
  // Best loss (min) per run: other's mean 2.2 against the sweep's 0.85 → +1.35, +158.8%.
  assert.equal((await row.getByTestId('group-delta').textContent())?.trim(), '+1.35');
  assert.match((await row.textContent()) ?? '', /\+159%/);
  const sweepRow = page.locator('[data-testid="group-delta-row"][data-group="sweep"]');
  assert.equal((await sweepRow.getByTestId('group-mean').textContent())?.trim(), '0.85');
  await page.getByTestId('band-section').scrollIntoViewIfNeeded();
  await screenshot(page, 'bands-reference-group-light');
  await context.close();
});

test("another user's group page shows none of its runs", async () => {
  const ws = (await (await fetch(`${server.url}/api/workspaces`, { headers: { cookie } })).json()) as {
    workspaces: { id: string }[];
  };
  const mallory = await apiSession(server.url, 'mallory@example.com', 'correct horse battery');
  const { context, page } = await signedInPage(browser, server.url, mallory);
  await page.goto(`${server.url}/groups/sweep?ws=${ws.workspaces[0]!.id}`);
  await page.getByText('No runs in this group.').waitFor();
  assert.equal(await page.getByTestId('group-run').count(), 0);
  assert.equal(await page.getByTestId('band-chart').count(), 0);
  await context.close();
});
