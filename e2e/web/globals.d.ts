// What the web app publishes on window for tests, typed by the app's own definitions.
import type { ChartProbe, CompareProbe } from '../../apps/web/src/lib/chart/types.ts';

declare global {
  interface Window {
    __toraCharts?: Record<string, ChartProbe>;
    __toraCompare?: Record<string, CompareProbe>;
  }
}

export {};
