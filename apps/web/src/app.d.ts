// See https://svelte.dev/docs/kit/types#app.d.ts
import type { ChartProbe, CompareProbe } from '$lib/chart/probe';

declare global {
  namespace App {}
  interface Window {
    /** Plotted data of every mounted chart by metric name, read by browser tests and the bench. */
    __toraCharts?: Record<string, ChartProbe>;
    /** The compare page's overlaid charts by metric name. */
    __toraCompare?: Record<string, CompareProbe>;
  }
}

export {};
