import { SYSTEM_PREFIX } from '$lib/default-metrics';

export interface MetricSection<T> {
  /** The prefix (`train/`, `val/`, `system/`), or '' for names without one. */
  prefix: string;
  metrics: T[];
}

/**
 * Groups metrics by the prefix before their first `/`, in name order, with names without a
 * prefix first and the client's `system/` samples last.
 *
 * @example sections([{ name: 'val/acc' }, { name: 'lr' }, { name: 'train/loss' }]) // '', 'train/', 'val/'
 */
export function sections<T extends { name: string }>(metrics: T[]): MetricSection<T>[] {
  const byPrefix = new Map<string, T[]>();
  for (const m of metrics) {
    const slash = m.name.indexOf('/');
    const prefix = slash > 0 ? m.name.slice(0, slash + 1) : '';
    const list = byPrefix.get(prefix);
    if (list) list.push(m);
    else byPrefix.set(prefix, [m]);
  }
  const rank = (p: string) => (p === '' ? 0 : p === SYSTEM_PREFIX ? 2 : 1);
  return [...byPrefix.entries()]
    .map(([prefix, ms]) => ({ prefix, metrics: ms }))
    .sort((a, b) => rank(a.prefix) - rank(b.prefix) || (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}

/**
 * The user's values first and the client's `system/` samples after them, each in name order:
 * a summary strip never shows `system/gpu0/…` ahead of the user's `test/accuracy`.
 *
 * @example userFirst([{ name: 'system/cpu' }, { name: 'test/acc' }]) // { user: [test/acc], system: [system/cpu] }
 */
export function userFirst<T extends { name: string }>(metrics: T[]): { user: T[]; system: T[] } {
  const byName = (a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    user: metrics.filter((m) => !m.name.startsWith(SYSTEM_PREFIX)).sort(byName),
    system: metrics.filter((m) => m.name.startsWith(SYSTEM_PREFIX)).sort(byName),
  };
}
