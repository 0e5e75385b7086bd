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
  /**
   * Sum of the bucket's non-NaN values (their mean is sum / (count − nanCount)); NaN where a
   * merged window or block had no stored sum: band reads decode such blocks instead.
   */
  readonly sum: Float64Array;
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
    /**
     * `steps` (default): x is the step, window summaries apply. `points`: x is not the step (wall
     * time), every point is added. `continuous`: as `points`, for an axis whose values need not be
     * whole numbers (a metric, seconds): buckets are exactly (to − from) / budget wide.
     */
    mode: 'steps' | 'points' | 'continuous' = 'steps',
  ) {
    const raw = mode === 'continuous' ? (to - from) / budget : (to - from + 1) / budget;
    // Wide buckets are whole, aligned windows, so window summaries fall wholly in one bucket.
    this.windowed = mode === 'steps' && raw >= WINDOW_STEPS;
    if (this.windowed) {
      this.start = Math.floor(from / WINDOW_STEPS) * WINDOW_STEPS;
      this.width = Math.ceil((to - this.start + 1) / budget / WINDOW_STEPS) * WINDOW_STEPS;
      this.fullFrom = Math.ceil(from / WINDOW_STEPS) * WINDOW_STEPS;
      this.fullTo = Math.floor((to + 1) / WINDOW_STEPS) * WINDOW_STEPS - 1;
    } else {
      this.start = from;
      this.width = mode === 'continuous' ? raw || 1 : Math.max(raw, 1);
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
    this.sum = make(0);
  }

  bucketOf(step: number): number {
    return Math.min(Math.floor((step - this.start) / this.width), this.budget - 1);
  }

  /** Whether the window starting at step `start` lies whole inside one bucket, so its summary can be merged. */
  mergeable(start: number): boolean {
    return start >= this.fullFrom && start + WINDOW_STEPS - 1 <= this.fullTo;
  }

  /**
   * Merges the summaries of the mergeable windows (with their sums, when stored; else the
   * bucket's sum becomes NaN). Returns whether every window was merged, i.e. no point of the
   * block needs decoding.
   */
  addWindows(windows: Float64Array, sums: Float64Array | null = null): boolean {
    let all = true;
    for (let o = 0; o < windows.length; o += W_FIELDS) {
      const start = windows[o + W.start]!;
      if (!this.mergeable(start)) {
        all = false;
        continue;
      }
      const k = this.bucketOf(start);
      this.count[k]! += windows[o + W.count]!;
      this.sum[k]! += sums ? sums[o / W_FIELDS]! : NaN;
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
    return all;
  }

  /** Whether a whole block falls inside one bucket, so its summary can stand for its points. */
  fitsOneBucket(b: BlockSummary): boolean {
    return b.step_min >= this.from && b.step_max <= this.to && this.bucketOf(b.step_min) === this.bucketOf(b.step_max);
  }

  /** Adds a block that fits one bucket; `sum` is its non-NaN values' sum, NaN when not known. */
  addSummary(b: BlockSummary, sum = NaN): void {
    const k = this.bucketOf(b.step_min);
    this.count[k]! += b.point_count;
    this.sum[k]! += sum;
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

  /** Adds points in [from, to]; with `skipWindowed`, those inside mergeable windows (merged by addWindows) are left out. */
  addPoints(p: Points, skipWindowed = false): void {
    const { steps, values } = p;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      if (s < this.from || s > this.to) continue;
      if (skipWindowed && this.mergeable(Math.floor(s / WINDOW_STEPS) * WINDOW_STEPS)) continue;
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
      this.sum[k]! += v;
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

/**
 * A Bucketer whose buckets are given step ranges of unequal width: bucket k holds the steps in
 * [edges[k], edges[k+1]). An axis other than the step (a non-decreasing metric such as tokens)
 * maps its equal-width buckets to such ranges; window summaries still merge wherever a window
 * falls inside one range, so extremes stay exact and only points near the edges are decoded.
 * Steps are whole numbers.
 */
export class StepRangeBucketer extends Bucketer {
  override readonly windowed = true;

  constructor(readonly edges: Float64Array) {
    super(edges[0]!, edges[edges.length - 1]! - 1, edges.length - 1, 'points');
  }

  override bucketOf(step: number): number {
    // The last k with edges[k] <= step: an empty range (equal edges) is skipped over.
    let lo = 0;
    let hi = this.budget - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.edges[mid]! <= step) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  override mergeable(start: number): boolean {
    const end = start + WINDOW_STEPS - 1;
    return start >= this.from && end <= this.to && this.bucketOf(start) === this.bucketOf(end);
  }
}
