import { describe, expect, it } from 'vitest';
import { experimentMatcher, type FilterableExperiment } from './mlflow.experiments.filter.js';
import { FilterError } from '../experiments/filter.js';

const exp = (name: string, tags: Record<string, string>, time = 100): FilterableExperiment => ({
  experiment_id: `id-${name}`,
  name,
  creation_time: time,
  last_update_time: time + 1,
  tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
});

const all = [exp('vision-a', { team: 'vision', 'my key': 'x' }, 100), exp('nlp-b', { team: 'nlp' }, 200), exp('bare', {}, 300)];
const names = (filter: string) => all.filter(experimentMatcher(filter)).map((e) => e.name);

describe('MLflow experiment filter', () => {
  it('takes tag. and tags. for tags, as MLflow does', () => {
    expect(names("tag.team = 'vision'")).toEqual(['vision-a']);
    expect(names("tags.team = 'vision'")).toEqual(['vision-a']);
    expect(names("tag.team != 'vision'")).toEqual(['nlp-b']);
    expect(names("tag.team LIKE '%l%'")).toEqual(['nlp-b']);
    expect(names("tag.team ILIKE 'VISION'")).toEqual(['vision-a']);
    expect(names('tag.`my key` = "x"')).toEqual(['vision-a']);
    expect(names('tag.team IS NULL')).toEqual(['bare']);
    expect(names('tags.team is not null')).toEqual(['vision-a', 'nlp-b']);
  });

  it('takes the attributes, times as numbers, experiment_id IN, and a value holding " and "', () => {
    expect(names("name = 'bare'")).toEqual(['bare']);
    expect(names("attribute.name LIKE '%-_'")).toEqual(['vision-a', 'nlp-b']);
    expect(names('creation_time > 100 AND last_update_time <= 201')).toEqual(['nlp-b']);
    expect(names("experiment_id IN ('id-bare', 'id-nlp-b')")).toEqual(['nlp-b', 'bare']);
    expect(names("experiment_id NOT IN ('id-bare')")).toEqual(['vision-a', 'nlp-b']);
    expect(names("name = 'it''s' AND tag.team = 'x'")).toEqual([]);
    const andInValue = [exp('rock and roll', {})].filter(experimentMatcher("name = 'rock and roll'"));
    expect(andInValue).toHaveLength(1);
  });

  it('refuses what MLflow refuses', () => {
    for (const bad of [
      "colour = 'red'",
      "params.x = '1'",
      "creation_time = 'yesterday'",
      "name > 'a'",
      "name IN ('a')",
      "tag.team IN ('a')",
      "name = 'a' OR name = 'b'",
      'tag.team = vision',
    ]) {
      expect(() => experimentMatcher(bad), bad).toThrow(FilterError);
    }
  });
});

describe('MLflow experiment filter on hostile input', () => {
  it('answers a 10,000-character filter that never closes in well under a second', () => {
    for (const filter of [
      `name = '${'a'.repeat(10_000)}`,
      `experiment_id IN (${"'a', ".repeat(2_000)}`,
      `tag.${'a.'.repeat(5_000)}`,
      `name = 'x' AND `.repeat(600),
    ]) {
      const started = performance.now();
      try {
        experimentMatcher(filter);
      } catch (err) {
        expect(err).toBeInstanceOf(FilterError);
      }
      expect(performance.now() - started, filter.slice(0, 30)).toBeLessThan(500);
    }
  });
});
