import { describe, expect, it } from 'vitest';
import { defaultMetrics } from './default-metrics';

describe('defaultMetrics', () => {
  it('puts loss/accuracy-like metrics first, most recently logged first, and leaves system samples out', () => {
    const picked = defaultMetrics(
      [
        { name: 'aaa_lr', direction: null, lastLogged: 100 },
        { name: 'acc', direction: 'max', lastLogged: 10 },
        { name: 'val/loss', direction: 'min', lastLogged: 50 },
        { name: 'system/gpu0/util', direction: 'max', lastLogged: 999 },
        { name: 'train/loss', direction: 'min', lastLogged: 50 },
      ],
      3,
    );
    expect(picked).toEqual(['train/loss', 'val/loss', 'acc']);
  });
  it('fills up with other metrics when few have a direction', () => {
    expect(
      defaultMetrics(
        [
          { name: 'b', direction: null, lastLogged: 1 },
          { name: 'a', direction: null, lastLogged: 2 },
        ],
        5,
      ),
    ).toEqual(['a', 'b']);
  });
});
