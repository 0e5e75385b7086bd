/**
 * Issue 18's two browser figures, in headless Chromium against a built server on this machine:
 *
 *  1. Step slider over IMAGES images of one key (default 10,000): the run page's media panel, its
 *     slider moved one logged step at a time by the arrow key, SLIDES times from the last step; per
 *     move, the time from the key press until the new image is loaded and decoded (what the user
 *     sees), median and p95, first pass and again over the same steps (warm). Baseline in the same
 *     run: fetching each of those images' originals from the files route, one at a time, no cache.
 *  2. Compare page, 20 runs × 20 images of one key: time from navigation start until all 20 cells of
 *     the grid show their image (viewport tall enough that the grid is in view: the images are
 *     lazy-loaded), median of 3 loads. Baseline in the same load: until the page's legend shows.
 *
 * Thumbnails are made by the server in the background; the bench waits until every image has one
 * (what a user sees once a run has finished logging), and says how long that took.
 *
 * Usage: npm run build -w apps/server && npm run build -w apps/web && node --import tsx bench/media/browser.ts [--images N] [--smoke]
 */
import type { Page } from 'playwright-core';
import { apiSession, launchBrowser, newPage, png, startServer } from '../../e2e/web/harness.ts';

const SMOKE = process.argv.includes('--smoke');
if (SMOKE)
  console.log('bench/media/browser --smoke: tiny sizes to prove the benchmark runs end to end; figures below are NOT results');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const IMAGES = SMOKE ? 60 : arg('--images', 10_000);
const SLIDES = Math.min(SMOKE ? 20 : 200, IMAGES - 1);
const GRID_RUNS = SMOKE ? 4 : 20;
const GRID_IMAGES = SMOKE ? 3 : 20;
const LOADS = SMOKE ? 1 : 3;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

