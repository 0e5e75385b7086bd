import { describe, expect, it } from 'vitest';
import { sections } from './sections';

describe('sections', () => {
  it('groups by prefix: unprefixed first, system last, others by name', () => {
    const got = sections([
      { name: 'system/gpu0/util' },
      { name: 'val/acc' },
      { name: 'lr' },
      { name: 'train/loss' },
      { name: 'val/loss' },
    ]);
    expect(got.map((s) => [s.prefix, s.metrics.map((m) => m.name)])).toEqual([
      ['', ['lr']],
      ['train/', ['train/loss']],
      ['val/', ['val/acc', 'val/loss']],
      ['system/', ['system/gpu0/util']],
    ]);
  });
  it('a leading slash is not a prefix', () => {
    expect(sections([{ name: '/odd' }])[0]!.prefix).toBe('');
  });
});
