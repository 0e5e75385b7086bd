import { describe, expect, it } from 'vitest';
import { DIALECTS, call, createExperiment, useTestServer, useUser } from './harness.js';

/**
 * Many writers into one experiment at once, each batch naming an overlapping set of series in its
 * own order: no batch may fail (PostgreSQL used to answer some with a deadlock 500) and every
 * point must be stored exactly once.
 */
const WRITERS = 8;
const BATCHES = 200;
const NAMES = ['loss', 'acc', 'lr', 'grad_norm', 'val/loss', 'val/acc'];

/** A deterministic, writer-specific pick and order of 2..6 series for batch i. */
function seriesOf(writer: number, i: number): string[] {
  const n = 2 + ((writer + i) % (NAMES.length - 1));
  const picked = Array.from({ length: n }, (_, k) => NAMES[(writer * 7 + i * 5 + k * (writer % 2 === 0 ? 1 : -1) + 60) % 6]!);
  return [...new Set(picked)];
}

describe.each(DIALECTS)('concurrent batches into one experiment on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);

  it(
    `${WRITERS} writers × ${BATCHES} batches over overlapping series: no error, every point once`,
    { timeout: 300_000 },
    async () => {
      const id = await createExperiment(server.app, alice, { name: 'contended' });
      const expected = new Map<string, number[]>(NAMES.map((n) => [n, []]));
      const failures: string[] = [];
      const writer = async (w: number) => {
        for (let i = 0; i < BATCHES; i++) {
          const series: Record<string, { steps: number[]; values: number[] }> = {};
          for (const name of seriesOf(w, i)) {
            const steps = [w * 100_000 + i * 10, w * 100_000 + i * 10 + 1];
            series[name] = { steps, values: steps.map((s) => s / 7) };
            expected.get(name)!.push(...steps);
          }
          const res = await call(server.app, alice, 'POST', `/api/experiments/${id}/metrics/batch`, {
            batchId: `w${w}-b${i}`,
            series,
          });
          if (res.statusCode !== 201) failures.push(`${w}/${i}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      expect(failures).toEqual([]);

      for (const [name, steps] of expected) {
        const got: number[] = [];
        let cursor = '';
        do {
          const page = await call(
            server.app,
            alice,
            'GET',
            `/api/experiments/${id}/metrics/raw?name=${encodeURIComponent(name)}&limit=10000${cursor ? `&cursor=${cursor}` : ''}`,
          );
          expect(page.statusCode).toBe(200);
          const body = page.json<{ points: { step: number; value: number }[]; nextCursor: string | null }>();
          for (const p of body.points) {
            expect(p.value).toBe(p.step / 7);
            got.push(p.step);
          }
          cursor = body.nextCursor ?? '';
        } while (cursor);
        expect(got.length, name).toBe(steps.length);
        expect(
          [...got].sort((a, b) => a - b),
          name,
        ).toEqual([...steps].sort((a, b) => a - b));
      }
      const summary = (await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics`)).json<{
        metrics: { name: string; count: number }[];
      }>();
      expect(Object.fromEntries(summary.metrics.map((m) => [m.name, m.count]))).toEqual(
        Object.fromEntries([...expected].map(([n, s]) => [n, s.length])),
      );
    },
  );
});
