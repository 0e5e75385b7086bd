import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startToraProcess, type ToraProcess } from '../../../scripts/tora-process.mjs';
import { DIALECTS, freshStorage } from './harness.js';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The real server as its own process (tsx runs the sources), so it can be SIGKILLed. */
function startProcess(env: Record<string, string>): Promise<ToraProcess> {
  return startToraProcess({
    env,
    dataDir: env.TORA_DATA_DIR,
    command: [process.execPath, '--import', 'tsx', 'src/main.ts'],
    cwd: SERVER_DIR,
    stdout: 'ignore',
    timeoutMs: 60_000,
  });
}

const BATCHES = 120;
const POINTS = 500;

describe.each(DIALECTS)('durability on %s', (dialect) => {
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

  it('keeps every acknowledged batch after SIGKILL, none half-written, and retries land exactly once', async () => {
    const storage = await freshStorage(dialect);
    const env = { TORA_DATA_DIR: storage.dataDir, TORA_DATABASE_URL: storage.databaseUrl ?? '', TORA_ALLOW_SIGNUP: 'true' };
    let server = await startProcess(env);
    children.push(server.child);

    const signup = await fetch(`${server.url}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'durable@example.com', password: 'correct horse battery' }),
    });
    const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const keyRes = await fetch(`${server.url}/api/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, origin: server.url },
      body: JSON.stringify({ name: 'k' }),
    });
    const key = ((await keyRes.json()) as { key: string }).key;
    const headers = { 'content-type': 'application/json', 'x-api-key': key };
    const created = await fetch(`${server.url}/api/experiments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'durable' }),
    });
    const id = ((await created.json()) as { experiment: { id: string } }).experiment.id;

    const body = (b: number): string => {
      const steps = Array.from({ length: POINTS }, (_, i) => b * POINTS + i);
      return JSON.stringify({
        batchId: `batch-${b}`,
        series: { loss: { steps, values: steps.map((s) => s * 0.5) }, acc: { steps, values: steps } },
      });
    };
    const send = async (base: string, b: number): Promise<boolean> => {
      try {
        const res = await fetch(`${base}/api/experiments/${id}/metrics/batch`, { method: 'POST', headers, body: body(b) });
        return res.status === 201;
      } catch {
        return false;
      }
    };

    // Four concurrent streams; the server is killed once about a third of the batches are acknowledged.
    const acked = new Set<number>();
    let next = 0;
    const base = server.url;
    const child = server.child;
    const stream = async (): Promise<void> => {
      while (next < BATCHES) {
        const b = next++;
        if (await send(base, b)) acked.add(b);
        if (acked.size === Math.floor(BATCHES / 3)) child.kill('SIGKILL');
      }
    };
    await Promise.all([stream(), stream(), stream(), stream()]);
    expect(child.signalCode ?? (await new Promise((r) => child.once('exit', (_c, s) => r(s))))).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThanOrEqual(Math.floor(BATCHES / 3));
    expect(acked.size).toBeLessThan(BATCHES);

    server = await startProcess(env);
    children.push(server.child);
    const countSteps = async (): Promise<Map<number, number>> => {
      const perBatch = new Map<number, number>();
      for (const name of ['loss', 'acc']) {
        let cursor: string | null = null;
        do {
          const url: string = `${server.url}/api/experiments/${id}/metrics/raw?name=${name}&limit=20000${cursor ? `&cursor=${cursor}` : ''}`;
          const res = await fetch(url, { headers });
          if (res.status === 404) break;
          const page = (await res.json()) as { points: { step: number; value: number }[]; nextCursor: string | null };
          for (const p of page.points) {
            const b = Math.floor(p.step / POINTS);
            perBatch.set(b, (perBatch.get(b) ?? 0) + 1);
            expect(p.value).toBe(name === 'loss' ? p.step * 0.5 : p.step);
          }
          cursor = page.nextCursor;
        } while (cursor);
      }
      return perBatch;
    };

    const afterCrash = await countSteps();
    for (const b of acked) expect(afterCrash.get(b)).toBe(2 * POINTS);
    for (const [, count] of afterCrash) expect(count).toBe(2 * POINTS); // no batch half there

    for (let b = 0; b < BATCHES; b++) if (!acked.has(b)) expect(await send(server.url, b)).toBe(true);
    // Retrying acknowledged ones too must change nothing.
    for (const b of [...acked].slice(0, 5)) expect(await send(server.url, b)).toBe(true);
    const final = await countSteps();
    expect(final.size).toBe(BATCHES);
    for (let b = 0; b < BATCHES; b++) expect(final.get(b)).toBe(2 * POINTS);

    await server.stop();
    fs.rmSync(storage.dataDir, { recursive: true, force: true });
  }, 120_000);
});
