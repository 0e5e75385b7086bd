import { describe, expect, it } from 'vitest';
import { FILTER_LIMITS } from '../../lib/limits.js';
import { FilterError, parseFilter, parseOrderBy } from './filter.js';

describe('parseFilter (MLflow search grammar)', () => {
  it('parses every comparator, entity aliases, backticks and unquoted keys with dots and slashes', () => {
    expect(
      parseFilter(
        "metrics.`val/loss` < 0.3 and params.lr = '0.1' AND tags.\"a.b\" != \"x\" and attributes.status IN ('FINISHED','FAILED') " +
          "and metric.val/acc >= 1e-3 and run.run_name LIKE 'r%' and tag.t ILIKE '%X' and attribute.status NOT IN ('KILLED')",
      ),
    ).toEqual([
      { entity: 'metric', key: 'val/loss', op: '<', value: 0.3 },
      { entity: 'param', key: 'lr', op: '=', value: '0.1' },
      { entity: 'tag', key: 'a.b', op: '!=', value: 'x' },
      { entity: 'attribute', key: 'status', op: 'IN', value: ['FINISHED', 'FAILED'] },
      { entity: 'metric', key: 'val/acc', op: '>=', value: 0.001 },
      { entity: 'attribute', key: 'run_name', op: 'LIKE', value: 'r%' },
      { entity: 'tag', key: 't', op: 'ILIKE', value: '%X' },
      { entity: 'attribute', key: 'status', op: 'NOT IN', value: ['KILLED'] },
    ]);
    expect(parseFilter('params.lr < 0.01 and metrics.val/loss < 0.3')).toHaveLength(2);
    expect(parseFilter("tags.note = 'it''s'")).toEqual([{ entity: 'tag', key: 'note', op: '=', value: "it's" }]);
    expect(parseFilter('  ')).toEqual([]);
  });

  it('refuses what MLflow refuses, with a message that says where', () => {
    for (const bad of [
      'metrics.acc >',
      "metrics.acc = 'x'",
      'metrics.acc LIKE 1',
      "tags.t < 'a'",
      'tags.t = 5',
      "params.lr = '1' or params.lr = '2'",
      "foo.bar = 'x'",
      "attributes.nope = 'x'",
      "tags.t = 'unterminated",
      "tags.t IN 'a'",
      'metrics. = 1',
    ]) {
      expect(() => parseFilter(bad), bad).toThrow(FilterError);
    }
    expect(() => parseFilter("params.lr = '1' or params.lr = '2'")).toThrow(/OR is not supported/);
  });

  it(`takes up to ${FILTER_LIMITS.clauses} clauses and refuses more, in time linear in the filter`, () => {
    const clauses = (n: number) => Array.from({ length: n }, (_, i) => `metrics.m${i} > ${i}`).join(' and ');
    expect(parseFilter(clauses(FILTER_LIMITS.clauses))).toHaveLength(FILTER_LIMITS.clauses);
    expect(() => parseFilter(clauses(FILTER_LIMITS.clauses + 1))).toThrow(`at most ${FILTER_LIMITS.clauses} clauses`);
    const started = performance.now();
    expect(() => parseFilter(`metrics.a > 1 and metrics.b ${'= '.repeat(200_000)}`)).toThrow(FilterError);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('parses order_by keys', () => {
    expect(parseOrderBy('metrics.`val/acc` DESC')).toEqual({ entity: 'metric', key: 'val/acc', ascending: false });
    expect(parseOrderBy('attributes.start_time')).toEqual({ entity: 'attribute', key: 'start_time', ascending: true });
    expect(() => parseOrderBy('metrics.a sideways')).toThrow(FilterError);
  });
});
