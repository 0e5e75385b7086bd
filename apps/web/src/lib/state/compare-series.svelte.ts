import { api, ApiError, type CompareResult, type XAxis } from '$lib/api';
import { toEnvelope, type Envelope } from '$lib/chart/envelope';
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

/**
 * The curves behind one overlaid compare chart. Unzoomed on the step axis it shows the page's
 * one compare read; a zoom re-asks the compare endpoint for this metric and range at the plot's
 * pixel width. On the wall-time axis each experiment's series is read with `x=time`.
 */
export class CompareSeries {
  lines = $state.raw<CompareLine[]>([]);
  zoom = $state<{ from: number; to: number } | null>(null);
  x = $state<XAxis>('step');
  loading = $state(false);
  requests = 0;
  /** The plot's width: the budget of this chart's own reads. */
  budget = 0;
  /** The budget the shown lines were read at (the page's read, or this chart's). */
  shownBudget = 0;
  private controller: AbortController | null = null;

  constructor(
    readonly name: string,
    private readonly ids: () => string[],
    private readonly referenceId: () => string | null,
  ) {}

  /** The page's read landed: use it unless this chart shows its own range or axis. */
  setOverview(result: CompareResult): void {
    if (this.zoom || this.x !== 'step') return;
    this.controller?.abort();
    this.shownBudget = result.budget;
    this.lines = linesOf(result, this.name);
  }

  async load(budget = this.budget): Promise<void> {
    this.budget = Math.max(1, Math.min(5000, Math.round(budget)));
    this.controller?.abort();
    const controller = (this.controller = new AbortController());
    const { signal } = controller;
    this.loading = true;
    try {
      this.requests++;
      let lines: CompareLine[];
      if (this.x === 'step') {
        const r = await api.compare(
          {
            ids: this.ids(),
            metrics: [this.name],
            budget: this.budget,
            from: this.zoom?.from,
            to: this.zoom?.to,
            referenceId: this.referenceId(),
          },
          signal,
        );
        lines = linesOf(r, this.name);
      } else {
        const q = { name: this.name, budget: this.budget, x: 'time' as const, from: this.zoom?.from, to: this.zoom?.to };
        const all = await Promise.all(
          this.ids().map((id) =>
            api.series(id, q, signal).then(
              (s) => ({ id, envelope: toEnvelope(s) }),
              (e: unknown) => {
                if (e instanceof ApiError && e.status === 404) return null;
                throw e;
              },
            ),
          ),
        );
        lines = all.filter((l): l is CompareLine => l !== null);
      }
      if (!signal.aborted) {
        this.shownBudget = this.budget;
        this.lines = lines;
      }
    } catch (e) {
      if (!signal.aborted) handleError(e);
    } finally {
      if (this.controller === controller) this.loading = false;
    }
  }

  setX(x: XAxis, overview: CompareResult | null): void {
    if (x === this.x) return;
    this.x = x;
    this.zoom = null;
    if (x === 'step' && overview) this.setOverview(overview);
    else void this.load();
  }

  zoomTo(from: number, to: number): Promise<void> {
    this.zoom = { from: Math.floor(from), to: Math.ceil(to) };
    return this.load();
  }

  resetZoom(overview: CompareResult | null): void {
    this.zoom = null;
    if (this.x === 'step' && overview) this.setOverview(overview);
    else void this.load();
  }

  dispose(): void {
    this.controller?.abort();
  }
}
