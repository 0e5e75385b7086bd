import { api, ApiError, type XAxis } from '$lib/api';
import { appendEnvelope, emptyEnvelope, toEnvelope, type Envelope } from '$lib/chart/envelope';
import { handleError } from './toasts.svelte';

/**
 * The downsampled data behind one chart. It asks for as many buckets as the chart has pixels,
 * re-asks when zoomed, and while a run is live fetches only the steps after the last it has.
 * With a reference experiment, the reference's curve of the same metric is read alongside at
 * the same range and budget (step axis only: wall times of two runs do not line up).
 */
export class MetricSeries {
  envelope = $state.raw<Envelope>(emptyEnvelope());
  /** The reference's curve over the same range, or null when there is none to draw. */
  reference = $state.raw<Envelope | null>(null);
  zoom = $state<{ from: number; to: number } | null>(null);
  loading = $state(false);
  x = $state<XAxis>('step');
  referenceId: string | null = null;
  requests = 0;
  budget = 0;
  private controller: AbortController | null = null;
  private appending = false;

  constructor(
    readonly experimentId: string,
    readonly name: string,
  ) {}

  /** Full read of the visible range at `budget` buckets (the plot's width in pixels). */
  async load(budget: number): Promise<void> {
    this.budget = Math.max(1, Math.min(20_000, Math.round(budget)));
    this.controller?.abort();
    const controller = (this.controller = new AbortController());
    this.loading = true;
    const q = { name: this.name, budget: this.budget, from: this.zoom?.from, to: this.zoom?.to, x: this.x };
    const refId = this.x === 'step' ? this.referenceId : null;
    try {
      this.requests++;
      const [s, ref] = await Promise.all([
        api.series(this.experimentId, q, controller.signal),
        refId ? api.series(refId, q, controller.signal).catch(missing) : Promise.resolve(null),
      ]);
      if (controller.signal.aborted) return;
      this.envelope = toEnvelope(s);
      this.reference = ref && ref.pointCount > 0 ? toEnvelope(ref) : null;
    } catch (e) {
      handleError(e);
    } finally {
      if (this.controller === controller) this.loading = false;
    }
  }

  /** Live update: fetch only (known end, lastStep], keeping the current bucket width. */
  async extendTo(lastStep: number): Promise<void> {
    const e = this.envelope;
    if (this.x !== 'step' || this.zoom || this.loading || this.appending || e.xs.length === 0 || lastStep <= e.to) return;
    // After many appends, re-downsample so the chart keeps about one bucket per pixel.
    if (e.xs.length > 2 * this.budget) return this.load(this.budget);
    const from = e.to + 1;
    const budget = Math.max(1, Math.min(20_000, Math.ceil((lastStep - from + 1) / e.bucketWidth)));
    this.appending = true;
    try {
      this.requests++;
      const s = await api.series(this.experimentId, { name: this.name, budget, from, to: lastStep });
      if (this.envelope === e) this.envelope = appendEnvelope(e, toEnvelope(s));
    } catch (err) {
      handleError(err);
    } finally {
      this.appending = false;
    }
  }

  /** Wall time (epoch ms) for the x axis, or steps; the zoom does not carry over. */
  setX(x: XAxis): Promise<void> | void {
    if (x === this.x) return;
    this.x = x;
    this.zoom = null;
    if (this.budget > 0) return this.load(this.budget);
  }

  setReference(id: string | null): Promise<void> | void {
    if (id === this.referenceId) return;
    this.referenceId = id;
    if (this.budget > 0) return this.load(this.budget);
  }

  zoomTo(from: number, to: number): Promise<void> {
    this.zoom = { from: Math.floor(from), to: Math.ceil(to) };
    return this.load(this.budget);
  }

  resetZoom(): Promise<void> {
    this.zoom = null;
    return this.load(this.budget);
  }

  dispose(): void {
    this.controller?.abort();
  }
}

/** A reference without this metric simply has no curve to overlay. */
function missing(e: unknown): null {
  if (e instanceof ApiError && e.status === 404) return null;
  throw e;
}
