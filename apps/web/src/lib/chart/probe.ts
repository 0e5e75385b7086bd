import type { Envelope } from './envelope';

/** What tests and the bench read from `window.__toraCharts[metric]`: the plotted values, not pixels. */
export interface ChartProbe extends Envelope {
  name: string;
  budget: number;
  /** How many series requests this chart has made (live updates add small ones). */
  requests: number;
  /** performance.now() when the chart last drew. */
  drawnAt: number;
  logY: boolean;
  zoomed: boolean;
}

export function publishProbe(probe: ChartProbe): void {
  (window.__toraCharts ??= {})[probe.name] = probe;
}

export function removeProbe(name: string): void {
  if (window.__toraCharts) delete window.__toraCharts[name];
}
