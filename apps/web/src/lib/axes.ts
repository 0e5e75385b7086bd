import type { XAxis } from '$lib/api';

/**
 * Metrics that count progress rather than measure it: offered as one-click x-axes, not drawn as
 * charts of their own (a straight rising line says nothing a step axis does not).
 */
export const EPOCH_LIKE = ['epoch', 'train/epoch', 'trainer/global_step'] as const;

export const isEpochLike = (name: string): boolean => (EPOCH_LIKE as readonly string[]).includes(name);

export const METRIC_AXIS = 'metric:';

/** The axis named in a URL's `x` (step when absent or not an axis). */
export function axisFromUrl(raw: string | null): XAxis {
  if (raw === 'time' || raw === 'relative') return raw;
  if (raw?.startsWith(METRIC_AXIS) && raw.length > METRIC_AXIS.length) return raw;
  return 'step';
}

/** What an axis is called under a chart: "step", "wall time", "seconds since start", or the metric's name. */
export function axisLabel(x: XAxis): string {
  if (x === 'time') return 'wall time';
  if (x === 'relative') return 'seconds since start';
  if (x.startsWith(METRIC_AXIS)) return x.slice(METRIC_AXIS.length);
  return 'step';
}

/** The URL search with `x` set (dropped for the default, step), other parameters kept. */
export function withAxis(search: string, x: XAxis): string {
  const params = new URLSearchParams(search);
  if (x === 'step') params.delete('x');
  else params.set('x', x);
  const s = params.toString();
  return s ? `?${s}` : '';
}
