import type { BlockSummary, Points } from './blocks.js';
import { WINDOW_STEPS, W, W_FIELDS } from './windows.js';

/**
 * Downsamples a series into `budget` equal step ranges, keeping per bucket the first and last
 * point, the min and max (with their steps) and the NaN count: what a chart needs to draw an
 * envelope in which no spike, dip or NaN can disappear, whatever the zoom.
 */
export class Bucketer {
  readonly count: Float64Array;
  readonly firstStep: Float64Array;
  readonly firstValue: Float64Array;
  readonly lastStep: Float64Array;
  readonly lastValue: Float64Array;
  readonly minStep: Float64Array;
  readonly minValue: Float64Array;
  readonly maxStep: Float64Array;
  readonly maxValue: Float64Array;
  readonly nanCount: Float64Array;
  readonly firstNanStep: Float64Array;
  /** Step where bucket 0 starts (≤ from) and the width of every bucket, in steps. */
  readonly start: number;
  readonly width: number;
  /** Steps in [fullFrom, fullTo] are covered by whole windows, whose summaries can be merged. */
  readonly windowed: boolean;
  readonly fullFrom: number;
  readonly fullTo: number;

  constructor(
    readonly from: number,
    readonly to: number,
    readonly budget: number,
    /** false when x is not the step (time buckets): window summaries do not apply. */
    useWindows = true,
  ) {
    const raw = (to - from + 1) / budget;
    // Wide buckets are whole, aligned windows, so window summaries fall wholly in one bucket.
    this.windowed = useWindows && raw >= WINDOW_STEPS;
    if (this.windowed) {
      this.start = Math.floor(from / WINDOW_STEPS) * WINDOW_STEPS;
      this.width = Math.ceil((to - this.start + 1) / budget / WINDOW_STEPS) * WINDOW_STEPS;
      this.fullFrom = Math.ceil(from / WINDOW_STEPS) * WINDOW_STEPS;
      this.fullTo = Math.floor((to + 1) / WINDOW_STEPS) * WINDOW_STEPS - 1;
    } else {
      this.start = from;
      this.width = Math.max(raw, 1);
      this.fullFrom = Infinity;
      this.fullTo = -Infinity;
    }
    const make = (fill: number): Float64Array => new Float64Array(budget).fill(fill);
    this.count = make(0);
    this.firstStep = make(Infinity);
    this.firstValue = make(NaN);
    this.lastStep = make(-Infinity);
    this.lastValue = make(NaN);
    this.minStep = make(NaN);
    this.minValue = make(Infinity);
    this.maxStep = make(NaN);
    this.maxValue = make(-Infinity);
    this.nanCount = make(0);
    this.firstNanStep = make(NaN);
  }

  bucketOf(step: number): number {
    return Math.min(Math.floor((step - this.start) / this.width), this.budget - 1);
  }

  /** Merges the summaries of the whole windows inside [fullFrom, fullTo]. */
  addWindows(windows: Float64Array): void {
    for (let o = 0; o < windows.length; o += W_FIELDS) {
      const start = windows[o + W.start]!;
      if (start < this.fullFrom || start + WINDOW_STEPS - 1 > this.fullTo) continue;
      const k = this.bucketOf(start);
      this.count[k]! += windows[o + W.count]!;
      if (windows[o + W.firstStep]! < this.firstStep[k]!) {
        this.firstStep[k] = windows[o + W.firstStep]!;
        this.firstValue[k] = windows[o + W.firstValue]!;
      }
      if (windows[o + W.lastStep]! >= this.lastStep[k]!) {
        this.lastStep[k] = windows[o + W.lastStep]!;
        this.lastValue[k] = windows[o + W.lastValue]!;
      }
      const minStep = windows[o + W.minStep]!;
      if (!Number.isNaN(minStep) && (windows[o + W.minValue]! < this.minValue[k]! || Number.isNaN(this.minStep[k]!))) {
        this.minValue[k] = windows[o + W.minValue]!;
        this.minStep[k] = minStep;
      }
      const maxStep = windows[o + W.maxStep]!;
      if (!Number.isNaN(maxStep) && (windows[o + W.maxValue]! > this.maxValue[k]! || Number.isNaN(this.maxStep[k]!))) {
        this.maxValue[k] = windows[o + W.maxValue]!;
        this.maxStep[k] = maxStep;
      }
      const nans = windows[o + W.nanCount]!;
      if (nans > 0) {
        this.nanCount[k]! += nans;
        const nanStep = windows[o + W.firstNanStep]!;
        if (!(nanStep >= this.firstNanStep[k]!)) this.firstNanStep[k] = nanStep;
      }
    }
  }

  /** Whether a whole block falls inside one bucket, so its summary can stand for its points. */
  fitsOneBucket(b: BlockSummary): boolean {
    return b.step_min >= this.from && b.step_max <= this.to && this.bucketOf(b.step_min) === this.bucketOf(b.step_max);
  }

  addSummary(b: BlockSummary): void {
    const k = this.bucketOf(b.step_min);
    this.count[k]! += b.point_count;
    if (b.first_step < this.firstStep[k]!) {
      this.firstStep[k] = b.first_step;
      this.firstValue[k] = b.first_value ?? NaN;
    }
    if (b.last_step >= this.lastStep[k]!) {
      this.lastStep[k] = b.last_step;
      this.lastValue[k] = b.last_value ?? NaN;
    }
    if (b.min_value !== null && (b.min_value < this.minValue[k]! || Number.isNaN(this.minStep[k]!))) {
      this.minValue[k] = b.min_value;
      this.minStep[k] = b.min_step ?? NaN;
    }
    if (b.max_value !== null && (b.max_value > this.maxValue[k]! || Number.isNaN(this.maxStep[k]!))) {
      this.maxValue[k] = b.max_value;
      this.maxStep[k] = b.max_step ?? NaN;
    }
    if (b.nan_count > 0) {
      this.nanCount[k]! += b.nan_count;
      // The exact step of the first NaN is not in the summary; the block's range bounds it.
      if (Number.isNaN(this.firstNanStep[k]!) || b.step_min < this.firstNanStep[k]!) this.firstNanStep[k] = b.step_min;
    }
  }

  /** Adds points in [from, to]; with `skipWindowed`, those inside whole windows (merged by addWindows) are left out. */
  addPoints(p: Points, skipWindowed = false): void {
    const { steps, values } = p;
    const skipFrom = skipWindowed ? this.fullFrom : Infinity;
    const skipTo = skipWindowed ? this.fullTo : -Infinity;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      if (s < this.from || s > this.to || (s >= skipFrom && s <= skipTo)) continue;
      const v = values[i]!;
      const k = this.bucketOf(s);
      this.count[k]!++;
      if (s < this.firstStep[k]!) {
        this.firstStep[k] = s;
        this.firstValue[k] = v;
      }
      if (s >= this.lastStep[k]!) {
        this.lastStep[k] = s;
        this.lastValue[k] = v;
      }
      if (v !== v) {
        this.nanCount[k]!++;
        if (!(s >= this.firstNanStep[k]!)) this.firstNanStep[k] = s;
        continue;
      }
      if (v < this.minValue[k]! || Number.isNaN(this.minStep[k]!)) {
        this.minValue[k] = v;
        this.minStep[k] = s;
      }
      if (v > this.maxValue[k]! || Number.isNaN(this.maxStep[k]!)) {
        this.maxValue[k] = v;
        this.maxStep[k] = s;
      }
    }
  }
}
