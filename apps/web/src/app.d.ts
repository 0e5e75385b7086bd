// See https://svelte.dev/docs/kit/types#app.d.ts
import type { ChartProbe } from '$lib/chart/probe';

declare global {
  namespace App {}
  interface Window {
    /** Plotted data of every mounted chart by metric name, read by browser tests and the bench. */
    __toraCharts?: Record<string, ChartProbe>;
  }
}

export {};
