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

  it('flattens nested objects to dotted keys and keeps lists as JSON, in every form', () => {
    const flat = [
      { key: 'opt.lr', value: 0.1 },
      { key: 'opt.betas', value: '[0.9,0.999]' },
      { key: 'opt.sched.kind', value: 'cosine' },
      { key: 'layers', value: '[64,{"k":3}]' },
      { key: 'empty', value: '{}' },
    ];
    const nested = { opt: { lr: 0.1, betas: [0.9, 0.999], sched: { kind: 'cosine' } }, layers: [64, { k: 3 }], empty: {} };
    const asList = Object.entries(nested).map(([key, value]) => ({ key, value }));
    expect(normalizeHyperparams(nested)).toEqual(flat);
    expect(normalizeHyperparams(JSON.stringify(nested))).toEqual(flat);
    expect(normalizeHyperparams(asList)).toEqual(flat);
    expect(normalizeHyperparams(JSON.stringify(asList))).toEqual(flat);
  });

  it('refuses nesting past 16 levels and over-long flattened keys with 400', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = { a: deep };
    expect(() => normalizeHyperparams({ x: deep })).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => normalizeHyperparams({ ['k'.repeat(200)]: { ['j'.repeat(100)]: 1 } })).toThrow(
      expect.objectContaining({ status: 400 }),
    );
  });

  it.each([['not json'], [JSON.stringify('a string')], [[{ value: 1 }]], [{ a: [1, NaN] }], [42]])(
    'refuses %j with 400',
    (input) => {
      expect(() => normalizeHyperparams(input)).toThrow(expect.objectContaining({ status: 400 }));
    },
  );
});
