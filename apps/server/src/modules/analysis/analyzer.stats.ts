/** Small statistics helpers for the analyzer; pure and allocation-light. */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  // A typed array sorts numerically without a comparator callback: several times faster, and the
  // analyzer takes thousands of medians per metric.
  const s = Float64Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median absolute deviation scaled to a normal standard deviation. */
export function mad(xs: readonly number[], center = median(xs)): number {
  return 1.4826 * median(xs.map((x) => Math.abs(x - center)));
}

/** Average ranks (ties share their mean rank), 1-based. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]![1]] = rank;
    i = j + 1;
  }
  return out;
}

function pearson(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/**
 * Spearman's rank correlation.
 *
 * @example
 *   spearman([1, 2, 3], [10, 20, 30]); // 1
 */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  return pearson(ranks(xs), ranks(ys));
}

/** Share of the variance of `ys` explained by the groups `keys` (η², 0..1). */
export function varianceExplained(keys: readonly string[], ys: readonly number[]): number {
  const n = ys.length;
  const mean = ys.reduce((a, b) => a + b, 0) / n;
  const total = ys.reduce((a, y) => a + (y - mean) ** 2, 0);
  if (total === 0) return NaN;
  const groups = new Map<string, number[]>();
  keys.forEach((k, i) => groups.set(k, [...(groups.get(k) ?? []), ys[i]!]));
  let between = 0;
  for (const g of groups.values()) {
    const m = g.reduce((a, b) => a + b, 0) / g.length;
    between += g.length * (m - mean) ** 2;
  }
  return between / total;
}

/**
 * Centered rolling median over `2h + 1` points (fewer at the ends), O(n·h) with a sorted window:
 * the level of a noisy curve, unmoved by single outliers.
 *
 * @example
 *   rollingMedian([1, 9, 1, 1, 1], 1); // [5, 1, 1, 1, 1]
 */
export function rollingMedian(xs: readonly number[], h: number): number[] {
  const n = xs.length;
  const window: number[] = [];
  const insert = (v: number): void => {
    let lo = 0;
    let hi = window.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (window[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    window.splice(lo, 0, v);
  };
  const remove = (v: number): void => {
    let lo = 0;
    let hi = window.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (window[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    window.splice(lo, 1);
  };
  const out = new Array<number>(n);
  for (let j = 0; j < Math.min(n, h); j++) insert(xs[j]!);
  for (let i = 0; i < n; i++) {
    if (i + h < n) insert(xs[i + h]!);
    if (i - h - 1 >= 0) remove(xs[i - h - 1]!);
    const m = window.length >> 1;
    out[i] = window.length % 2 ? window[m]! : (window[m - 1]! + window[m]!) / 2;
  }
  return out;
}
