import { describe, expect, it } from 'vitest';
import { sections, userFirst } from './sections';

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

describe('userFirst', () => {
  it("puts the user's values before system/* samples, whatever the names sort as", () => {
    const { user, system } = userFirst([
      { name: 'system/gpu0/mem' },
      { name: 'test/accuracy' },
      { name: 'system/cpu' },
      { name: 'f1' },
    ]);
    expect(user.map((m) => m.name)).toEqual(['f1', 'test/accuracy']);
    expect(system.map((m) => m.name)).toEqual(['system/cpu', 'system/gpu0/mem']);
  });
});