const server = await startServer();
try {
  const cookie = await apiSession(server.url, 'bench-media@example.com', 'correct horse battery');
  const keyRes = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench' }),
  });
  const { key } = (await keyRes.json()) as { key: string };
  const api = async (method: string, path: string, body?: BodyInit, json = false) => {
    const res = await fetch(`${server.url}/api${path}`, {
      method,
      headers: { 'x-api-key': key, ...(json ? { 'content-type': 'application/json' } : {}) },
      body,
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const newRun = async (name: string) =>
    ((await api('POST', '/experiments', JSON.stringify({ name }), true)) as { experiment: { id: string } }).experiment.id;
  /** Uploads `count` images of `name` (a colour per step), 8 requests in flight. */
  async function upload(id: string, name: string, count: number, size: number, tint = 0) {
    let next = 0;
    const worker = async () => {
      for (let step = next++; step < count; step = next++) {
        const body = new Uint8Array(png(size, size, [(step * 7 + tint) % 256, (step * 13) % 256, (tint * 5) % 256]));
        await api('PUT', `/experiments/${id}/media/${name}?step=${step}`, body);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }
  async function thumbnailsDone(ids: string[]) {
    for (;;) {
      let waiting = 0;
      for (const id of ids) {
        const { media } = (await api('GET', `/experiments/${id}/media`)) as { media: { thumbnail: boolean }[] };
        waiting += media.filter((m) => !m.thumbnail).length;
      }
      if (waiting === 0) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  // 1. The slider.
  const t0 = Date.now();
  const run = await newRun('slider');
  await upload(run, 'samples', IMAGES, 128);
  const uploaded = Date.now();
  await thumbnailsDone([run]);
  console.log(
    `${IMAGES} images of 128×128 uploaded in ${((uploaded - t0) / 1000).toFixed(1)} s; thumbnails all made ${((Date.now() - uploaded) / 1000).toFixed(1)} s later`,
  );
  const browser = await launchBrowser();
  const { context, page } = await newPage(browser, { width: 1280, height: 2400 });
  const [name, value] = cookie.split('=') as [string, string];
  await context.addCookies([{ name, value, url: server.url }]);

  await page.goto(`${server.url}/experiments/${run}`);
  await page.locator('[data-testid="media-panel"] [data-testid="media-image"]').waitFor({ timeout: 60_000 });
  const slide = (p: Page, n: number, key: string) =>
    p.evaluate(
      async ({ n, key }) => {
        const panel = document.querySelector('[data-testid="media-panel"]')!;
        const slider = panel.querySelector('[data-testid="media-slider"]') as HTMLInputElement;
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          const img = panel.querySelector('[data-testid="media-image"]') as HTMLImageElement;
          const before = img.src;
          const start = performance.now();
          slider.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
          for (;;) {
            const now = panel.querySelector('[data-testid="media-image"]') as HTMLImageElement;
            if (now.src !== before) {
              await now.decode().catch(() => undefined);
              break;
            }
            await new Promise((r) => setTimeout(r, 0));
          }
          out.push(performance.now() - start);
        }
        return out;
      },
      { n, key },
    );
  const first = await slide(page, SLIDES, 'ArrowLeft');
  await slide(page, SLIDES, 'ArrowRight'); // back to the last step
  const warm = await slide(page, SLIDES, 'ArrowLeft');
  const baseline = await page.evaluate(
    async ({ run, from, n }) => {
      const out: number[] = [];
      for (let step = from; step > from - n; step--) {
        const start = performance.now();
        const res = await fetch(`/api/experiments/${run}/files/media%2Fsamples%2F${step}.png`, { cache: 'no-store' });
        await res.arrayBuffer();
        out.push(performance.now() - start);
      }
      return out;
    },
    { run, from: IMAGES - 2, n: SLIDES },
  );
  console.log(`\nslider over ${IMAGES} images, ${SLIDES} moves by ArrowLeft (key press → new image decoded):`);
  console.log(`  first pass   median ${ms(quantile(first, 0.5))}, p95 ${ms(quantile(first, 0.95))}`);
  console.log(`  warm         median ${ms(quantile(warm, 0.5))}, p95 ${ms(quantile(warm, 0.95))}   (target p95 ≤ 100 ms)`);
  console.log(
    `  baseline: fetching each original, no cache: median ${ms(quantile(baseline, 0.5))}, p95 ${ms(quantile(baseline, 0.95))}` +
      ` (warm p95 / baseline p95: ${(quantile(warm, 0.95) / quantile(baseline, 0.95)).toFixed(2)})`,
  );

  // 2. The compare grid.
  const ids: string[] = [];
  for (let r = 0; r < GRID_RUNS; r++) {
    const id = await newRun(`grid-${r}`);
    ids.push(id);
    await upload(id, 'samples', GRID_IMAGES, 256, r * 40);
  }
  await thumbnailsDone(ids);
  const grid: number[] = [];
  const legend: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const fresh = await context.newPage();
    await fresh.goto(`${server.url}/compare?ids=${ids.join(',')}`);
    await fresh.getByTestId('compare-legend').waitFor({ timeout: 60_000 });
    legend.push(await fresh.evaluate(() => performance.now()));
    await fresh.waitForFunction(
      (n) => {
        const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="compare-media-image"]'));
        return imgs.length === n && imgs.every((img) => img.complete && img.naturalWidth > 0);
      },
      GRID_RUNS,
      { timeout: 60_000, polling: 'raf' },
    );
    grid.push(await fresh.evaluate(() => performance.now()));
    await fresh.close();
  }
  console.log(
    `\ncompare page, ${GRID_RUNS} runs × ${GRID_IMAGES} images (navigation start → every grid cell's image loaded), ${LOADS} loads:`,
  );
  console.log(`  grid shown   median ${ms(quantile(grid, 0.5))} (${grid.map(ms).join(', ')})   (target ≤ 1 s)`);
  console.log(`  baseline: the page's legend shown, same loads: median ${ms(quantile(legend, 0.5))}`);
  await browser.close();
} finally {
  await server.stop();
}
