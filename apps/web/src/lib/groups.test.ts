import { describe, expect, it } from 'vitest';
import { type Groupable, groupFilter, groupKeyFromUrl, groupKeyLabel, groupPageHref, groupValueOf, runGroups } from './groups';

const runs: Groupable[] = [
  { id: 'a', group: 'sweep', hyperparams: [{ key: 'lr', value: 0.1 }], runTags: { seed: 's1' } },
  { id: 'b', group: 'sweep', hyperparams: [{ key: 'lr', value: 0.01 }], runTags: { seed: 's1' } },
  { id: 'c', group: null, hyperparams: [{ key: 'lr', value: 0.1 }], runTags: {} },
];

describe('groups', () => {
  it('reads keys from the URL, a bare name being a hyperparameter', () => {
    expect(groupKeyFromUrl('lr')).toBe('params.lr');
    expect(groupKeyFromUrl('group')).toBe('group');
    expect(groupKeyFromUrl('tags.seed')).toBe('tags.seed');
    expect(groupKeyFromUrl(null)).toBe('');
    expect(groupKeyLabel('params.lr')).toBe('lr');
    expect(groupKeyLabel('tags.seed')).toBe('tag seed');
  });

  it('splits runs by group, hyperparameter or tag, runs without a value together', () => {
    expect(runGroups(runs, 'group')).toEqual([
      { value: 'sweep', label: 'group=sweep', ids: ['a', 'b'] },
      { value: '(none)', label: 'group=(none)', ids: ['c'] },
    ]);
    expect(runGroups(runs, 'params.lr').map((g) => g.ids)).toEqual([['a', 'c'], ['b']]);
    expect(runGroups(runs, 'tags.seed').map((g) => [g.label, g.ids])).toEqual([
      ['tag seed=s1', ['a', 'b']],
      ['tag seed=(none)', ['c']],
    ]);
    expect(groupValueOf(runs[0]!, 'params.missing')).toBe('(none)');
  });

  it("names a group's runs as a list filter and links its page", () => {
    expect(groupFilter('group', 'sweep')).toEqual({ group: 'sweep' });
    expect(groupFilter('params.lr', 0.1)).toEqual({ filter: 'params.`lr` = 0.1' });
    expect(groupFilter('tags.who', "o'neil")).toEqual({ filter: "tags.`who` = 'o''neil'" });
    expect(groupFilter('group', null)).toBeNull();
    expect(groupPageHref('w1', 'group', 'lr sweep')).toBe('/groups/lr%20sweep?ws=w1');
    expect(groupPageHref('w1', 'params.lr', 0.1)).toBe('/groups/0.1?ws=w1&by=params.lr');
  });
});
