/**
 * The shapes of chart data that leave the app: what charts draw (Envelope) and what they publish
 * on `window` for browser tests and the bench (probes). No imports, so the e2e tests and the
 * bench type-check against this very file instead of a copy.
 */

/**
 * One metric as a chart draws it: per server bucket an x (step), the finite min and max (the
 * envelope, so a one-step spike or dip is never averaged away), a readout value (mean of the
 * bucket's first and last point) and the steps where NaN or ±Infinity occur (drawn as markers,
 * since they have no place on a numeric axis).
 *
 * The line itself is drawn through `pointXs`/`points`: each bucket's first, min, max and last
 * points at their own steps, in step order (M4), so it reaches every extreme at any zoom instead
 * of passing through a bucket average. `pointBuckets` names each point's bucket (for hovers).
 */
export interface Envelope {
  xs: number[];
  mins: (number | null)[];
  maxs: (number | null)[];
  lines: (number | null)[];
  pointXs: number[];
  points: (number | null)[];
  pointBuckets: number[];
  firstSteps: number[];
  lastSteps: number[];
  counts: number[];
  nanSteps: number[];
  posInfSteps: number[];
  negInfSteps: number[];
  from: number;
  to: number;
  bucketWidth: number;
  pointCount: number;
}

/** What tests and the bench read from `window.__toraCharts[metric]`: the plotted values, not pixels. */
export interface ChartProbe extends Envelope {
  name: string;
  budget: number;
  /** How many series requests this chart has made (live updates add small ones). */
  requests: number;
  /** Completed draws of the plot (a draw that throws does not count). */
  draws: number;
  /** performance.now() when the chart last drew. */
  drawnAt: number;
  logY: boolean;
  zoomed: boolean;
  /** "time": xs, from/to and the *Steps arrays are epoch milliseconds. */
  /** step, time, relative or metric:<name>. */
  x: string;
  /** The reference drawn dashed on this chart, if any, and its plotted line. */
  referenceId: string | null;
  refXs: number[];
  refLines: (number | null)[];
  refDashed: boolean;
  /** What uPlot was handed for this metric's line (x and y arrays, after smoothing and log) and its y range. */
  plotted: { xs: number[]; ys: (number | null | undefined)[]; yMin: number | null; yMax: number | null };
}

/** What the compare page publishes at `window.__toraCompare[metric]`. */
export interface CompareProbe {
  name: string;
  from: number;
  to: number;
  zoomed: boolean;
  requests: number;
  budget: number;
  /** Completed draws of the plot (a draw that throws does not count). */
  draws: number;
  /** step, time, relative or metric:<name>. */
  x: string;
  experiments: {
    id: string;
    name: string;
    color: string;
    shown: boolean;
    xs: number[];
    lines: (number | null)[];
    /** The line's points (M4: each bucket's first, min, max and last) and their xs. */
    pointXs: number[];
    points: (number | null)[];
    /** The line as drawn: `points` after the page's smoothing. */
    drawn: (number | null)[];
    mins: (number | null)[];
    maxs: (number | null)[];
    counts: number[];
  }[];
}
