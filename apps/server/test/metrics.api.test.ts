import type { Static } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../src/modules/metrics/blocks.js';
import type { BucketedSeries } from '../src/modules/metrics/metrics.schemas.js';
import type { CompareResponse } from '../src/modules/compare/compare.schemas.js';
import { DIALECTS, call, createExperiment, errorCode, useTestServer, useUser } from './harness.js';
import { declaredBody } from './route-schemas.js';

type Series = Static<typeof BucketedSeries>;
type CompareResult = Static<typeof CompareResponse>;
const SERIES = 'GET /api/experiments/{id}/metrics/series';

describe.each(DIALECTS)('metrics API on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);

  const batch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
    server.app.inject({
      method: 'POST',
      url: `/api/experiments/${id}/metrics/batch`,
      headers: { 'x-api-key': alice.key, ...headers },
      payload: body as object,
    });

  const raw = async (id: string, name: string) => {
    const points: { step: number; value: number | string; metadata: unknown; time: string }[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(
        server.app,
        alice,
        'GET',
        `/api/experiments/${id}/metrics/raw?name=${encodeURIComponent(name)}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.statusCode).toBe(200);
      const body = res.json();
      points.push(...body.points);
      cursor = body.nextCursor;
    } while (cursor);
    return points;
  };

  it('accepts the original rows form with null steps and metadata, assigning next steps per series', async () => {
    const id = await createExperiment(server.app, alice);
    const res = await batch(id, [
      { name: 'loss', value: 2.5, step: null, metadata: null },
      { name: 'acc', value: 0.1, step: 10, metadata: { split: 'val' } },
      { name: 'loss', value: 2.0, step: null, metadata: null },
      { name: 'acc', value: 0.2, step: null, metadata: null },
    ]);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ success: true, count: 4, duplicate: false });
    expect(await raw(id, 'loss')).toMatchObject([
      { step: 0, value: 2.5, metadata: null },
      { step: 1, value: 2.0, metadata: null },
    ]);
    expect(await raw(id, 'acc')).toMatchObject([
      { step: 10, value: 0.1, metadata: { split: 'val' } },
      { step: 11, value: 0.2, metadata: null },
    ]);
    await batch(id, [{ name: 'loss', value: 1.5 }]);
    expect((await raw(id, 'loss')).map((p) => p.step)).toEqual([0, 1, 2]);
  });

  it('keeps NaN and ±Infinity and reports them in summaries', async () => {
    const id = await createExperiment(server.app, alice);
    await batch(id, { series: { x: { steps: [0, 1, 2, 3], values: [1, 'NaN', 'Infinity', '-Infinity'] } } });
    expect((await raw(id, 'x')).map((p) => p.value)).toEqual([1, 'NaN', 'Infinity', '-Infinity']);
    const summary = (await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics`)).json().metrics[0];
    expect(summary).toMatchObject({
      name: 'x',
      count: 4,
      nanCount: 1,
      min: '-Infinity',
      max: 'Infinity',
      lastValue: '-Infinity',
      firstStep: 0,
      lastStep: 3,
    });
  });

  it('reads binary float64 columns exactly like JSON ones (NaN step = next step, NaN time = arrival)', async () => {
    const id = await createExperiment(server.app, alice);
    const f64 = (xs: number[]) => Buffer.from(new Float64Array(xs).buffer).toString('base64');
    const before = Date.now();
    const res = await batch(id, {
      batchId: 'bin-1',
      series: {
        x: {
          stepsF64: f64([0, 5, NaN]),
          valuesF64: f64([0.1 + 0.2, NaN, -Infinity]),
          timesF64: f64([1_764_000_000_000, NaN, 1_764_000_000_500]),
        },
        y: { steps: [3], valuesF64: f64([Number.MAX_VALUE]) },
      },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ success: true, count: 4, duplicate: false });
    const x = await raw(id, 'x');
    expect(x.map((p) => [p.step, p.value])).toEqual([
      [0, 0.1 + 0.2],
      [5, 'NaN'],
      [6, '-Infinity'],
    ]);
    const times = x.map((p) => Date.parse(p.time));
    expect(times[0]).toBe(1_764_000_000_000);
    expect(times[1]).toBeGreaterThanOrEqual(before - 1000);
    expect(times[2]).toBe(1_764_000_000_500);
    expect((await raw(id, 'y')).map((p) => [p.step, p.value])).toEqual([[3, Number.MAX_VALUE]]);
    // The same points (and times) in JSON under the same batchId are a retry, not a conflict.
    const retry = await batch(id, {
      batchId: 'bin-1',
      series: {
        x: {
          steps: [0, 5, null],
          values: [0.1 + 0.2, 'NaN', '-Infinity'],
          times: [1_764_000_000_000, null, 1_764_000_000_500],
        },
        y: { steps: [3], values: [Number.MAX_VALUE] },
      },
    });
    expect(retry.json()).toMatchObject({ success: true, duplicate: true });
  });

  it('makes a retried batchId a no-op, in the body or as Idempotency-Key', async () => {
    const id = await createExperiment(server.app, alice);
    const body = { batchId: 'b-1', series: { loss: { steps: [0, 1], values: [1, 2] } } };
    expect((await batch(id, body)).json()).toEqual({ success: true, count: 2, duplicate: false });
    expect((await batch(id, body)).json()).toEqual({ success: true, count: 2, duplicate: true });
    const rows = [{ name: 'loss', value: 3, step: 2 }];
    expect((await batch(id, rows, { 'idempotency-key': 'h-1' })).json().duplicate).toBe(false);
    expect((await batch(id, rows, { 'idempotency-key': 'h-1' })).json().duplicate).toBe(true);
    expect((await raw(id, 'loss')).map((p) => p.value)).toEqual([1, 2, 3]);
  });

  it('writes nothing of a batch with one bad point', async () => {
    const id = await createExperiment(server.app, alice);
    const res = await batch(id, [
      { name: 'loss', value: 1, step: 0 },
      { name: 'loss', value: 'oops', step: 1 },
    ]);
    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('VALIDATION_ERROR');
    expect(res.json().error.details[0].path).toBe('body.1.value');
    expect((await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics`)).json().metrics).toEqual([]);
  });

  it('refuses a batch over the published point limit with 413', async () => {
    const id = await createExperiment(server.app, alice);
    const n = 200_001;
    const res = await batch(id, { series: { big: { values: new Array(n).fill(1) } } });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.message).toContain('200000');
  });

  it("names the batch route's own byte limit when a body exceeds it", async () => {
    const id = await createExperiment(server.app, alice);
    const payload = `{"series":{"x":{"values":[${'1,'.repeat(34 * 1024 * 1024)}1]}}}`;
    const res = await server.app.inject({
      method: 'POST',
      url: `/api/experiments/${id}/metrics/batch`,
      headers: { 'x-api-key': alice.key, 'content-type': 'application/json' },
      payload,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.message).toContain(String(64 * 1024 * 1024));
  });

  it('downsamples so that a one-step spike, a dip and a NaN survive any budget', async () => {
    const id = await createExperiment(server.app, alice);
    const n = 100_000;
    const values: (number | string)[] = [];
    for (let i = 0; i < n; i++) values.push(Math.sin(i / 1000));
    values[31_337] = 1e6;
    values[77_777] = -1e6;
    values[50_000] = 'NaN';
    for (let start = 0; start < n; start += 25_000) {
      const steps = Array.from({ length: 25_000 }, (_, i) => start + i);
      const res = await batch(id, { series: { loss: { steps, values: values.slice(start, start + 25_000) } } });
      expect(res.statusCode).toBe(201);
    }
    for (const budget of [1, 7, 100, 1000]) {
      const res = await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?name=loss&budget=${budget}`);
      expect(res.statusCode).toBe(200);
      const body = declaredBody<Series>(server.app, res, SERIES);
      expect(body.pointCount).toBe(n);
      expect(body.buckets.count.length).toBeLessThanOrEqual(budget);
      const maxes = body.buckets.maxValue.filter((v): v is number => typeof v === 'number');
      const mins = body.buckets.minValue.filter((v): v is number => typeof v === 'number');
      expect(Math.max(...maxes)).toBe(1e6);
      expect(Math.min(...mins)).toBe(-1e6);
      expect(body.buckets.maxStep[body.buckets.maxValue.indexOf(1e6)]).toBe(31_337);
      expect(body.buckets.nanCount.reduce((a, b) => a + b, 0)).toBe(1);
      expect(body.buckets.firstNanStep.filter((s) => s !== null)).toEqual([50_000]);
    }
    // Zoomed in: buckets are whole aligned windows (bucketStart/bucketWidth say which), all 1,000 points counted.
    const zoom = declaredBody<Series>(
      server.app,
      await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?name=loss&from=31000&to=31999&budget=10`),
      SERIES,
    );
    expect(zoom.pointCount).toBe(1000);
    expect(zoom.buckets.count.length).toBeLessThanOrEqual(10);
    expect(zoom.buckets.count.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(zoom.bucketStart).toBeLessThanOrEqual(31000);
    const spikeBucket = zoom.buckets.maxValue.indexOf(1e6);
    expect(zoom.buckets.maxStep[spikeBucket]).toBe(31_337);
    // Narrower than a window: plain equal buckets over exactly [from, to].
    const narrow = declaredBody<Series>(
      server.app,
      await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?name=loss&from=31300&to=31399&budget=10`),
      SERIES,
    );
    expect(narrow.buckets.count).toEqual(new Array(10).fill(10));
    expect(narrow.buckets.maxValue[3]).toBe(1e6);
  });

  it('stores negative steps beside positive ones: raw, summary, buckets (windowed and narrow) and compare read them right', async () => {
    const id = await createExperiment(server.app, alice);
    // Warm-up from step -5,000; a spike at -4,321 and a dip at +1,234; a null step after them goes on from the highest.
    const steps: (number | null)[] = Array.from({ length: 10_000 }, (_, i) => i - 5000);
    const values: (number | string)[] = steps.map((s) => Math.cos((s ?? 0) / 700));
    values[5000 - 4321] = 1e6;
    values[5000 + 1234] = -1e6;
    const res = await batch(id, [
      ...steps.map((step, i) => ({ name: 'loss', value: values[i], step })),
      { name: 'loss', value: 0.5, step: null },
    ]);
    expect(res.statusCode).toBe(201);
    const points = await raw(id, 'loss');
    expect(points.length).toBe(10_001);
    expect(points[0]).toMatchObject({ step: -5000 });
    expect(points[10_000]).toMatchObject({ step: 5000, value: 0.5 });
    const list = await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics`);
    expect(list.json().metrics[0]).toMatchObject({ name: 'loss', firstStep: -5000, lastStep: 5000, count: 10_001 });
    for (const budget of [3, 100, 1000]) {
      const body = declaredBody<Series>(
        server.app,
        await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?name=loss&budget=${budget}`),
        SERIES,
      );
      expect(body.from).toBe(-5000);
      expect(body.pointCount).toBe(10_001);
      expect(body.buckets.firstStep[0]).toBe(-5000);
      expect(body.buckets.maxStep[body.buckets.maxValue.indexOf(1e6)]).toBe(-4321);
      expect(body.buckets.minStep[body.buckets.minValue.indexOf(-1e6)]).toBe(1234);
    }
    const zoom = declaredBody<Series>(
      server.app,
      await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?name=loss&from=-4400&to=-4300&budget=101`),
      SERIES,
    );
    expect(zoom.pointCount).toBe(101);
    expect(zoom.buckets.maxStep[zoom.buckets.maxValue.indexOf(1e6)]).toBe(-4321);
    const compare = await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${id}&metrics=loss&budget=50`);
    expect(compare.statusCode).toBe(200);
    const series = declaredBody<CompareResult>(server.app, compare, 'GET /api/experiments/compare').experiments[0]!.metrics[0]!
      .series;
    expect(series.from).toBe(-5000);
    expect(series.buckets.maxStep[series.buckets.maxValue.indexOf(1e6)]).toBe(-4321);
  });

  it('buckets by wall time with x=time', async () => {
    const id = await createExperiment(server.app, alice);
    const t0 = Date.UTC(2026, 0, 1);
    // Steps 0..99 at 1 s apart, but steps 50..99 logged an hour later (a resumed run).
    const steps = Array.from({ length: 100 }, (_, i) => i);
    const times = steps.map((s) => t0 + s * 1000 + (s >= 50 ? 3_600_000 : 0));
    const values = steps.map((s) => (s === 70 ? 999 : s));
    await batch(id, { series: { loss: { steps, values, times } } });
    const res = await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?name=loss&x=time&budget=4`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ x: 'time', from: t0, to: times[99], pointCount: 100 });
    // Four time buckets: the first and the last hold the two sessions; the middle ones are empty.
    expect(body.buckets.count).toEqual([50, 50]);
    expect(body.buckets.firstStep).toEqual([t0, times[50]]);
    expect(body.buckets.maxValue).toEqual([49, 999]);
    expect(body.buckets.maxStep[1]).toBe(times[70]);
    const byStep = (await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?name=loss&budget=4`)).json();
    expect(byStep.x).toBe('step');
    expect(byStep.buckets.count).toEqual([25, 25, 25, 25]);
  });

  it('merges many tiny batches into few blocks without losing or reordering points', async () => {
    const id = await createExperiment(server.app, alice);
    for (let b = 0; b < 40; b++) {
      await batch(
        id,
        Array.from({ length: 25 }, (_, i) => ({ name: 'm', value: b * 25 + i, step: null, metadata: null })),
      );
    }
    const points = await raw(id, 'm');
    expect(points.map((p) => p.step)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(points.map((p) => p.value)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const blocks = await server.database.db
      .selectFrom('metric_blocks as b')
      .innerJoin('metric_series as s', 's.id', 'b.series_id')
      .select('b.seq')
      .where('s.experiment_id', '=', id)
      .execute();
    expect(blocks.length).toBeLessThanOrEqual(2);
  });

  it('exports CSV with a header and one line per point', async () => {
    const id = await createExperiment(server.app, alice);
    await batch(id, [
      { name: 'a,b', value: 1, step: 0, metadata: { note: 'x"y' } },
      { name: 'c', value: 'NaN', step: 5 },
    ]);
    const res = await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const lines = res.body.trim().split('\n');
    expect(lines[0]).toBe('name,step,value,time,metadata');
    expect(lines[1]).toMatch(/^"a,b",0,1,[^,]+,"{""note"":""x\\""y""}"$/);
    expect(lines[2]).toMatch(/^c,5,NaN,/);
    expect(lines).toHaveLength(3);
  });

  it('answers a retry with times and metadata as the original, and refuses other times under that id', async () => {
    const id = await createExperiment(server.app, alice);
    const body = {
      batchId: 'tm-1',
      series: { loss: { steps: [0, 1], values: [1, 2], times: [1_000, 2_000], metadata: [{ epoch: 0 }, null] } },
    };
    expect((await batch(id, body)).json()).toEqual({ success: true, count: 2, duplicate: false });
    expect((await batch(id, body)).json()).toEqual({ success: true, count: 2, duplicate: true });
    const moved = await batch(id, { batchId: 'tm-1', series: { loss: { ...body.series.loss, times: [1_000, 2_001] } } });
    expect(moved.statusCode).toBe(409);
    expect(errorCode(moved)).toBe('BATCH_ID_CONFLICT');
    expect((await raw(id, 'loss')).map((p) => p.time)).toEqual(['1970-01-01T00:00:01.000Z', '1970-01-01T00:00:02.000Z']);
  });

  it('still reads a series that an older server stored with a time beyond a Date (raw, CSV, series, compare)', async () => {
    const id = await createExperiment(server.app, alice);
    expect(
      (await batch(id, { series: { t: { steps: [0, 1, 2], values: [1, 2, 3], times: [1_000, 2_000, 3_000] } } })).statusCode,
    ).toBe(201);
    // What servers before the time check let in: 1e300 ms, written into the stored block.
    const db = server.database.db;
    const series = await db.selectFrom('metric_series').select('id').where('experiment_id', '=', id).executeTakeFirstOrThrow();
    const block = await db.selectFrom('metric_blocks').selectAll().where('series_id', '=', series.id).executeTakeFirstOrThrow();
    const points = decode(block.data, block.metadata);
    const times = Float64Array.from(points.times);
    times[1] = 1e300;
    await db
      .updateTable('metric_blocks')
      .set({ data: encode({ ...points, times }) })
      .where('series_id', '=', series.id)
      .execute();

    const rawRes = await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/raw?name=t`);
    expect(rawRes.statusCode, rawRes.body).toBe(200);
    expect(rawRes.json().points.map((p: { time: string | null }) => p.time)).toEqual([
      '1970-01-01T00:00:01.000Z',
      null,
      '1970-01-01T00:00:03.000Z',
    ]);
    const csv = await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.body.trim().split('\n')).toEqual([
      'name,step,value,time,metadata',
      't,0,1,1970-01-01T00:00:01.000Z,',
      't,1,2,,',
      't,2,3,1970-01-01T00:00:03.000Z,',
    ]);
    for (const url of [
      `/api/experiments/${id}/metrics/series?name=t`,
      `/api/experiments/${id}/metrics/series?name=t&x=time`,
      `/api/experiments/compare?ids=${id}&x=time`,
      `/api/experiments/${id}`,
      `/api/experiments/${id}/metrics`,
    ]) {
      const res = await call(server.app, alice, 'GET', url);
      expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBe(200);
    }
  });

  it('answers 404 for an unknown metric', async () => {
    const id = await createExperiment(server.app, alice);
    const res = await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?name=nope`);
    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('METRIC_NOT_FOUND');
  });
});
