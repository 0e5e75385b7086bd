import { describe, expect, it } from 'vitest';
import type { XAxis } from '$lib/api';
import { ChartSeries, type RangeRead, type SeriesReader } from './chart-series.svelte';

/** What the scripted reader serves: the buckets' x positions, one per `width` steps. */
interface Buckets {
  xs: number[];
  width: number;
  x: XAxis;
}

/** A reader over a run logged at steps 0..last, which records every read it is asked for. */
function scripted(opts: { last: number; overview?: () => { data: Buckets; x: XAxis; budget: number } | null }) {
  const reads: RangeRead[] = [];
  const appends: { from: number; to: number; budget: number }[] = [];
  // The next read or append waits on this gate until the test opens it.
  let gate: Promise<void> | null = null;
  const wait = async () => {
    const g = gate;
    gate = null;
    if (g) await g;
  };
  const buckets = (from: number, to: number, budget: number, x: XAxis): Buckets => {
    const width = Math.max(1, Math.ceil((to - from + 1) / budget));
    const xs: number[] = [];
    for (let s = from; s <= to; s += width) xs.push(s);
    return { xs, width, x };
  };
  const reader: SeriesReader<Buckets> = {
    maxBudget: 1000,
    empty: { xs: [], width: 1, x: 'step' },
    async read(q) {
      reads.push(q);
      await wait();
      return buckets(q.from ?? 0, q.to ?? opts.last, q.budget, q.x);
    },
    held: (d) => (d.xs.length === 0 ? null : { to: d.xs[d.xs.length - 1]! + d.width - 1, buckets: d.xs.length, width: d.width }),
    async append(d, q) {
      appends.push(q);
      await wait();
      return { ...d, xs: d.xs.concat(buckets(q.from, q.to, q.budget, 'step').xs) };
    },
    appendErrors: 'retry',
    overview: opts.overview,
  };
  return {
    reader,
    reads,
    appends,
    /** Holds the next read or append until the returned function is called. */
    holdNext: (): (() => void) => {
      let open = () => {};
      gate = new Promise<void>((r) => (open = r));
      return open;
    },
  };
}

describe('ChartSeries', () => {
  it('reads as many buckets as the plot is wide (at most the reader’s limit), and a zoom re-reads its range', async () => {
    const r = scripted({ last: 9999 });
    const s = new ChartSeries(r.reader);
    await s.load(400.4);
    expect(r.reads).toEqual([{ budget: 400, x: 'step', from: undefined, to: undefined }]);
    expect(s.data.xs.length).toBe(400);
    await s.load(50_000);
    expect(r.reads[1]!.budget).toBe(1000);
    await s.zoomTo(100.6, 199.2);
    expect(r.reads[2]).toEqual({ budget: 1000, x: 'step', from: 100, to: 200 });
    expect(s.zoom).toEqual({ from: 100, to: 200 });
    await s.resetZoom();
    expect(r.reads[3]).toEqual({ budget: 1000, x: 'step', from: undefined, to: undefined });
    expect(s.requests).toBe(4);
  });

  it('live: reads only the steps after the last it holds at the same bucket width, then re-reads in full past twice the budget', async () => {
    const r = scripted({ last: 999 });
    const s = new ChartSeries(r.reader);
    await s.load(100);
    expect(s.data.width).toBe(10);
    await s.extendTo(999);
    expect(r.appends).toEqual([]);
    await s.extendTo(1049);
    expect(r.appends).toEqual([{ from: 1000, to: 1049, budget: 5 }]);
    expect(s.data.xs.length).toBe(105);
    // 105 buckets held: appending on until there are more than 200.
    s.data = { ...s.data, xs: Array.from({ length: 201 }, (_, i) => i * 10) };
    await s.extendTo(2100);
    expect(r.appends.length).toBe(1);
    expect(r.reads.at(-1)).toEqual({ budget: 100, x: 'step', from: undefined, to: undefined });
  });

  it('appends nothing while zoomed or on the wall-time axis', async () => {
    const r = scripted({ last: 999 });
    const s = new ChartSeries(r.reader);
    await s.load(100);
    await s.zoomTo(0, 500);
    await s.extendTo(1500);
    await s.resetZoom();
    await s.setX('time');
    await s.extendTo(1500);
    expect(r.appends).toEqual([]);
    expect(s.x).toBe('time');
    expect(s.shownX).toBe('time');
  });

  it('drops an append that lands after a zoom: the zoomed read wins', async () => {
    const r = scripted({ last: 999 });
    const s = new ChartSeries(r.reader);
    await s.load(100);
    const open = r.holdNext();
    const append = s.extendTo(1500);
    await s.zoomTo(0, 100);
    open();
    await append;
    expect(r.appends.length).toBe(1);
    expect(s.data.xs.at(-1)).toBeLessThanOrEqual(101);
  });

  it('a read overtaken by a newer one is never shown', async () => {
    const r = scripted({ last: 999 });
    const s = new ChartSeries(r.reader);
    const open = r.holdNext();
    const first = s.load(10);
    await s.load(100);
    open();
    await first;
    expect(s.data.xs.length).toBe(100);
    expect(s.shownBudget).toBe(100);
    expect(s.loading).toBe(false);
  });

  it('shows the page’s read for its axis when unzoomed, and its own zoomed read over it', async () => {
    let page: { data: Buckets; x: XAxis; budget: number } | null = null;
    const r = scripted({ last: 999, overview: () => page });
    const s = new ChartSeries(r.reader);
    expect(s.showOverview()).toBe(false);
    page = { data: { xs: [0, 500], width: 500, x: 'step' }, x: 'step', budget: 2 };
    expect(s.showOverview()).toBe(true);
    expect(s.data.xs).toEqual([0, 500]);
    expect(s.shownBudget).toBe(2);
    s.budget = 100;
    await s.zoomTo(0, 99);
    expect(s.showOverview()).toBe(false);
    expect(s.data.xs.length).toBe(100);
    // Unzoomed again: the page's read, no new request.
    const reads = r.reads.length;
    await s.resetZoom();
    expect(r.reads.length).toBe(reads);
    expect(s.data.xs).toEqual([0, 500]);
    // Another axis: nothing of the page's step read; its time read once it lands.
    await s.setX('time');
    expect(s.data.xs).toEqual([0, 500]);
    expect(s.shownX).toBe('step');
    page = { data: { xs: [1, 2, 3], width: 1, x: 'time' }, x: 'time', budget: 3 };
    expect(s.showOverview()).toBe(true);
    expect(s.shownX).toBe('time');
    expect(r.reads.length).toBe(reads);
  });
});
