// What the web app publishes on window for tests, typed by the app's own definitions.
import type { ChartProbe, CompareProbe } from '../../apps/web/src/lib/chart/types.ts';

declare global {
  interface Window {
    __toraCharts?: Record<string, ChartProbe>;
    __toraCompare?: Record<string, CompareProbe>;
    /** Band charts (BandChart.svelte) by metric: each group's mean line and band as drawn. */
    __toraBands?: Record<string, BandProbe>;
  }
}

interface BandProbe {
  x: string;
  spread: string;
  referenceId: string | null;
  groups: {
    id: string;
    label: string;
    n: number;
    /** Runs drawn faint behind the band (0 unless asked for). */
    runs: number;
    lines: (number | null)[];
    mins: (number | null)[];
    maxs: (number | null)[];
  }[];
}

export {};
