import { describe, expect, it } from 'vitest';
import { nextPath } from './next-path';

describe('nextPath', () => {
  it('goes to a path of this app', () => {
    expect(nextPath(new URL('http://t/login?next=%2Fexperiments%2Fabc'))).toBe('/experiments/abc');
  });
  it('never leaves the origin, and defaults to the dashboard', () => {
    for (const next of ['//evil.example/x', 'https://evil.example', 'experiments/1', ''])
      expect(nextPath(new URL(`http://t/login?next=${encodeURIComponent(next)}`))).toBe('/');
    expect(nextPath(new URL('http://t/login'))).toBe('/');
  });
});
