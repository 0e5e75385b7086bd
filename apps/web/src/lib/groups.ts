import type { Hyperparam } from '$lib/api';

/**
 * What runs are grouped (and banded) by, as the dashboard's `groupBy` spells it: `group`,
 * `params.<key>` (a hyperparameter) or `tags.<key>` (an MLflow tag).
 */
export type GroupKey = string;

/** A run as far as grouping needs it (the compare response and the experiment list both fit). */
export interface Groupable {
  id: string;
  group?: string | null;
  hyperparams: Pick<Hyperparam, 'key' | 'value'>[];
  runTags?: Record<string, string>;
}

/** The label of runs without a value for the key. */
export const NO_VALUE = '(none)';

/** A key from a URL: a bare name (older links' `band=lr`) is a hyperparameter. */
export function groupKeyFromUrl(raw: string | null): GroupKey {
  if (!raw) return '';
  return raw === 'group' || raw.startsWith('params.') || raw.startsWith('tags.') ? raw : `params.${raw}`;
}

/** How a key reads to a user: `lr`, `group`, `tag seed`. */
export function groupKeyLabel(key: GroupKey): string {
  if (key.startsWith('params.')) return key.slice('params.'.length);
  if (key.startsWith('tags.')) return `tag ${key.slice('tags.'.length)}`;
  return key;
}

/** A run's value for the key, as text; NO_VALUE where it has none. */
export function groupValueOf(run: Groupable, key: GroupKey): string {
  let v: string | number | boolean | null | undefined;
  if (key === 'group') v = run.group;
  else if (key.startsWith('params.')) v = run.hyperparams.find((h) => h.key === key.slice('params.'.length))?.value;
  else if (key.startsWith('tags.')) v = run.runTags?.[key.slice('tags.'.length)];
  return v === undefined || v === null || v === '' ? NO_VALUE : String(v);
}

/**
 * Runs split by their value for the key, in order of first appearance.
 *
 * @example
 *   runGroups(runs, 'params.lr'); // [{ value: '0.1', label: 'lr=0.1', ids: [a, b] }, ...]
 */
export function runGroups(runs: readonly Groupable[], key: GroupKey): { value: string; label: string; ids: string[] }[] {
  const byValue = new Map<string, string[]>();
  for (const r of runs) {
    const v = groupValueOf(r, key);
    byValue.set(v, [...(byValue.get(v) ?? []), r.id]);
  }
  return [...byValue.entries()].map(([value, ids]) => ({ value, label: `${groupKeyLabel(key)}=${value}`, ids }));
}

/**
 * The list filter that picks one group's runs: the `group` filter, or a clause of the list's filter
 * grammar (a hyperparameter's text finds its number too). Null: runs without a value cannot be named.
 */
export function groupFilter(key: GroupKey, value: string | number | null): { group?: string; filter?: string } | null {
  if (value === null) return null;
  if (key === 'group') return { group: String(value) };
  const [kind, ...rest] = key.split('.');
  const literal = typeof value === 'number' ? String(value) : `'${value.replace(/'/g, "''")}'`;
  return { filter: `${kind}.\`${rest.join('.')}\` = ${literal}` };
}

/** The group page of one value: `/groups/<value>?ws=<workspace>&by=<key>` (`by` left out for `group`). */
export function groupPageHref(workspace: string, key: GroupKey, value: string | number): string {
  const q = new URLSearchParams({ ws: workspace });
  if (key !== 'group') q.set('by', key);
  return `/groups/${encodeURIComponent(String(value))}?${q.toString()}`;
}
