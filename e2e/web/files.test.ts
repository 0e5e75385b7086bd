/**
 * A run's Files and Media sections in a real browser: the file tree with sizes, previews (an image
 * as <img>, YAML as text, CSV as a table, SVG and HTML only as downloads, nothing of theirs in the
 * page), and a media key's step slider snapping to logged steps and moved by the arrow keys.
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
let id = '';
const LOGGED_STEPS = [0, 10, 25, 100];

before(async () => {
  server = await startServer();
  const cookie = await apiSession(server.url, 'files@example.com', 'correct horse battery');
  const res = await fetch(`${server.url}/api/keys`, {
    method: 'POST',
    headers: { cookie, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'files' }),
  });
  const key = ((await res.json()) as { key: string }).key;
  id = (await keyClient(server.url, key).createExperiment({ name: 'with-files' })).id;
  const put = async (path: string, body: Buffer | string) => {
    const r = await fetch(`${server.url}/api/experiments/${id}/${path}`, {
      method: 'PUT',
      headers: { 'x-api-key': key },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    assert.equal(r.status, 200, await r.text());
  };
  await put('files/plots/curve.png', png(120, 80, [40, 120, 220]));
  await put('files/config.yaml', 'lr: 0.001\nlayers: [64, 64]\n');
  await put('files/tables/loss.csv', 'epoch,loss\n1,0.9\n2,"0.5"\n');
  await put('files/evil.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1"/>');
  await put('files/evil.html', '<script>window.__pwned=1</script><h1 id="pwned">pwned</h1>');
  await put('files/ckpt/model.bin', Buffer.alloc(3 * 1024 * 1024, 7));
  const colours: [number, number, number][] = [
    [220, 40, 40],
    [40, 180, 60],
    [40, 60, 220],
    [230, 200, 30],
  ];
  for (const [i, step] of LOGGED_STEPS.entries()) await put(`media/samples?step=${step}`, png(32, 32, colours[i]!));
  await put('media/val/masks?step=5', png(16, 16, [128, 128, 128]));
  await thumbnailsMade(server.url, key, id);
  browser = await launchBrowser();
  ({ page } = await signedInPage(browser, server.url, cookie));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the Files section shows the tree with sizes and previews images, YAML and CSV', async () => {
  await page.goto(`${server.url}/experiments/${id}`);
  const files = page.getByTestId('files');
  await files.waitFor();
  assert.match(await files.locator('h2').innerText(), /Files \(11, 3\.0 MB\)/);
  const tree = await files.getByRole('tree').innerText();
  assert.match(tree, /ckpt\/\s+3\.0 MB/);
  assert.match(tree, /plots\//);

  await files.getByRole('button', { name: 'curve.png' }).click();
  const img = page.getByTestId('file-image');
  await img.waitFor();
  await page.waitForFunction(
    () => (document.querySelector('[data-testid="file-image"]') as HTMLImageElement)?.naturalWidth === 120,
  );
  assert.match((await page.getByTestId('file-download').getAttribute('href')) ?? '', /\/files\/plots%2Fcurve\.png$/);
  await files.scrollIntoViewIfNeeded();
  await screenshot(page, 'files-image-preview');

  await files.getByRole('button', { name: 'config.yaml' }).click();
  assert.equal(await page.getByTestId('file-text').innerText(), 'lr: 0.001\nlayers: [64, 64]\n');

  await files.getByRole('button', { name: 'loss.csv' }).click();
  const table = page.getByTestId('file-table');
  await table.waitFor();
  assert.deepEqual(await table.locator('th').allInnerTexts(), ['epoch', 'loss']);
  assert.deepEqual(await table.locator('tbody tr').allInnerTexts(), ['1\t0.9', '2\t0.5']);
  await screenshot(page, 'files-csv-preview');
});

test('SVG and HTML are only downloads: nothing of theirs runs or renders in the page', async () => {
  await page.goto(`${server.url}/experiments/${id}`);
  for (const name of ['evil.svg', 'evil.html']) {
    await page.getByTestId('files').getByRole('button', { name }).click();
    await page.getByTestId('file-no-preview').waitFor();
    assert.equal(
      await page.locator('[data-testid="files"] img, [data-testid="files"] iframe, [data-testid="files"] object').count(),
      0,
    );
  }
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  assert.equal(await page.locator('#pwned').count(), 0);
  // Opened directly, the file is an attachment of a type no browser renders.
  const res = await page.request.get(`${server.url}/api/experiments/${id}/files/evil.html`);
  assert.equal(res.headers()['content-type'], 'application/octet-stream');
  assert.match(res.headers()['content-disposition'] ?? '', /^attachment/);
});

test('a media key’s slider snaps to logged steps, the arrow keys step through them, the step is shown', async () => {
  await page.goto(`${server.url}/experiments/${id}`);
  const panel = page.locator('[data-testid="media-panel"][data-name="samples"]');
  await panel.waitFor();
  assert.equal(await page.getByTestId('media-panel').count(), 2);
  const step = panel.getByTestId('media-step');
  const image = panel.getByTestId('media-image');
  assert.equal(await step.innerText(), 'step 100'); // the latest logged step first
  const slider = panel.getByTestId('media-slider');
  await slider.fill('20'); // between 10 and 25: snaps to 25
  assert.equal(await step.innerText(), 'step 25');
  // The server's thumbnail of the image, not the original.
  assert.match((await image.getAttribute('src')) ?? '', /\/thumbnails\/media%2Fsamples%2F25\.png$/);
  await slider.focus();
  await page.keyboard.press('ArrowLeft');
  assert.equal(await step.innerText(), 'step 10');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft'); // stays at the first step
  assert.equal(await step.innerText(), 'step 0');
  await page.keyboard.press('ArrowRight');
  assert.equal(await step.innerText(), 'step 10');
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-name="samples"] [data-testid="media-image"]') as HTMLImageElement | null;
    return img !== null && img.complete && img.naturalWidth === 32;
  });
  await panel.scrollIntoViewIfNeeded();
  await screenshot(page, 'media-step-slider');
});
