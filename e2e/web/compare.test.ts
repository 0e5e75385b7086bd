/**
 * Comparison, references and analysis in a real browser: three runs selected on the dashboard →
 * overlaid charts (plotted data read from window.__toraCompare) and a differences-only table; a
 * reference → Δ columns and a dashed overlay; the analysis of a run that diverges at step 3000 →
 * clicking the finding zooms the chart there; the wall-time x axis.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  apiSession,
  keyClient,
  launchBrowser,
  newPage,
  signedInPage,
  screenshot,
  startServer,
  steps,
  type TestServer,
} from './harness.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const ids: Record<string, string> = {};
const N = 2000;
const DIVERGE_AT = 3000;
const loss = (scale: number) => steps(N).map((s) => scale * (2 / (1 + s / 200)) + 0.01 * Math.sin(s / 5));
const acc = (ceil: number) => steps(N).map((s) => ceil * (1 - Math.exp(-s / 400)));
const data = {
  'cmp-alpha': { loss: loss(1), accuracy: acc(0.9), hp: { lr: 0.001, batch_size: 64, optimizer: 'adamw' } },
  'cmp-beta': { loss: loss(0.8), accuracy: acc(0.93), hp: { lr: 0.01, batch_size: 64, optimizer: 'adamw' } },
  'cmp-gamma': { loss: loss(1.3), accuracy: acc(0.85), hp: { lr: 0.1, batch_size: 64, optimizer: 'sgd' } },
};

before(async () => {
  server = await startServer();
  const cookie = await apiSession(server.url, 'compare@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'compare' }),
  });
  const { key } = (await res.json()) as { key: string };
  const client = keyClient(server.url, key);

  // A run that learns, then diverges: loss explodes to 1e6 from step 3000, NaN from 3500.
  const div = await client.createExperiment({
    name: 'diverging-run',
    hyperparams: { lr: 0.5, batch_size: 64, optimizer: 'sgd' },
  });
  ids['diverging-run'] = div.id;
  const dSteps = steps(5000);
  const t0 = Date.now() - 5000 * 1000;
  const dLoss: (number | string)[] = dSteps.map((s) =>
    s < DIVERGE_AT ? 2 / (1 + s / 300) : s < 3500 ? Math.min(1e6, 0.5 * 10 ** ((s - DIVERGE_AT) / 60)) : 'NaN',
  );
  // One point per second of wall time, so the time axis has a known span.
  const r = await client.call('POST', `/experiments/${div.id}/metrics/batch`, {
    series: { loss: { steps: dSteps, values: dLoss, times: dSteps.map((s) => t0 + s * 1000) } },
  });
  assert.equal(r.status, 201, await r.text());

  for (const [name, d] of Object.entries(data)) {
    const e = await client.createExperiment({ name, hyperparams: d.hp });
    ids[name] = e.id;
    await client.logSeries(e.id, {
      loss: { steps: steps(N), values: d.loss },
      accuracy: { steps: steps(N), values: d.accuracy },
    });
  }

  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie, { width: 1280, height: 900 }));
  page.on('pageerror', (e) => console.error('pageerror:', e.message));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('three runs selected on the dashboard compare as overlaid charts and a differences-only table', async () => {
  await page.goto(server.url);
  await page.getByTestId('experiment-row').first().waitFor();
  for (const name of Object.keys(data)) await page.getByLabel(`Select ${name}`).check();
  await page.getByTestId('compare-link').click();
  await page.waitForFunction(
    () => ['loss', 'accuracy'].every((m) => (window.__toraCompare?.[m]?.experiments.length ?? 0) === 3),
    null,
    { polling: 50 },
  );
  for (const metric of ['loss', 'accuracy'] as const) {
    const c = await page.evaluate((m) => window.__toraCompare![m]!, metric);
    assert.deepEqual(new Set(c.experiments.map((e) => e.name)), new Set(Object.keys(data)));
    for (const e of c.experiments) {
      const truth = data[e.name as keyof typeof data][metric];
      assert.equal(
        e.counts.reduce((a, b) => a + b, 0),
        N,
        `${e.name} ${metric}: all points bucketed`,
      );
      const maxs = e.maxs.filter((v): v is number => v !== null);
      const mins = e.mins.filter((v): v is number => v !== null);
      assert.ok(Math.abs(Math.max(...maxs) - Math.max(...truth)) < 1e-9, `${e.name} ${metric} max`);
      assert.ok(Math.abs(Math.min(...mins) - Math.min(...truth)) < 1e-9, `${e.name} ${metric} min`);
      assert.ok(e.xs.length > 50 && e.xs.length <= c.budget, `${e.xs.length} buckets at budget ${c.budget}`);
    }
    // Distinct colours per experiment.
    assert.equal(new Set(c.experiments.map((e) => e.color)).size, 3);
  }
  // Differences only (the default): lr and optimizer differ, batch_size does not.
  const keys = async () => page.getByTestId('hp-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
  assert.deepEqual(await keys(), ['lr', 'optimizer']);
  await page.getByTestId('differences-only').uncheck();
  assert.deepEqual(await keys(), ['batch_size', 'lr', 'optimizer']);
  await page.getByTestId('differences-only').check();
  // The legend hides and shows an experiment on every chart.
  await page.getByTestId('legend-item').filter({ hasText: 'cmp-gamma' }).click();
  await page.waitForFunction(() => window.__toraCompare?.loss?.experiments.find((e) => e.name === 'cmp-gamma')?.shown === false);
  await page.getByTestId('legend-item').filter({ hasText: 'cmp-gamma' }).click();
  await page.waitForFunction(() => window.__toraCompare?.loss?.experiments.every((e) => e.shown));
  // Parallel coordinates: one line per experiment.
  assert.equal(await page.getByTestId('parallel-coordinates').locator('path').count(), 3);
});

test('making an experiment the reference of the comparison shows Δ and %Δ', async () => {
  const alphaRow = page.locator(`[data-testid="summary-row"][data-id="${ids['cmp-alpha']}"]`);
  await alphaRow.getByTestId('make-reference').click();
  await alphaRow.getByTestId('clear-reference').waitFor();
  await page.getByTestId('summary-metric').selectOption('loss');
  const betaRow = page.locator(`[data-testid="summary-row"][data-id="${ids['cmp-beta']}"]`);
  await betaRow.getByTestId('delta-last').filter({ hasText: /\d/ }).waitFor();
  const expected = data['cmp-beta'].loss.at(-1)! - data['cmp-alpha'].loss.at(-1)!;
  const shown = (await betaRow.getByTestId('delta-last').innerText()).replace('−', '-');
  assert.ok(Math.abs(Number(shown) - expected) < Math.abs(expected) * 1e-3, `Δ last ${shown} vs ${expected}`);
  // Lower loss than the reference reads as better.
  assert.match((await betaRow.getByTestId('delta-best').getAttribute('class')) ?? '', /better/);
  await screenshot(page, 'compare');
  // Zoom re-queries the compare endpoint for that metric and range.
  const before = await page.evaluate(() => window.__toraCompare!.loss!.requests);
  const over = page.locator('[data-testid="compare-chart"][data-metric="loss"] .u-over');
  await over.scrollIntoViewIfNeeded();
  const box = (await over.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(
    (n) => window.__toraCompare?.loss?.zoomed === true && window.__toraCompare.loss.requests > n,
    before,
  );
  const z = await page.evaluate(() => window.__toraCompare!.loss!);
  assert.ok(z.from > 200 && z.to < 1000, `zoomed to ${z.from}–${z.to}`);
  assert.equal(z.experiments.length, 3);
  for (const e of z.experiments) assert.ok(e.xs.every((x) => x >= z.from && x <= z.to));
});

test('the compare page follows a dark system theme', async () => {
  const { context, page: dark } = await newPage(browser, { colorScheme: 'dark', width: 1280, height: 900 });
  try {
    await context.addCookies(await page.context().cookies());
    await dark.goto(
      `${server.url}/compare?ids=${Object.keys(data)
        .map((n) => ids[n])
        .join(',')}`,
    );
    await dark.waitForFunction(() =>
      ['loss', 'accuracy'].every((m) => (window.__toraCompare?.[m]?.experiments.length ?? 0) === 3),
    );
    // The page and the charts' cards are dark: luminance of their backgrounds well below mid-grey.
    const luminance = await dark.evaluate(() =>
      [document.body, document.querySelector('[data-testid="compare-chart"]')!].map((el) => {
        const [r, g, b, alpha = 1] = getComputedStyle(el)
          .backgroundColor.match(/[\d.]+/g)!
          .map(Number) as number[];
        // A transparent background would read as black: count it as white so the test fails.
        return alpha === 0 ? 1 : (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255;
      }),
    );
    for (const l of luminance) assert.ok(l < 0.25, `background luminance ${l.toFixed(2)}`);
    await screenshot(dark, 'compare-dark');
  } finally {
    await context.close();
  }
});

test('setting a reference on the experiment page shows the chain, Δ and the dashed overlay', async () => {
  await page.goto(`${server.url}/experiments/${ids['cmp-beta']}`);
  await page.getByTestId('reference-pick').click();
  await page.getByTestId('reference-search').fill('cmp-al');
  await page
    .getByTestId('reference-results')
    .getByRole('button', { name: /cmp-alpha/ })
    .click();
  await page.getByTestId('reference-chain').getByRole('link', { name: 'cmp-alpha' }).waitFor();
  await page.waitForFunction(
    (ref) => window.__toraCharts?.loss?.referenceId === ref && (window.__toraCharts?.loss?.refXs.length ?? 0) > 0,
    ids['cmp-alpha'],
  );
  const c = await page.evaluate(() => window.__toraCharts!.loss!);
  assert.equal(c.refDashed, true);
  const refMax = Math.max(...c.refLines.filter((v): v is number => v !== null));
  assert.ok(refMax > 1.5 && refMax <= Math.max(...data['cmp-alpha'].loss), `reference line max ${refMax}`);
  await page.locator('[data-testid="delta-row"][data-metric="loss"]').waitFor();
  assert.match(
    await page.locator('[data-testid="delta-row"][data-metric="accuracy"] [data-testid="delta-last"]').innerText(),
    /^\+\d/,
  );
  // A chain: gamma → beta → alpha reads oldest first.
  await page.goto(`${server.url}/experiments/${ids['cmp-gamma']}`);
  await page.getByTestId('reference-pick').click();
  await page.getByTestId('reference-search').fill('cmp-be');
  await page
    .getByTestId('reference-results')
    .getByRole('button', { name: /cmp-beta/ })
    .click();
  await page.getByTestId('reference-chain').getByRole('link', { name: 'cmp-beta' }).waitFor();
  assert.deepEqual(await page.getByTestId('reference-chain').getByRole('link').allInnerTexts(), ['cmp-alpha', 'cmp-beta']);
  // The dashboard's Δ vs reference column.
  await page.goto(server.url);
  await page.getByText('Columns').click();
  await page.getByTestId('delta-column').selectOption('loss');
  const cell = page.locator('[data-testid="experiment-row"]', { hasText: 'cmp-beta' }).getByTestId('delta-cell');
  await cell.filter({ hasText: /\d/ }).waitFor();
  assert.match(await cell.innerText(), /^−/);
  await page.getByTestId('delta-column').selectOption('');
});

test('the analysis of a diverging run finds it, and clicking the finding zooms to its steps', async () => {
  await page.goto(`${server.url}/experiments/${ids['diverging-run']}`);
  await page.waitForFunction(() => (window.__toraCharts?.loss?.xs.length ?? 0) > 0);
  await page.getByTestId('analyze').click();
  await page.getByTestId('analysis-summary').waitFor();
  assert.match(await page.getByTestId('analysis-provider').innerText(), /built-in/);
  const finding = page
    .locator('[data-testid="finding"][data-metric="loss"]')
    .filter({ hasText: /divergence|NaN/ })
    .first();
  await finding.waitFor();
  const text = await finding.innerText();
  const m = /steps? (\d+)(?:–(\d+))?/.exec(text);
  assert.ok(m, `finding names its steps: ${text}`);
  const from = Number(m[1]);
  const to = Number(m[2] ?? m[1]);
  assert.ok(from >= DIVERGE_AT - 200 && from <= 3600, `finding starts at ${from}`);
  await screenshot(page, 'analysis-panel');
  await page.getByTestId('analysis-panel').screenshot({ path: 'test-output/screenshots/analysis-panel-detail.png' });
  await finding.click();
  await page.waitForFunction(() => window.__toraCharts?.loss?.zoomed === true);
  const z = await page.evaluate(() => window.__toraCharts!.loss!);
  assert.ok(z.from <= from && z.to >= to, `zoom ${z.from}–${z.to} covers the finding ${from}–${to}`);
  assert.ok(z.to - z.from <= Math.max(to - from, 10) * 1.1 + 20, `zoom ${z.from}–${z.to} is the finding's range`);
  await screenshot(page, 'analysis-zoomed');
});

test('the wall-time x axis plots epoch milliseconds', async () => {
  await page.getByRole('button', { name: 'Reset zoom' }).click();
  await page.getByTestId('x-time').check();
  await page.waitForFunction(() => window.__toraCharts?.loss?.x === 'time' && window.__toraCharts.loss.xs.length > 0);
  const c = await page.evaluate(() => window.__toraCharts!.loss!);
  const now = Date.now();
  assert.ok(c.from >= now - 5000 * 1000 - 60_000 && c.to <= now, `time range ${c.from}–${c.to}`);
  assert.ok(c.to - c.from >= 4990 * 1000 && c.to - c.from <= 5000 * 1000, `span ${c.to - c.from} ms`);
  assert.equal(
    c.counts.reduce((a, b) => a + b, 0),
    5000,
  );
  await page.getByTestId('x-step').check();
  await page.waitForFunction(() => window.__toraCharts?.loss?.x === 'step');
  assert.equal((await page.evaluate(() => window.__toraCharts!.loss!)).to, 4999);
});

test('the dashboard counts matches from total, offers columns from /columns and sorts by a hyperparameter', async () => {
  await page.goto(server.url);
  await page.getByTestId('experiment-row').first().waitFor();
  assert.match(await page.getByTestId('row-count').innerText(), /^4 experiments/);
  await page.getByText('Columns').click();
  // lr comes from the workspace's columns endpoint, listed with every metric.
  await page.getByRole('checkbox', { name: 'lr', exact: true }).check();
  await page.getByText('Columns').click();
  await page.getByRole('button', { name: 'lr', exact: true }).click();
  const names = async () =>
    page.getByTestId('experiment-row').evaluateAll((rows) => rows.map((r) => r.querySelector('.name a')?.textContent?.trim()));
  await page.waitForFunction(() => document.querySelector('[data-testid="experiment-row"] .name a')?.textContent === 'cmp-alpha');
  assert.deepEqual(await names(), ['cmp-alpha', 'cmp-beta', 'cmp-gamma', 'diverging-run']);
  await page.getByRole('button', { name: /^lr/ }).click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="experiment-row"] .name a')?.textContent === 'diverging-run',
  );
  assert.deepEqual(await names(), ['diverging-run', 'cmp-gamma', 'cmp-beta', 'cmp-alpha']);
  await screenshot(page, 'dashboard-hp-sort');
});

test('a metric direction set in the workspace flips best and Δ on the compare page and the dashboard', async () => {
  const compareUrl = `${server.url}/compare?ids=${['cmp-alpha', 'cmp-beta', 'cmp-gamma'].map((n) => ids[n]).join(',')}`;
  const betaRow = page.locator(`[data-testid="summary-row"][data-id="${ids['cmp-beta']}"]`);
  const openCompare = async () => {
    await page.goto(compareUrl);
    const alphaRow = page.locator(`[data-testid="summary-row"][data-id="${ids['cmp-alpha']}"]`);
    await alphaRow.getByTestId('make-reference').click();
    await alphaRow.getByTestId('clear-reference').waitFor();
    await page.getByTestId('summary-metric').selectOption('loss');
    await betaRow.getByTestId('delta-best').filter({ hasText: /\d/ }).waitFor();
  };
  // Inferred from the name: lower loss is better, so beta's best (its minimum) beats alpha's.
  await openCompare();
  assert.match((await betaRow.getByTestId('delta-best').getAttribute('class')) ?? '', /better/);
  assert.match(await page.getByTestId('best-header').innerText(), /\(min\)/);

  // An editor says loss is higher-is-better for this workspace.
  await page.goto(`${server.url}/settings/workspaces`);
  const row = page.locator('[data-testid="direction-row"][data-metric="loss"]');
  assert.equal(await row.getByTestId('direction-effective').innerText(), 'lower is better');
  assert.equal(await row.getByTestId('direction-select').inputValue(), 'auto');
  await row.getByTestId('direction-select').selectOption('max');
  await row.getByTestId('direction-effective').filter({ hasText: 'higher is better' }).waitFor();
  // The setting is the server's, not the page's.
  await page.reload();
  await row.getByTestId('direction-effective').filter({ hasText: 'higher is better' }).waitFor();
  assert.equal(await row.getByTestId('direction-select').inputValue(), 'max');

  // Now best is the maximum, and beta's lower loss reads as worse.
  await openCompare();
  assert.match(await page.getByTestId('best-header').innerText(), /\(max\)/);
  assert.match((await betaRow.getByTestId('delta-best').getAttribute('class')) ?? '', /worse/);
  assert.match((await betaRow.getByTestId('delta-last').getAttribute('class')) ?? '', /worse/);
  const bestCell = betaRow.getByTestId('best');
  const best = Number((await bestCell.innerText()).replace('−', '-'));
  const max = Math.max(...data['cmp-beta'].loss);
  assert.ok(Math.abs(best - max) <= Math.abs(max) * 1e-3, `best ${best} is the maximum ${max}`);
  await screenshot(page, 'compare-direction-override');

  // The dashboard's Δ column follows the same setting (beta's reference is alpha).
  await page.goto(server.url);
  await page.getByText('Columns').click();
  await page.getByTestId('delta-column').selectOption('loss');
  const cell = page.locator('[data-testid="experiment-row"]', { hasText: 'cmp-beta' }).getByTestId('delta-cell');
  await cell.filter({ hasText: /\d/ }).waitFor();
  await page.waitForFunction(
    () =>
      Array.from(document.querySelectorAll('[data-testid="experiment-row"]'))
        .find((r) => r.textContent?.includes('cmp-beta'))
        ?.querySelector('[data-testid="delta-cell"]')
        ?.classList.contains('worse') === true,
  );
  await page.getByTestId('delta-column').selectOption('');

  // Back to automatic: the name rule applies again.
  await page.goto(`${server.url}/settings/workspaces`);
  await row.getByTestId('direction-select').selectOption('auto');
  await row.getByTestId('direction-effective').filter({ hasText: 'lower is better' }).waitFor();
  await openCompare();
  assert.match((await betaRow.getByTestId('delta-best').getAttribute('class')) ?? '', /better/);
});

test("the compare page's wall-time axis is one compare read over one shared time range", async () => {
  const compared = ['diverging-run', 'cmp-alpha'].map((n) => ids[n]!);
  const requests: string[] = [];
  const onRequest = (r: { url: () => string }) => {
    if (r.url().includes('/api/')) requests.push(r.url());
  };
  page.on('request', onRequest);
  try {
    await page.goto(`${server.url}/compare?ids=${compared.join(',')}`);
    await page.waitForFunction(() => (window.__toraCompare?.loss?.experiments.length ?? 0) === 2);
    requests.length = 0;
    await page.getByTestId('x-time').check();
    await page.waitForFunction(
      () => window.__toraCompare?.loss?.x === 'time' && window.__toraCompare.loss.experiments.length === 2,
    );
    const c = await page.evaluate(() => window.__toraCompare!.loss!);
    // diverging-run logged one point a second over 5,000 s ending before the others were logged.
    const now = Date.now();
    assert.ok(c.from >= now - 5000 * 1000 - 600_000 && c.to <= now, `time range ${c.from}–${c.to}`);
    assert.ok(c.to - c.from >= 4999 * 1000, `span ${c.to - c.from} ms covers diverging-run's 5,000 s`);
    const byName = new Map(c.experiments.map((e) => [e.name, e]));
    const total = (name: string) => byName.get(name)!.counts.reduce((a, b) => a + b, 0);
    assert.equal(total('diverging-run'), 5000);
    assert.equal(total('cmp-alpha'), N);
    for (const e of c.experiments) {
      assert.ok(
        e.xs.every((x) => x >= c.from && x <= c.to),
        `${e.name}: every bucket inside the shared range`,
      );
      assert.ok(e.xs.length <= c.budget, `${e.name}: ${e.xs.length} buckets at budget ${c.budget}`);
    }
    // The spike to 1e6 after step 3000 is on the time axis too.
    assert.equal(Math.max(...byName.get('diverging-run')!.maxs.filter((v): v is number => v !== null)), 1e6);
    // One compare read by time fed every chart; no per-experiment series reads.
    const timeReads = requests.filter((u) => u.includes('/experiments/compare') && u.includes('x=time'));
    assert.equal(timeReads.length, 1, requests.join('\n'));
    assert.ok(!requests.some((u) => u.includes('/metrics/series')), requests.join('\n'));
    assert.ok(!new URL(timeReads[0]!).searchParams.has('from'));

    // Zooming on the time axis re-reads that metric and wall-time range through the compare endpoint.
    const over = page.locator('[data-testid="compare-chart"][data-metric="loss"] .u-over');
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => window.__toraCompare?.loss?.zoomed === true && window.__toraCompare.loss.x === 'time');
    await page.waitForFunction((n) => window.__toraCompare!.loss!.requests > n, c.requests);
    const z = await page.evaluate(() => window.__toraCompare!.loss!);
    assert.ok(z.from > c.from && z.to < c.to, `zoomed to ${z.from}–${z.to} inside ${c.from}–${c.to}`);
    const zoomRead = requests.filter((u) => u.includes('/experiments/compare') && u.includes('from=')).at(-1)!;
    const q = new URL(zoomRead).searchParams;
    assert.equal(q.get('x'), 'time');
    assert.equal(q.get('metrics'), 'loss');
    assert.ok(Number(q.get('from')) > 1e12, `from ${q.get('from')} is epoch ms`);
    for (const e of z.experiments) assert.ok(e.xs.every((x) => x >= z.from && x <= z.to));
    await screenshot(page, 'compare-time-axis');

    // Back to steps: the page's step read, unzoomed.
    await page.getByTestId('x-step').check();
    await page.waitForFunction(() => window.__toraCompare?.loss?.x === 'step' && !window.__toraCompare.loss.zoomed);
    assert.equal((await page.evaluate(() => window.__toraCompare!.loss!)).to, 4999);
  } finally {
    page.off('request', onRequest);
  }
});

test('while a compared run is running, the compare page appends only its new steps', async () => {
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: {
      cookie: await apiSession(server.url, 'compare@example.com', 'correct horse battery', 'login'),
      origin: server.url,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ name: 'live' }),
  });
  const client = keyClient(server.url, ((await res.json()) as { key: string }).key);
  const running = await client.createExperiment({ name: 'live-run', status: 'running' });
  const peer = await client.createExperiment({ name: 'live-peer', status: 'finished' });
  await client.logSeries(running.id, { live_loss: { steps: steps(1000), values: steps(1000).map((s) => 1 / (1 + s)) } });
  await client.logSeries(peer.id, { live_loss: { steps: steps(1000), values: steps(1000).map((s) => 2 / (1 + s)) } });

  const requests: string[] = [];
  const onRequest = (r: { url: () => string }) => {
    if (r.url().includes('/api/experiments/compare')) requests.push(r.url());
  };
  page.on('request', onRequest);
  try {
    await page.goto(`${server.url}/compare?ids=${running.id},${peer.id}`);
    await page.waitForFunction(() => (window.__toraCompare?.live_loss?.experiments.length ?? 0) === 2);
    const before = await page.evaluate(() => window.__toraCompare!.live_loss!);
    assert.equal(before.to, 999);
    requests.length = 0;
    // The run logs 1,000 more steps, with a spike the chart must show.
    const more = steps(1000, 1000).map((s) => (s === 1500 ? 50 : 1 / (1 + s)));
    const loggedAt = Date.now();
    await client.logSeries(running.id, { live_loss: { steps: steps(1000, 1000), values: more } });
    // Written out in the page function: the app's CSP (no 'unsafe-eval') refuses `new Function`.
    await page.waitForFunction(
      (name) =>
        (window.__toraCompare?.live_loss?.experiments.find((e) => e.name === name)?.counts.reduce((a, b) => a + b, 0) ?? 0) ===
        2000,
      'live-run',
      { timeout: 5000, polling: 50 },
    );
    assert.ok(Date.now() - loggedAt < 3000 + 500, `appeared after ${Date.now() - loggedAt} ms`);
    const after = await page.evaluate(() => window.__toraCompare!.live_loss!);
    const live = after.experiments.find((e) => e.name === 'live-run')!;
    assert.equal(Math.max(...live.maxs.filter((v): v is number => v !== null)), 50, 'the spike at step 1500 is drawn');
    assert.equal(
      after.experiments.find((e) => e.name === 'live-peer')!.counts.reduce((a, b) => a + b, 0),
      1000,
    );
    assert.ok(live.xs.at(-1)! > 1900, `line reaches step ${live.xs.at(-1)}`);
    // Only the new range was read: summary polls (budget=1) and appends from step 1000 on.
    const chartReads = requests.filter((u) => new URL(u).searchParams.get('budget') !== '1');
    assert.ok(chartReads.length >= 1, requests.join('\n'));
    for (const u of chartReads) {
      const q = new URL(u).searchParams;
      assert.equal(q.get('metrics'), 'live_loss', u);
      assert.ok(Number(q.get('from')) >= 1000, `read from ${q.get('from')}: only new steps`);
    }
    // The summary table follows too: live-run's last value is the newest point's.
    const row = page.locator(`[data-testid="summary-row"][data-id="${running.id}"]`);
    await page.getByTestId('summary-metric').selectOption('live_loss');
    await row
      .locator('td')
      .nth(2)
      .filter({ hasText: '5.000e-4' }) // 1 / (1 + 1999), as the table formats it
      .waitFor({ timeout: 3000 });
  } finally {
    page.off('request', onRequest);
  }
});
