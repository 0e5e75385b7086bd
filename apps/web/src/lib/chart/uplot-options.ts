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

/**
 * Draws NaN (circle on the x axis) and ±Infinity (triangle at the top/bottom edge) markers:
 * values with no place on the y axis are still shown where they happened.
 */
function markersPlugin(getEnvelope: () => Envelope, color: string): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const e = getEnvelope();
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          const r = 4 * devicePixelRatio;
          ctx.save();
          ctx.fillStyle = color;
          const xOf = (step: number) => u.valToPos(step, 'x', true);
          const visible = (x: number) => x >= left - r && x <= left + width + r;
          for (const s of e.nanSteps) {
            const x = xOf(s);
            if (!visible(x)) continue;
            ctx.beginPath();
            ctx.arc(x, top + height - r, r, 0, 2 * Math.PI);
            ctx.fill();
          }
          const tri = (x: number, y: number, dir: 1 | -1) => {
            ctx.beginPath();
            ctx.moveTo(x, y);
            ctx.lineTo(x - r, y + dir * 2 * r);
            ctx.lineTo(x + r, y + dir * 2 * r);
            ctx.fill();
          };
          for (const s of e.posInfSteps) if (visible(xOf(s))) tri(xOf(s), top, 1);
          for (const s of e.negInfSteps) if (visible(xOf(s))) tri(xOf(s), top + height, -1);
          ctx.restore();
        },
      ],
    },
  };
}

/** Y tick labels: short, but distinct where uPlot's default would print 0.001 three times. */
function tick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
}

export function chartOptions(opts: {
  width: number;
  height: number;
  logY: boolean;
  colors: ChartColors;
  getEnvelope: () => Envelope;
  onZoom: (from: number, to: number) => void;
  onHover: (idx: number | null) => void;
  /** The plot area's width in CSS pixels, after every layout: the chart's point budget. */
  onPlotWidth: (px: number) => void;
}): uPlot.Options {
  const plotWidth = (u: uPlot) => opts.onPlotWidth(Math.round(u.bbox.width / uPlot.pxRatio));
  const { colors } = opts;
  const axis = { stroke: colors.axis, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid, width: 1 } };
  return {
    width: opts.width,
    height: opts.height,
    legend: { show: false },
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
    scales: { x: { time: false }, y: opts.logY ? { distr: 3 } : {} },
    axes: [axis, { ...axis, size: 56, values: (_u, splits) => splits.map(tick) }],
    series: [
      { label: 'step' },
      { label: 'max', stroke: 'transparent', points: { show: false } },
      { label: 'value', stroke: colors.line, width: 1.5, points: { show: false }, spanGaps: false },
      { label: 'min', stroke: 'transparent', points: { show: false } },
    ],
    bands: [{ series: [1, 3], fill: colors.band }],
    plugins: [markersPlugin(opts.getEnvelope, colors.marker)],
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
    },
  };
}
