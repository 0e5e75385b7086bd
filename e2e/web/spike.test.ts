/**
 * A one-step spike is drawn at its full height: train/loss = 25.0 at step 900 among values near
 * 0.03. The line goes through each bucket's first, min, max and last points (M4), so on the
 * experiment page (step and wall-time axes) and on compare the drawn line reaches 25, which the
 * canvas shows (line-coloured ink at the top of the plot); the hover names the bucket's min and
 * max inside the card.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
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
let page: Page;
const ids: string[] = [];
const N = 3000;
const SPIKE_STEP = 900;
const SPIKE = 25;

before(async () => {
  server = await startServer();
  const cookie = await apiSession(server.url, 'spike@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'spike' }),
  });
  const client = keyClient(server.url, ((await res.json()) as { key: string }).key);
  const t0 = Date.now() - N * 1000;
  for (const name of ['spiky', 'calm']) {
    const e = await client.createExperiment({ name, status: 'finished' });
    ids.push(e.id);
    const values = steps(N).map((s) => 0.03 + 0.002 * Math.sin(s / 7));
    if (name === 'spiky') values[SPIKE_STEP] = SPIKE;
    const r = await client.call('POST', `/experiments/${e.id}/metrics/batch`, {
      series: { 'train/loss': { steps: steps(N), values, times: steps(N).map((s) => t0 + s * 1000) } },
    });
    assert.equal(r.status, 201);
  }
  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie, { width: 900 }));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * How far down the plot area (0 = top, 1 = bottom) the highest pixel of the chart's line colour
 * is: what a user sees, read from the canvas.
 */
async function topInk(figure: string): Promise<number> {
  return page.locator(figure).evaluate((fig) => {
    const canvas = fig.querySelector('canvas')!;
    const over = fig.querySelector('.u-over')!.getBoundingClientRect();
    const box = canvas.getBoundingClientRect();
    const scale = canvas.width / box.width;
    const probe = document.createElement('div');
    probe.style.color = getComputedStyle(fig).getPropertyValue('--chart-line');
    document.body.append(probe);
    const [r, g, b] = getComputedStyle(probe).color.match(/\d+/g)!.map(Number) as [number, number, number];
    probe.remove();
    const ctx = canvas.getContext('2d')!;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const top = Math.round((over.top - box.top) * scale);
    const bottom = Math.round((over.bottom - box.top) * scale);
    for (let y = top; y < bottom; y++)
      for (let x = 0; x < canvas.width; x++) {
        const i = (y * canvas.width + x) * 4;
        if (
          Math.abs(data[i]! - r) < 30 &&
          Math.abs(data[i + 1]! - g) < 30 &&
          Math.abs(data[i + 2]! - b) < 30 &&
          data[i + 3]! > 200
        )
          return (y - top) / (bottom - top);
      }
    return 1;
  });
}

async function checkExperimentChart(x: 'step' | 'time'): Promise<void> {
  await page.waitForFunction(
    (x) => window.__toraCharts?.['train/loss']?.x === x && (window.__toraCharts['train/loss'].plotted.xs.length ?? 0) > 0,
    x,
    { polling: 50 },
  );
  const c = await page.evaluate(() => window.__toraCharts!['train/loss']!);
  // Far fewer buckets than points, and the bucket holding the spike has ordinary first/last values.
  assert.ok(c.xs.length < N / 2, `${c.xs.length} buckets`);
  const i = c.maxs.indexOf(SPIKE);
  assert.ok(c.counts[i]! > 1, 'the spike shares its bucket');
  assert.ok(c.lines[i]! < SPIKE * 0.75, `a bucket mean would draw ${c.lines[i]}`);
  // What uPlot was handed for the line reaches 25, and the y axis shows it.
  assert.equal(Math.max(...c.plotted.ys.filter((v): v is number => typeof v === 'number')), SPIKE);
  assert.ok(c.plotted.yMax! >= SPIKE, `y axis up to ${c.plotted.yMax}`);
  // On the canvas: the line's highest ink is where 25 is on the y axis (a bucket mean of 12.5
  // would leave it near the middle).
  const { yMin, yMax } = c.plotted as { yMin: number; yMax: number };
  const want = (yMax - SPIKE) / (yMax - yMin);
  const ink = await topInk('[data-testid="metric-chart"][data-metric="train/loss"]');
  assert.ok(
    Math.abs(ink - want) < 0.03,
    `line's highest pixel is ${Math.round(ink * 100)}% down the plot; 25 is at ${Math.round(want * 100)}%`,
  );
}

