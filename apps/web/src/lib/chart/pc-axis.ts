/**
 * A numeric parallel-coordinates axis: log when every value is positive and they span more
 * than two decades (learning rates, weight decays), else linear. `at` maps a value to 0 (bottom)
 * .. 1 (top); `ticks` are the ends, plus each power of ten between them on a log axis.
 *
 * @example numericAxis([1e-4, 3e-3, 0.1]).log // true
 */
export function numericAxis(values: number[]): { log: boolean; at: (v: number) => number; ticks: number[] } {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const log = lo > 0 && hi / lo > 100;
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const f = (v: number) => (log ? Math.log10(v) : v);
  const at = (v: number) => (f(v) - f(lo)) / (f(hi) - f(lo) || 1);
  const ticks = [lo];
  if (log) for (let e = Math.ceil(Math.log10(lo)); 10 ** e < hi; e++) if (10 ** e > lo) ticks.push(10 ** e);
  ticks.push(hi);
  return { log, at, ticks };
}
