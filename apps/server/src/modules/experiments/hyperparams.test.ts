import { describe, expect, it } from 'vitest';
import { normalizeHyperparams } from './hyperparams.js';

describe('normalizeHyperparams', () => {
  const list = [
    { key: 'lr', value: 0.01 },
    { key: 'name', value: 'adam' },
    { key: 'amp', value: true },
  ];

  it('accepts the list form, an object and either as a JSON string, returning the list form', () => {
    expect(normalizeHyperparams(list)).toEqual(list);
    expect(normalizeHyperparams({ lr: 0.01, name: 'adam', amp: true })).toEqual(list);
    expect(normalizeHyperparams(JSON.stringify(list))).toEqual(list);
    expect(normalizeHyperparams(JSON.stringify({ lr: 0.01, name: 'adam', amp: true }))).toEqual(list);
  });

  it('treats absence as empty and lets a later duplicate key win', () => {
    expect(normalizeHyperparams(undefined)).toEqual([]);
    expect(normalizeHyperparams(null)).toEqual([]);
    expect(
      normalizeHyperparams([
        { key: 'a', value: 1 },
        { key: 'a', value: 2 },
      ]),
    ).toEqual([{ key: 'a', value: 2 }]);
  });

  it.each([['not json'], [JSON.stringify('a string')], [[{ value: 1 }]], [{ a: { nested: true } }], [42]])(
    'refuses %j with 400',
    (input) => {
      expect(() => normalizeHyperparams(input)).toThrow(expect.objectContaining({ status: 400 }));
    },
  );
});
