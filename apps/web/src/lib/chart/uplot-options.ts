import uPlot from 'uplot';
import type { Envelope } from './envelope';

export interface ChartColors {
  line: string;
  band: string;
  axis: string;
  grid: string;
  marker: string;
}

/** Reads the chart colours of the current theme from CSS custom properties. */
export function themeColors(el: Element): ChartColors {
  const css = getComputedStyle(el);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    line: v('--chart-line'),
    band: v('--chart-band'),
    axis: v('--text-muted'),
    grid: v('--border'),
    marker: v('--danger'),
  };
}

/** One curve on a chart: an experiment's envelope (band + line) or a dashed reference line. */
export interface Layer {
  /** The experiment it draws, where the chart can hide it (legend toggles); also what tells layers apart. */
  id?: string;
  label: string;
  color: string;
  /** Fill of the min–max band; null draws the line only. */
  band: string | null;
  dash?: number[];
  envelope: Envelope;
}

/**
 * A hovered x and, for each layer with data there, the bucket under it: the drawn line's value
 * there (after smoothing) and the bucket's true min and max.
 */
export interface Hovered {
  x: number;
  /** Where the cursor is across the plot, 0 (left edge) to 1: a readout goes on the other side. */
  across: number;
  values: { layer: Layer; value: number | null | undefined; min: number | null; max: number | null; count: number }[];
}

/** At most this many drawn values on a curve and it gets a dot at each. */
const SPARSE_POINTS = 40;

/**
 * A curve too sparse for a line to show (a single point draws nothing; a few points far apart
 * look like stray strokes) gets dots at its points as well. Decided on each draw, from the data
 * in view, so a live run's curve drops its dots once it fills in.
 */
function sparsePoints(u: uPlot, si: number): boolean {
  const ys = u.data[si] ?? [];
  let n = 0;
  for (const v of ys) if (v !== null && v !== undefined && ++n > SPARSE_POINTS) return false;
  return n > 0;
}

/**
 * Draws NaN (circle on the x axis) and ±Infinity (triangle at the top/bottom edge) markers:
 * values with no place on the y axis are still shown where they happened.
 */
