import type { XAxis } from '$lib/api';
import { handleError } from './toasts.svelte';

/** A full read: the visible range (none: everything) on an axis at `budget` buckets. */
export interface RangeRead {
  budget: number;
  x: XAxis;
  from?: number;
  to?: number;
}

/** What a chart holds, for live appends: its last step, bucket count and bucket width. */
interface Held {
  to: number;
  buckets: number;
  width: number;
}

/**
 * Where one chart's data comes from and how it is shaped (`D`): one experiment's metric (with a
 * reference's curve) or the same metric of every compared experiment.
 */
export interface SeriesReader<D> {
  /** The most buckets one read may ask for. */
  readonly maxBudget: number;
  readonly empty: D;
  read(q: RangeRead, signal: AbortSignal): Promise<D>;
  /** Null when the chart holds nothing yet. */
  held(data: D): Held | null;
  /** Reads steps from..to at `budget` buckets and returns `data` with them appended. */
  append(data: D, q: { from: number; to: number; budget: number }): Promise<D>;
  /** A failed live append: shown to the user, or left to the next poll. */
  readonly appendErrors: 'show' | 'retry';
  /** The page's own read for an axis, when it makes one that this chart can show unzoomed. */
  overview?: () => { data: D; x: XAxis; budget: number } | null;
}

/**
 * The downsampled data behind one chart, whatever its reader. It asks for as many buckets as the
 * chart has pixels, re-asks when zoomed, and while a run is live reads only the steps after the
 * last it holds (re-reading in full once appended buckets exceed twice the budget).
 */
export class ChartSeries<D> {
  data: D = $state.raw() as D;
  zoom = $state<{ from: number; to: number } | null>(null);
  /** The axis asked for; `shownX` is the axis of the data on screen until the new read lands. */
  x = $state<XAxis>('step');
  shownX = $state<XAxis>('step');
  loading = $state(false);
  requests = 0;
  /** The plot's width: the budget of this chart's own reads. */
  budget = 0;
  /** The budget the data on screen was read at (the page's read, or this chart's). */
  shownBudget = 0;
  private controller: AbortController | null = null;
  private appending = false;

  constructor(private readonly reader: SeriesReader<D>) {
    this.data = reader.empty;
  }

  /** Full read of the visible range at `budget` buckets (the plot's width in pixels). */
  async load(budget = this.budget): Promise<void> {
    this.budget = Math.max(1, Math.min(this.reader.maxBudget, Math.round(budget)));
    this.controller?.abort();
    const controller = (this.controller = new AbortController());
    const { signal } = controller;
    const x = this.x;
    this.loading = true;
    try {
      this.requests++;
      const data = await this.reader.read({ budget: this.budget, x, from: this.zoom?.from, to: this.zoom?.to }, signal);
      if (!signal.aborted) {
        this.shownBudget = this.budget;
        this.shownX = x;
        this.data = data;
      }
    } catch (e) {
      if (!signal.aborted) handleError(e);
    } finally {
      if (this.controller === controller) this.loading = false;
    }
  }

  /** The page's read for this axis landed: shown unless this chart shows its own range. */
  showOverview(): boolean {
    const o = this.reader.overview?.();
    if (!o || this.zoom || o.x !== this.x) return false;
    this.controller?.abort();
    this.shownBudget = o.budget;
    this.shownX = this.x;
    this.data = o.data;
    return true;
  }

  /** Live update: reads only the steps after the last this chart holds (step axis, unzoomed). */
  async extendTo(lastStep: number): Promise<void> {
    const data = this.data;
    const held = this.reader.held(data);
    if (this.x !== 'step' || this.shownX !== 'step' || this.zoom || this.loading || this.appending || !held) return;
    if (!(lastStep > held.to)) return;
    // After many appends, re-read in full so the chart keeps about one bucket per pixel.
    if (held.buckets > 2 * Math.max(this.budget, this.shownBudget)) return this.load();
    const from = held.to + 1;
    const budget = Math.max(1, Math.min(this.reader.maxBudget, Math.ceil((lastStep - from + 1) / held.width)));
    this.appending = true;
    try {
      this.requests++;
      const more = await this.reader.append(data, { from, to: lastStep, budget });
      // A zoom, axis switch or full read since then wins over this append.
      if (this.data === data) this.data = more;
    } catch (e) {
      if (this.reader.appendErrors === 'show') handleError(e);
    } finally {
      this.appending = false;
    }
  }

  /** Wall time (epoch ms) for the x axis, or steps; the zoom does not carry over. */
  setX(x: XAxis): Promise<void> | void {
    if (x === this.x) return;
    this.x = x;
    this.zoom = null;
    this.controller?.abort();
    if (this.reader.overview) this.showOverview();
    else return this.reread();
  }

  /** What the reader reads changed (a new reference): read again once the chart has a size. */
  reread(): Promise<void> | void {
    if (this.budget > 0) return this.load();
  }

  zoomTo(from: number, to: number): Promise<void> {
    // Steps are whole numbers; wall time, seconds and metric axes (epochs) are not.
    this.zoom = this.x === 'step' ? { from: Math.floor(from), to: Math.ceil(to) } : { from, to };
    return this.load();
  }

  resetZoom(): Promise<void> | void {
    this.zoom = null;
    if (!this.showOverview()) return this.load();
  }

  dispose(): void {
    this.controller?.abort();
  }
}
