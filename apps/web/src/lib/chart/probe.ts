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
  /** "time": xs, from/to and the *Steps arrays are epoch milliseconds. */
  x: 'step' | 'time';
  /** The reference drawn dashed on this chart, if any, and its plotted line. */
  referenceId: string | null;
  refXs: number[];
  refLines: (number | null)[];
  refDashed: boolean;
}

/** What the compare page publishes at `window.__toraCompare[metric]`. */
export interface CompareProbe {
  name: string;
  from: number;
  to: number;
  zoomed: boolean;
  requests: number;
  budget: number;
  x: 'step' | 'time';
  experiments: {
    id: string;
    name: string;
    color: string;
    shown: boolean;
    xs: number[];
    lines: (number | null)[];
    mins: (number | null)[];
    maxs: (number | null)[];
    counts: number[];
  }[];
}

export function publishCompareProbe(probe: CompareProbe): void {
  (window.__toraCompare ??= {})[probe.name] = probe;
}

export function removeCompareProbe(name: string): void {
  if (window.__toraCompare) delete window.__toraCompare[name];
}

export function publishProbe(probe: ChartProbe): void {
  (window.__toraCharts ??= {})[probe.name] = probe;
}

export function removeProbe(name: string): void {
  if (window.__toraCharts) delete window.__toraCharts[name];
}
