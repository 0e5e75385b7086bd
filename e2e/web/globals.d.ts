// What the web app exposes for tests (see apps/web/src/lib/chart/probe.ts).
interface ToraChartProbe {
  name: string;
  xs: number[];
  mins: (number | null)[];
  maxs: (number | null)[];
  lines: (number | null)[];
  firstSteps: number[];
  lastSteps: number[];
  counts: number[];
  nanSteps: number[];
  posInfSteps: number[];
  negInfSteps: number[];
  from: number;
  to: number;
  budget: number;
  pointCount: number;
  requests: number;
  drawnAt: number;
  zoomed: boolean;
  logY: boolean;
}
interface Window {
  __toraCharts?: Record<string, ToraChartProbe>;
}
