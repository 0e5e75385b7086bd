import { describe, expect, it } from 'vitest';
import { DEFAULT_FILTERS, viewFromUrl, viewToQuery, type DashboardView } from './dashboard-url';

describe('dashboard view in the URL', () => {
  it('round-trips filters, sort, columns and the value shown', () => {
    const v: DashboardView = {
      workspace: 'w1',
      filters: {
        search: 'res net',
        group: 'sweep 1',
        tags: ['a', 'b,c'],
        status: ['running', 'failed'],
        sort: 'metric:val/loss',
        order: 'asc',
      },
      hyperparams: ['lr'],
      metrics: ['val/loss', 'acc'],
      value: 'best',
      groupBy: 'params.lr',
      groupSort: 'best:val/loss',
    };
    expect(viewFromUrl(new URLSearchParams(viewToQuery(v)))).toEqual(v);
    expect(viewToQuery(v)).toContain('by=params.lr');
  });
  it('keeps the plain dashboard at / and tells "no columns" from "not said"', () => {
    const plain: DashboardView = {
      workspace: null,
      filters: DEFAULT_FILTERS,
      hyperparams: null,
      metrics: null,
      value: 'last',
      groupBy: null,
      groupSort: 'value',
    };
    expect(viewToQuery(plain)).toBe('');
    expect(viewFromUrl(new URLSearchParams('')).metrics).toBeNull();
    const none = viewFromUrl(new URLSearchParams(viewToQuery({ ...plain, metrics: [] })));
    expect(none.metrics).toEqual([]);
  });
  it('ignores what it does not understand', () => {
    const v = viewFromUrl(new URLSearchParams('sort=drop table&order=sideways&status=bogus&status=running'));
    expect(v.filters.sort).toBe('created');
    expect(v.filters.order).toBe('desc');
    expect(v.filters.status).toEqual(['running']);
    expect(viewFromUrl(new URLSearchParams('by=hp.lr')).groupBy).toBeNull();
  });
});
