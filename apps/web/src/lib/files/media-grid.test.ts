import { describe, expect, it } from 'vitest';
import type { MediaItem } from '$lib/api';
import { imageAt, sharedKeys, stepAtOrBefore, trackOf, unionSteps } from './media-grid';

const item = (name: string, step: number): MediaItem => ({
  name,
  step,
  path: `media/${name}/${step}.png`,
  contentType: 'image/png',
  width: 8,
  height: 8,
  size: 100,
  thumbnailPath: null,
  thumbnail: false,
});

describe('stepAtOrBefore', () => {
  it('finds the latest step at or before the one asked, -1 before the first', () => {
    const steps = [0, 10, 20, 35];
    expect(stepAtOrBefore(steps, -5)).toBe(-1);
    expect(stepAtOrBefore(steps, 0)).toBe(0);
    expect(stepAtOrBefore(steps, 9)).toBe(0);
    expect(stepAtOrBefore(steps, 10)).toBe(1);
    expect(stepAtOrBefore(steps, 34)).toBe(2);
    expect(stepAtOrBefore(steps, 1000)).toBe(3);
    expect(stepAtOrBefore([], 3)).toBe(-1);
  });
});

describe('a key across runs', () => {
  it('shows each run its latest image at or before the shared step, and nothing before its first', () => {
    const a = trackOf([item('samples', 0), item('samples', 10), item('other', 5), item('samples', 20)], 'samples');
    const b = trackOf([item('samples', 15)], 'samples');
    expect(unionSteps([a, b])).toEqual([0, 10, 15, 20]);
    expect(imageAt(a, 15)?.step).toBe(10);
    expect(imageAt(b, 15)?.step).toBe(15);
    expect(imageAt(b, 10)).toBeNull();
    expect(imageAt(a, 99)?.step).toBe(20);
  });

  it('offers the keys most runs share first', () => {
    expect(sharedKeys([[item('z', 0), item('z', 1)], [item('z', 0), item('a', 0)], [item('b', 0)]])).toEqual(['z', 'a', 'b']);
  });
});
