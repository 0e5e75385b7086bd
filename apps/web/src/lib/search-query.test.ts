import { describe, expect, it } from 'vitest';
import { FILTER_EXAMPLE, isFilterExpression, searchQuery } from './search-query';

describe('searchQuery: name search or MLflow filter', () => {
  it('sends filter expressions as filter, whatever the entity alias or comparator', () => {
    for (const f of [
      FILTER_EXAMPLE,
      "tags.team = 'vision'",
      'metrics.`val/loss` <= 0.3',
      "attributes.status IN ('FAILED', 'KILLED')",
      "attributes.run_name LIKE 'resnet%'",
      "params.opt != 'adam'",
      'metric.acc>0.9',
      "run.run_name ilike '%x%'",
    ]) {
      expect(isFilterExpression(f), f).toBe(true);
      expect(searchQuery(`  ${f} `)).toEqual({ filter: f });
    }
  });

  it('keeps plain text, and names that only look like part of one, as the name search', () => {
    for (const name of ['resnet', 'lr=0.1', 'metrics.v2', 'my params.yaml run', 'tags', 'x.y > 1', 'in the rain']) {
      expect(isFilterExpression(name), name).toBe(false);
      expect(searchQuery(name)).toEqual({ startwith: name });
    }
    expect(searchQuery('   ')).toEqual({});
  });
});