test('the experiment page draws the spike at 25, on the step and the wall-time axis', async () => {
  await page.goto(`${server.url}/experiments/${ids[0]}`);
  await checkExperimentChart('step');
  await screenshot(page, 'spike-experiment');
  await page.getByTestId('x-time').check();
  await checkExperimentChart('time');
  await page.getByTestId('x-step').check();
  await checkExperimentChart('step');
});

test("hovering the spike shows its bucket's min and max inside the card, at either edge", async () => {
  const fig = page.locator('[data-testid="metric-chart"][data-metric="train/loss"]');
  const over = fig.locator('.u-over');
  await fig.scrollIntoViewIfNeeded();
  const box = (await over.boundingBox())!;
  const figBox = (await fig.boundingBox())!;
  const readout = fig.getByTestId('chart-readout');
  // The spike's bucket is a pixel or two wide: step across the pixels around it.
  const x0 = box.x + (box.width * SPIKE_STEP) / (N - 1);
  for (let dx = -4; dx <= 4; dx++) {
    await page.mouse.move(x0 + dx, box.y + box.height / 2);
    if ((await readout.count()) > 0 && /max 25\b/.test(await readout.innerText())) break;
  }
  assert.match(await readout.innerText(), /min 0\.0\d+ · max 25/);
  await screenshot(page, 'spike-hover');
  for (const at of [0.01, 0.99]) {
    await page.mouse.move(box.x + box.width * at, box.y + box.height / 2);
    await readout.getByText(/max 0\.03/).waitFor();
    const r = (await readout.boundingBox())!;
    assert.ok(
      r.x >= figBox.x && r.x + r.width <= figBox.x + figBox.width,
      `readout ${r.x}–${r.x + r.width} in card ${figBox.x}–${figBox.x + figBox.width}`,
    );
  }
  await page.mouse.move(0, 0);
});

test('compare draws the spike at 25 too', async () => {
  await page.goto(`${server.url}/compare?ids=${ids.join(',')}`);
  await page.waitForFunction(() => (window.__toraCompare?.['train/loss']?.draws ?? 0) > 0, null, { polling: 50 });
  const c = await page.evaluate(() => window.__toraCompare!['train/loss']!);
  const spiky = c.experiments.find((e) => e.name === 'spiky')!;
  assert.equal(Math.max(...spiky.drawn.filter((v): v is number => v !== null)), SPIKE);
  assert.ok(spiky.xs.length < N / 2);
  const calm = c.experiments.find((e) => e.name === 'calm')!;
  assert.ok(Math.max(...calm.drawn.filter((v): v is number => v !== null)) < 0.1);
  await screenshot(page, 'spike-compare');
});

test('chart settings are kept in the URL and remembered by this browser', async () => {
  await page.goto(`${server.url}/experiments/${ids[0]}`);
  await page.getByTestId('log-y').check();
  await page.getByTestId('x-time').check();
  await page.waitForFunction(
    () => new URL(location.href).searchParams.get('logy') === '1' && new URL(location.href).searchParams.get('x') === 'time',
  );
  await page.waitForFunction(
    () => window.__toraCharts?.['train/loss']?.logY === true && window.__toraCharts['train/loss'].x === 'time',
  );
  // Another run's page, no parameters: this browser's last settings.
  await page.goto(`${server.url}/experiments/${ids[1]}`);
  assert.equal(await page.getByTestId('log-y').isChecked(), true);
  assert.equal(await page.getByTestId('x-time').isChecked(), true);
  await page.waitForFunction(() => new URL(location.href).searchParams.get('logy') === '1');
  // A link's settings win over the remembered ones.
  await page.goto(`${server.url}/experiments/${ids[1]}?x=step&logy=0`);
  assert.equal(await page.getByTestId('log-y').isChecked(), false);
  assert.equal(await page.getByTestId('x-step').isChecked(), true);
  // Compare keeps its own, in its URL beside the ids.
  await page.goto(`${server.url}/compare?ids=${ids.join(',')}&smooth=0.5`);
  await page.waitForFunction(() => (window.__toraCompare?.['train/loss']?.draws ?? 0) > 0, null, { polling: 50 });
  assert.equal(await page.getByTestId('compare-smoothing').inputValue(), '0.5');
  const reads: string[] = [];
  const count = (r: { url: () => string }) => {
    if (r.url().includes('/api/experiments/compare')) reads.push(r.url());
  };
  page.on('request', count);
  await page.getByTestId('compare-log-y').check();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('logy') === '1');
  assert.equal(new URL(page.url()).searchParams.get('ids'), ids.join(','));
  await page.waitForTimeout(500);
  page.off('request', count);
  // Rewriting the URL is not a new comparison: no compare read followed.
  assert.deepEqual(reads, []);
  await page.getByTestId('compare-log-y').uncheck();
  await page.getByTestId('compare-smoothing').fill('0');
});
