import { api, type CompareResult, type XAxis } from '$lib/api';
import { appendEnvelope, toEnvelope, type Envelope } from '$lib/chart/envelope';
import { handleError } from './toasts.svelte';

export interface CompareLine {
  id: string;
  envelope: Envelope;
}

/** One metric's curves from a compare response, in the order of the experiments asked. */
export function linesOf(result: CompareResult, metric: string): CompareLine[] {
  return result.experiments.flatMap((e) => {
    const m = e.metrics.find((x) => x.name === metric);
    return m ? [{ id: e.id, envelope: toEnvelope(m.series) }] : [];
  });
}

/** The x-axis a compare response was bucketed on (each series says so; absent means steps). */
export function axisOf(result: CompareResult): XAxis {
  for (const e of result.experiments) for (const m of e.metrics) return m.series.x ?? 'step';
  return 'step';
}

/**
 * The curves behind one overlaid compare chart. Unzoomed it shows the page's compare read for
 * its axis (steps, or wall time); a zoom re-asks the compare endpoint for this metric and range,
 * on the same axis, at the plot's pixel width.
 */
export class CompareSeries {
  lines = $state.raw<CompareLine[]>([]);
  zoom = $state<{ from: number; to: number } | null>(null);
  /** The axis asked for; `shownX` is the axis of the lines on screen until the new read lands. */
  x = $state<XAxis>('step');
  shownX = $state<XAxis>('step');
  loading = $state(false);
  requests = 0;
  /** The plot's width: the budget of this chart's own reads. */
  budget = 0;
  /** The budget the shown lines were read at (the page's read, or this chart's). */
  shownBudget = 0;
  private controller: AbortController | null = null;
  private appending = false;

  constructor(
    readonly name: string,
    private readonly ids: () => string[],
    private readonly referenceId: () => string | null,
  ) {}

  /** The page's read for an axis landed: use it unless this chart shows its own range or another axis. */
  setOverview(result: CompareResult): void {
    if (this.zoom || axisOf(result) !== this.x) return;
    this.controller?.abort();
    this.shownBudget = result.budget;
    this.shownX = this.x;
    this.lines = linesOf(result, this.name);
  }

  async load(budget = this.budget): Promise<void> {
    this.budget = Math.max(1, Math.min(5000, Math.round(budget)));
    this.controller?.abort();
    const controller = (this.controller = new AbortController());
    const { signal } = controller;
    const x = this.x;
    this.loading = true;
    try {
      this.requests++;
      const r = await api.compare(
        {
          ids: this.ids(),
          metrics: [this.name],
          budget: this.budget,
          x,
          from: this.zoom?.from,
          to: this.zoom?.to,
          referenceId: this.referenceId(),
        },
        signal,
      );
      if (!signal.aborted) {
        this.shownBudget = this.budget;
        this.shownX = x;
        this.lines = linesOf(r, this.name);
      }
    } catch (e) {
      if (!signal.aborted) handleError(e);
    } finally {
      if (this.controller === controller) this.loading = false;
    }
  }

  /** Switches axis; the page's read for that axis (now or when it lands) fills the chart. */
  setX(x: XAxis, overview: CompareResult | null): void {
    if (x === this.x) return;
    this.x = x;
    this.zoom = null;
    this.controller?.abort();
    if (overview) this.setOverview(overview);
  }

  /**
   * Live update: reads only the steps after the last this chart holds, for every compared run
   * at once, and appends them (step axis, unzoomed). After many appends it re-reads in full so
   * the chart keeps about one bucket per pixel.
   */
  async extend(lastStep: number): Promise<void> {
    const lines = this.lines;
    if (this.x !== 'step' || this.shownX !== 'step' || this.zoom || this.loading || this.appending || lines.length === 0) return;
    const to = Math.max(...lines.map((l) => l.envelope.to));
    if (!(lastStep > to)) return;
    if (Math.max(...lines.map((l) => l.envelope.xs.length)) > 2 * Math.max(this.budget, this.shownBudget)) return this.load();
    const from = to + 1;
    const width = Math.max(...lines.map((l) => l.envelope.bucketWidth), 1);
    this.appending = true;
    try {
      this.requests++;
      const r = await api.compare({
        ids: this.ids(),
        metrics: [this.name],
        budget: Math.ceil((lastStep - from + 1) / width),
        from,
        to: lastStep,
        referenceId: this.referenceId(),
      });
      // A zoom, axis switch or full read since then wins over this append.
      if (this.lines !== lines) return;
      // A scratch lookup, local to this append.
      // eslint-disable-next-line svelte/prefer-svelte-reactivity
      const added = new Map(linesOf(r, this.name).map((l) => [l.id, l.envelope]));
      const extended = lines.map((l) => {
        const more = added.get(l.id);
        return more && more.xs.length > 0 ? { id: l.id, envelope: appendEnvelope(l.envelope, more) } : l;
      });
      // Every line now covers the same range, so the next append starts after `lastStep`.
      this.lines = extended.map((l) => ({ id: l.id, envelope: { ...l.envelope, to: Math.max(l.envelope.to, lastStep) } }));
    } catch {
      // The next poll retries.
    } finally {
      this.appending = false;
    }
  }

  zoomTo(from: number, to: number): Promise<void> {
    this.zoom = { from: Math.floor(from), to: Math.ceil(to) };
    return this.load();
  }

  resetZoom(overview: CompareResult | null): void {
    this.zoom = null;
    if (overview && axisOf(overview) === this.x) this.setOverview(overview);
    else void this.load();
  }

  dispose(): void {
    this.controller?.abort();
  }
}