function markersPlugin(getLayers: () => { color: string; envelope: Envelope; shown: boolean }[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          const r = 4 * devicePixelRatio;
          ctx.save();
          const xOf = (step: number) => u.valToPos(step, 'x', true);
          const visible = (x: number) => x >= left - r && x <= left + width + r;
          const tri = (x: number, y: number, dir: 1 | -1) => {
            ctx.beginPath();
            ctx.moveTo(x, y);
            ctx.lineTo(x - r, y + dir * 2 * r);
            ctx.lineTo(x + r, y + dir * 2 * r);
            ctx.fill();
          };
          for (const { color, envelope: e, shown } of getLayers()) {
            if (!shown) continue;
            ctx.fillStyle = color;
            for (const s of e.nanSteps) {
              const x = xOf(s);
              if (!visible(x)) continue;
              ctx.beginPath();
              ctx.arc(x, top + height - r, r, 0, 2 * Math.PI);
              ctx.fill();
            }
            for (const s of e.posInfSteps) if (visible(xOf(s))) tri(xOf(s), top, 1);
            for (const s of e.negInfSteps) if (visible(xOf(s))) tri(xOf(s), top + height, -1);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * Gives an empty plot the ranges its data will have (from the metric's summary), so its axes
 * take their room before the first read and the plot's width is already the budget to ask for.
 */
export function placeholderScales(u: uPlot, x: { min: number; max: number }, y: { min: number; max: number }): void {
  u.batch(() => {
    u.setScale('x', x.max > x.min ? x : { min: x.min - 1, max: x.min + 1 });
    u.setScale('y', y.max > y.min ? y : { min: y.min - 1, max: y.min + 1 });
  });
}

/**
 * All layers on one x axis: each layer's line through its M4 points (`pointXs`), its band the
 * min and max of each point's bucket. uPlot.join aligns the layers' points; alignment holes are
 * `undefined` (lines run across them) while real gaps stay `null`.
 */
export function layerData(
  layers: Layer[],
  transform: (layer: Layer) => { maxs: (number | null)[]; line: (number | null)[]; mins: (number | null)[] },
): uPlot.AlignedData {
  const tables = layers.map((l) => {
    const t = transform(l);
    const bs = l.envelope.pointBuckets;
    return [l.envelope.pointXs, bs.map((k) => t.maxs[k] ?? null), t.line, bs.map((k) => t.mins[k] ?? null)] as uPlot.AlignedData;
  });
  if (tables.length === 0) return [[]];
  if (tables.length === 1) return tables[0]!;
  return uPlot.join(tables);
}

/**
 * Y tick labels: short, but distinct where uPlot's default would print 0.001 three times.
 * On a log axis uPlot passes null for the splits it filters out (no label there).
 */
function tick(v: number | null): string {
  if (v === null) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
}

export function chartOptions(opts: {
  width: number;
  height: number;
  logY: boolean;
  /** x holds epoch milliseconds (wall time) instead of steps. */
  xTime?: boolean;
  colors: ChartColors;
  layers: Layer[];
  /** The current layers, for the markers plugin (data changes without rebuilding the plot). */
  getLayers: () => Layer[];
  /** Layers the user has hidden (legend toggles). */
  hidden?: () => ReadonlySet<number>;
  onZoom: (from: number, to: number) => void;
  onHover: (idx: number | null) => void;
  /** The plot area's width in CSS pixels, after every layout: the chart's point budget. */
  onPlotWidth: (px: number) => void;
  /** After each completed draw (a throwing axis or series never gets here). */
  onDraw?: () => void;
}): uPlot.Options {
  // Until both scales have a range uPlot hides the axes, and the plot is wider than it will be:
  // a budget read from that width would be re-read once data is in (two fetches per chart).
  const plotWidth = (u: uPlot) => {
    if (u.scales.x?.min == null || u.scales.y?.min == null) return;
    opts.onPlotWidth(Math.round(u.bbox.width / uPlot.pxRatio));
  };
  const { colors } = opts;
  const axis = { stroke: colors.axis, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid, width: 1 } };
  return {
    width: opts.width,
    height: opts.height,
    legend: { show: false },
    ms: 1,
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
    scales: { x: { time: opts.xTime ?? false }, y: opts.logY ? { distr: 3 } : {} },
    axes: [opts.xTime ? { ...axis, space: 70 } : axis, { ...axis, size: 62, values: (_u, splits) => splits.map(tick) }],
    series: [
      { label: opts.xTime ? 'time' : 'step' },
      ...opts.layers.flatMap((l, i): uPlot.Series[] => {
        const show = !(opts.hidden?.().has(i) ?? false);
        return [
          { label: `${l.label} max`, stroke: 'transparent', points: { show: false }, show },
          {
            label: l.label,
            stroke: l.color,
            width: 1.5,
            dash: l.dash,
            points: { show: sparsePoints, size: 7, fill: l.color, stroke: l.color },
            spanGaps: false,
            show,
          },
          { label: `${l.label} min`, stroke: 'transparent', points: { show: false }, show },
        ];
      }),
    ],
    bands: opts.layers.flatMap((l, i) => (l.band ? [{ series: [1 + 3 * i, 3 + 3 * i] as [number, number], fill: l.band }] : [])),
    plugins: [
      markersPlugin(() => {
        const hidden = opts.hidden?.();
        return opts.getLayers().map((l, i) => ({
          color: opts.layers.length === 1 ? colors.marker : l.color,
          envelope: l.envelope,
          shown: !hidden?.has(i),
        }));
      }),
    ],
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width < 4) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          opts.onZoom(from, to);
        },
      ],
      setCursor: [(u) => opts.onHover(u.cursor.idx ?? null)],
      ready: [plotWidth],
      setSize: [plotWidth],
      draw: [
        (u) => {
          plotWidth(u);
          opts.onDraw?.();
        },
      ],
    },
  };
}
