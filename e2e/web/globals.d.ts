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
  x: 'step' | 'time';
  referenceId: string | null;
  refXs: number[];
  refLines: (number | null)[];
  refDashed: boolean;
}
interface ToraCompareProbe {
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
interface Window {
  __toraCharts?: Record<string, ToraChartProbe>;
  __toraCompare?: Record<string, ToraCompareProbe>;
}
