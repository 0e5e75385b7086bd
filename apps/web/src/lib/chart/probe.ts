import type { ChartProbe, CompareProbe } from './types';

export type { ChartProbe, CompareProbe };

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
