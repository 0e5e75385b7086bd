import { describe, expect, it } from 'vitest';
import { keyTree } from './key-tree';

describe('keyTree', () => {
  it('groups dotted keys under their first segment, two levels deep, in key order', () => {
    const rows = keyTree(['seed', 'model.hidden.size', 'args.lr', 'model.layers', 'args.epochs', 'opt.beta'], (k) => k);
    expect(rows.map((r) => (r.kind === 'group' ? `[${r.group} ${r.size}]` : `${r.group ? '  ' : ''}${r.label}`))).toEqual([
      '[args 2]',
      '  epochs',
      '  lr',
      '[model 2]',
      '  hidden.size',
      '  layers',
      'opt.beta',
      'seed',
    ]);
  });

  it('keeps every entry with its full key', () => {
    const rows = keyTree([{ k: 'args.lr' }, { k: 'args.wd' }], (x) => x.k);
    expect(rows.flatMap((r) => (r.kind === 'entry' ? [r.key] : []))).toEqual(['args.lr', 'args.wd']);
  });
});
