import type { XAxis } from '$lib/api';
import { axisFromUrl } from '$lib/axes';

/** A page's chart settings: kept in its URL (`x=time`, `x=metric:epoch`, `logy=1`, `smooth=0.6`) and remembered per browser. */
export interface ChartSettings {
  x: XAxis;
  logY: boolean;
  smoothing: number;
}

export const DEFAULT_CHART_SETTINGS: ChartSettings = { x: 'step', logY: false, smoothing: 0 };

const storageKey = (scope: string) => `tora.charts.${scope}`;

function valid(v: Partial<Record<keyof ChartSettings, unknown>>): Partial<ChartSettings> {
  const out: Partial<ChartSettings> = {};
  if (typeof v.x === 'string') out.x = axisFromUrl(v.x);
  if (typeof v.logY === 'boolean') out.logY = v.logY;
  if (typeof v.smoothing === 'number' && v.smoothing >= 0 && v.smoothing <= 0.99) out.smoothing = v.smoothing;
  return out;
}

/**
 * The settings a page opens with: what its URL says, else what this browser last used on such a
 * page, else the defaults.
 *
 * @example chartSettingsFrom(new URLSearchParams('logy=1'), '{"smoothing":0.6}') // { x: 'step', logY: true, smoothing: 0.6 }
 */
export function chartSettingsFrom(params: URLSearchParams, stored: string | null): ChartSettings {
  let remembered: Partial<ChartSettings> = {};
  try {
    remembered = stored ? valid(JSON.parse(stored) as Record<string, unknown>) : {};
  } catch {
    // A damaged entry is forgotten.
  }
  const fromUrl = valid({
    x: params.get('x') ?? undefined,
    logY: params.has('logy') ? params.get('logy') === '1' : undefined,
    smoothing: params.has('smooth') ? Number(params.get('smooth')) : undefined,
  });
  return { ...DEFAULT_CHART_SETTINGS, ...remembered, ...fromUrl };
}

/** The URL's parameters with these settings written in (defaults left out, other parameters kept). */
export function withChartSettings(params: URLSearchParams, s: ChartSettings): URLSearchParams {
  const p = new URLSearchParams(params);
  if (s.x === 'step') p.delete('x');
  else p.set('x', s.x);
  if (s.logY) p.set('logy', '1');
  else p.delete('logy');
  if (s.smoothing > 0) p.set('smooth', String(s.smoothing));
  else p.delete('smooth');
  return p;
}

export function loadChartSettings(scope: string, params: URLSearchParams): ChartSettings {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(storageKey(scope));
  } catch {
    // Storage can be off (private windows): the URL and defaults still apply.
  }
  return chartSettingsFrom(params, stored);
}

export function rememberChartSettings(scope: string, s: ChartSettings): void {
  try {
    localStorage.setItem(storageKey(scope), JSON.stringify(s));
  } catch {
    // Not remembered where storage is off.
  }
}
