/**
 * Shared pieces of the web browser tests and the web bench: a real Tora server on a free port
 * with a fresh data directory, Debian's Chromium via playwright-core, and small API helpers
 * that act like a user's script (cookie session or API key).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freePort, startToraProcess } from '../../scripts/tora-process.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCREENSHOTS = path.join(ROOT, 'test-output/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestServer {
  url: string;
  dataDir: string;
  stop: () => Promise<void>;
}

export { freePort };

/** Starts the built `tora serve` with a fresh data directory (removed by stop()); resolves once /api/health answers. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startToraProcess({ env, cwd: ROOT });
  return { url: server.url, dataDir: server.dataDir, stop: () => server.stop() };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export async function newPage(
  browser: Browser,
  opts: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    colorScheme: opts.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  return { context, page };
}

/** `newPage` signed in: `cookie` is the session cookie `apiSession` returned for the server at `url`. */
export async function signedInPage(
  browser: Browser,
  url: string,
  cookie: string,
  opts: Parameters<typeof newPage>[1] = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await newPage(browser, opts);
  page.setDefaultTimeout(10_000);
  const [name, value] = cookie.split('=') as [string, string];
  await context.addCookies([{ name, value, url }]);
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** A script's view of the API: authenticated by API key, as the Python client would be. */
export function keyClient(baseUrl: string, apiKey: string) {
  async function call(method: string, p: string, body?: unknown): Promise<Response> {
    return fetch(`${baseUrl}/api${p}`, {
      method,
      headers: { 'x-api-key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
  return {
    call,
    async createExperiment(body: Record<string, unknown>): Promise<{ id: string; name: string }> {
      const res = await call('POST', '/experiments', body);
      if (res.status !== 201) throw new Error(`create experiment: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { experiment: { id: string; name: string } }).experiment;
    },
    /** Logs columnar series in batches the server accepts (≤ 200,000 points each). */
    async logSeries(id: string, series: Record<string, { steps: number[]; values: (number | string)[] }>): Promise<void> {
      const CHUNK = 200_000;
      for (const [name, s] of Object.entries(series)) {
        for (let i = 0; i < s.steps.length; i += CHUNK) {
          const res = await call('POST', `/experiments/${id}/metrics/batch`, {
            series: { [name]: { steps: s.steps.slice(i, i + CHUNK), values: s.values.slice(i, i + CHUNK) } },
          });
          if (res.status !== 201) throw new Error(`log ${name}: ${res.status} ${await res.text()}`);
        }
      }
    },
  };
}

/** Signs up (or logs in) through the HTTP API and returns the session cookie header. */
export async function apiSession(
  baseUrl: string,
  email: string,
  password: string,
  mode: 'signup' | 'login' = 'signup',
): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/${mode}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new Error(`${mode}: ${res.status} ${await res.text()}`);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

export function steps(n: number, start = 0): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

/** Waits until every mounted chart of the page has drawn data for the given metrics. */
export async function waitForCharts(page: Page, names: string[], timeout = 15_000): Promise<void> {
  await page.waitForFunction((ns) => ns.every((n) => (window.__toraCharts?.[n]?.xs.length ?? 0) > 0), names, {
    timeout,
    polling: 50,
  });
}

/**
 * How many pixels of a chart's canvas are drawn in `color` (a CSS colour; default: the chart's
 * own `--chart-line`). What a user sees, not what the app says it plotted: a plot whose draw
 * threw, or a single point drawn as a zero-length line, has none.
 */
export async function inkPixels(page: Page, figure: string, color?: string): Promise<number> {
  return page.locator(figure).evaluate((fig, wanted) => {
    const canvas = fig.querySelector('canvas');
    if (!canvas) return 0;
    const probe = document.createElement('div');
    probe.style.color = wanted ?? getComputedStyle(fig).getPropertyValue('--chart-line');
    document.body.append(probe);
    const [r, g, b] = getComputedStyle(probe).color.match(/\d+/g)!.map(Number) as [number, number, number];
    probe.remove();
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! > 200 && Math.abs(data[i]! - r) + Math.abs(data[i + 1]! - g) + Math.abs(data[i + 2]! - b) < 40) n++;
    }
    return n;
  }, color);
}

/** A solid-colour RGB PNG. */
export function png(width: number, height: number, [r, g, b]: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())]);
  const rows = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Waits until every image of the run's media index has Tora's thumbnail (made in the background). */
export async function thumbnailsMade(baseUrl: string, apiKey: string, id: string, timeout = 15_000): Promise<void> {
  const until = Date.now() + timeout;
  for (;;) {
    const res = await fetch(`${baseUrl}/api/experiments/${id}/media`, { headers: { 'x-api-key': apiKey } });
    const { media } = (await res.json()) as { media: { thumbnail: boolean }[] };
    if (media.every((m) => m.thumbnail)) return;
    if (Date.now() > until) throw new Error(`thumbnails of ${id} not made within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
