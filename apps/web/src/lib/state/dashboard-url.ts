import type { SortKey, Status } from '$lib/api';
import type { ListFilters } from './experiment-list.svelte';

/**
 * The dashboard's view as URL search parameters, so Back restores it and a copied link shows a
 * teammate the same view: `ws` (workspace), `q` (name contains), `group` (exact group), `tag` and
 * `status` (repeated),
 * `sort`, `order`, `hp` and `col` (repeated hyperparameter and metric columns; one empty `col=`
 * means "no metric columns") and `value=best` (metric columns show best instead of last).
 */
export interface DashboardView {
  workspace: string | null;
  filters: ListFilters;
  /** Chosen columns, or null where the URL does not say (the remembered choice or defaults apply). */
  hyperparams: string[] | null;
  metrics: string[] | null;
  value: MetricValue;
  /** `by`: group the rows by `group`, `params.<key>` or `tags.<key>` (null: a flat table); `gsort`: how groups sort. */
  groupBy: string | null;
  groupSort: string;
}

/** What a metric column shows: the last value logged or the best by the metric's direction. */
export type MetricValue = 'last' | 'best';

const STATUSES: readonly Status[] = ['running', 'finished', 'failed', 'crashed'];
const GROUP_BY = /^(group|params\..+|tags\..+)$/;
const SORT = /^(created|updated|name|status|metric:.+|metric-min:.+|metric-max:.+|hp:.+)$/;

export const DEFAULT_FILTERS: ListFilters = { search: '', group: '', tags: [], status: [], sort: 'created', order: 'desc' };

function listOf(params: URLSearchParams, key: string): string[] | null {
  const all = params.getAll(key);
  return all.length === 0 ? null : all.filter((v) => v !== '');
}

export function viewFromUrl(params: URLSearchParams): DashboardView {
  const sort = params.get('sort') ?? '';
  const order = params.get('order');
  return {
    workspace: params.get('ws'),
    filters: {
      search: params.get('q') ?? '',
      group: params.get('group') ?? '',
      tags: listOf(params, 'tag') ?? [],
      status: (listOf(params, 'status') ?? []).filter((s): s is Status => (STATUSES as string[]).includes(s)),
      sort: SORT.test(sort) ? (sort as SortKey) : DEFAULT_FILTERS.sort,
      order: order === 'asc' || order === 'desc' ? order : SORT.test(sort) ? 'asc' : DEFAULT_FILTERS.order,
    },
    hyperparams: listOf(params, 'hp'),
    metrics: listOf(params, 'col'),
    value: params.get('value') === 'best' ? 'best' : 'last',
    groupBy: GROUP_BY.test(params.get('by') ?? '') ? params.get('by') : null,
    groupSort: params.get('gsort') || 'value',
  };
}

/** The query string of a view (defaults left out, so the plain dashboard stays `/`). */
export function viewToQuery(v: DashboardView): string {
  const p = new URLSearchParams();
  if (v.workspace) p.set('ws', v.workspace);
  if (v.filters.search) p.set('q', v.filters.search);
  if (v.filters.group) p.set('group', v.filters.group);
  for (const t of v.filters.tags) p.append('tag', t);
  for (const s of v.filters.status) p.append('status', s);
  if (v.filters.sort !== DEFAULT_FILTERS.sort || v.filters.order !== DEFAULT_FILTERS.order) {
    p.set('sort', v.filters.sort);
    p.set('order', v.filters.order);
  }
  if (v.hyperparams) for (const k of v.hyperparams.length ? v.hyperparams : ['']) p.append('hp', k);
  if (v.metrics) for (const m of v.metrics.length ? v.metrics : ['']) p.append('col', m);
  if (v.value === 'best') p.set('value', 'best');
  if (v.groupBy) {
    p.set('by', v.groupBy);
    if (v.groupSort !== 'value') p.set('gsort', v.groupSort);
  }
  const qs = p.toString();
  return qs ? `?${qs}` : '';
}

/** The part of a view that decides which rows the server returns (a change means a new list request). */
export function listKey(workspace: string, f: ListFilters): string {
  return JSON.stringify([workspace, f.search.trim(), f.group.trim(), f.tags, f.status, f.sort, f.order]);
}
