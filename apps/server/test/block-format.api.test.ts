import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCoded } from '../src/modules/metrics/codec.js';
import {
  DIALECTS,
  call,
  createExperiment,
  freshStorage,
  signUp,
  startTestServer,
  type TestServer,
  type TestStorage,
  type TestUser,
} from './harness.js';

const f64 = (xs: number[]) => Buffer.from(new Float64Array(xs).buffer).toString('base64');
const T0 = 1_764_000_000_000;

/** What a chart and a raw read see of one series: every point, and the bucketed extremes. */
async function read(server: TestServer, user: TestUser, id: string) {
  const values: (number | string)[] = [];
  const steps: number[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(
      server.app,
      user,
      'GET',
      `/api/experiments/${id}/metrics/raw?name=loss&limit=5000${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.statusCode).toBe(200);
    const body = res.json<{ points: { step: number; value: number | string }[]; nextCursor: string | null }>();
    for (const p of body.points) {
      steps.push(p.step);
      values.push(p.value);
    }
    cursor = body.nextCursor;
  } while (cursor);
  const series = await call(server.app, user, 'GET', `/api/experiments/${id}/metrics/series?name=loss&budget=100`);
  expect(series.statusCode).toBe(200);
  return { steps, values, series: series.json<{ pointCount: number; buckets: { maxValue: (number | string | null)[] } }>() };
}

/** `n` points from `start`: a decaying noisy loss with a spike, a NaN and an infinity, fractional-ms times. */
function batch(start: number, n: number) {
  const steps = Array.from({ length: n }, (_, i) => start + i);
  const values = steps.map((s) => 2 * Math.exp(-s / 3000) + 0.01 * Math.sin(s * 7.3));
  values[17] = 25; // a one-step spike
  values[40] = NaN;
  values[3000] = Infinity;
  const times = steps.map((s) => T0 + s * 12.5 + (s % 7) / 3);
  return { steps, values, payload: { series: { loss: { stepsF64: f64(steps), valuesF64: f64(values), timesF64: f64(times) } } } };
}

const wire = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v);

describe.each(DIALECTS)('metric block formats on %s', (dialect) => {
  let storage: TestStorage;
  let server: TestServer | undefined;
  beforeAll(async () => {
    storage = await freshStorage(dialect);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('reads blocks written packed by an older server beside coded ones, and codes new blocks compactly', async () => {
    // An older replica's layout first: TORA_BLOCK_FORMAT=packed writes the pre-codec blocks.
    const old = await startTestServer(dialect, { TORA_BLOCK_FORMAT: 'packed' }, { storage });
    const user = await signUp(old.app);
    const id = await createExperiment(old.app, user);
    const first = batch(0, 6000);
    expect((await call(old.app, user, 'POST', `/api/experiments/${id}/metrics/batch`, first.payload)).statusCode).toBe(201);
    await old.app.close();
    await old.database.close();

    // The upgraded server on the same database: coded blocks from now on, the old ones read as they are.
    server = await startTestServer(dialect, {}, { storage });
    expect(server.config.blockFormat).toBe('coded');
    const second = batch(6000, 6000);
    expect((await call(server.app, user, 'POST', `/api/experiments/${id}/metrics/batch`, second.payload)).statusCode).toBe(201);

    const got = await read(server, user, id);
    expect(got.steps).toEqual([...first.steps, ...second.steps]);
    expect(got.values).toEqual([...first.values, ...second.values].map(wire));
    expect(got.series.pointCount).toBe(12_000);
    expect(got.series.buckets.maxValue.filter((v) => v === 25)).toHaveLength(2);

    const blocks = await server.database.db
      .selectFrom('metric_blocks as b')
      .innerJoin('metric_series as s', 's.id', 'b.series_id')
      .where('s.experiment_id', '=', id)
      .select(['b.seq', 'b.data', 'b.point_count'])
      .orderBy('b.seq')
      .execute();
    const kinds = blocks.map((b) => (isCoded(b.data) ? 'coded' : 'packed'));
    expect(kinds).toContain('packed');
    expect(kinds).toContain('coded');
    for (const b of blocks.filter((x) => !isCoded(x.data))) expect(b.data.byteLength).toBe(b.point_count * 24);
    for (const b of blocks.filter((x) => isCoded(x.data))) expect(b.data.byteLength / b.point_count).toBeLessThan(12);
  });

  it('refuses an unknown TORA_BLOCK_FORMAT at start', async () => {
    await expect(startTestServer(dialect, { TORA_BLOCK_FORMAT: 'zstd' })).rejects.toThrow(
      /TORA_BLOCK_FORMAT must be one of coded, packed/,
    );
  });
});
