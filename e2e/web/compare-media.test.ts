/**
 * The compare page's image grid in a real browser: one image key across runs at one shared step,
 * each run showing its latest image at or before the slider's step (a gap before its first),
 * Tora's thumbnails lazy-loaded, and the key switched from the picker.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  apiSession,
  keyClient,
  launchBrowser,
  png,
  screenshot,
  signedInPage,
  startServer,
  thumbnailsMade,
  type TestServer,
} from './harness.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const ids: string[] = [];
// Each run logs `samples` at its own steps; the last one logs only `masks`.
const RUNS: { name: string; samples: number[]; colour: [number, number, number] }[] = [
  { name: 'grid-a', samples: [0, 10, 20], colour: [220, 40, 40] },
  { name: 'grid-b', samples: [5, 15], colour: [40, 180, 60] },
  { name: 'grid-c', samples: [], colour: [40, 60, 220] },
];

before(async () => {
  server = await startServer();
  const cookie = await apiSession(server.url, 'grid@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'grid' }),
  });
  const { key } = (await res.json()) as { key: string };
  const client = keyClient(server.url, key);
  for (const run of RUNS) {
    const { id } = await client.createExperiment({ name: run.name });
    ids.push(id);
    await client.logSeries(id, { loss: { steps: [0, 1], values: [1, 0.5] } });
    const put = async (name: string, step: number, body: Buffer) => {
      const r = await fetch(`${server.url}/api/experiments/${id}/media/${name}?step=${step}`, {
        method: 'PUT',
        headers: { 'x-api-key': key },
        body: new Uint8Array(body),
      });
      assert.equal(r.status, 200, await r.text());
    };
    // 400×300: the grid shows Tora's 256 px copy, not the original.
    for (const step of run.samples) await put('samples', step, png(400, 300, run.colour));
    await put('masks', 3, png(16, 16, run.colour));
    await thumbnailsMade(server.url, key, id);
  }
  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie, { height: 1400 }));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The step each run's cell shows ('gap' when it has no image by then). */
async function shownSteps(): Promise<string[]> {
  const cells = page.getByTestId('compare-media-cell');
  const out: string[] = [];
  for (let i = 0; i < (await cells.count()); i++) {
    const img = cells.nth(i).getByTestId('compare-media-image');
    out.push((await img.count()) === 0 ? 'gap' : ((await img.getAttribute('data-step')) ?? '?'));
  }
  return out;
}

test('one slider moves every run to its latest image at or before the step', async () => {
  await page.goto(`${server.url}/compare?ids=${ids.join(',')}`);
  const grid = page.getByTestId('compare-media');
  await grid.waitFor();
  // The key most runs share first; all three runs side by side at the last step logged by any.
  assert.equal(await page.getByTestId('compare-media-key').inputValue(), 'masks');
  await page.getByTestId('compare-media-key').selectOption('samples');
  assert.equal(await page.getByTestId('compare-media-step').innerText(), 'step 20');
  assert.deepEqual(await shownSteps(), ['20', '15', 'gap']);

  // The slider's stops are the steps any run logged: 0, 5, 10, 15, 20.
  const slider = page.getByTestId('compare-media-slider');
  await slider.fill('2');
  assert.equal(await page.getByTestId('compare-media-step').innerText(), 'step 10');
  assert.deepEqual(await shownSteps(), ['10', '5', 'gap']);
  await slider.focus();
  await page.keyboard.press('Home');
  assert.deepEqual(await shownSteps(), ['0', 'gap', 'gap']);
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getByTestId('compare-media-step').innerText(), 'step 5');
  assert.deepEqual(await shownSteps(), ['0', '5', 'gap']);

  // Tora's thumbnails, lazy-loaded, drawn at their 256 px size.
  const images = page.getByTestId('compare-media-image');
  for (let i = 0; i < (await images.count()); i++) {
    assert.equal(await images.nth(i).getAttribute('loading'), 'lazy');
    assert.match((await images.nth(i).getAttribute('src')) ?? '', /\/thumbnails\/media%2Fsamples%2F\d+\.png$/);
  }
  await grid.scrollIntoViewIfNeeded();
  await page.waitForFunction(() =>
    Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="compare-media-image"]')).every(
      (img) => img.complete && img.naturalWidth === 256,
    ),
  );
  await screenshot(page, 'compare-media-grid');
});

test('hiding a run takes it out of the grid', async () => {
  await page.goto(`${server.url}/compare?ids=${ids.join(',')}`);
  await page.getByTestId('compare-media').waitFor();
  assert.equal(await page.getByTestId('compare-media-cell').count(), 3);
  await page.getByTestId('legend-item').filter({ hasText: 'grid-b' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="compare-media-cell"]').length === 2);
  assert.deepEqual(await page.getByTestId('compare-media-cell').evaluateAll((c) => c.map((e) => e.getAttribute('data-run'))), [
    'grid-a',
    'grid-c',
  ]);
});
