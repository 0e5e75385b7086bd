import { describe, expect, it } from 'vitest';
import { summarizeWindows, encodeWindows } from './windows.js';
import { windowEdges, windowsIn, xAtStep, xRange, xWindows } from './x-windows.js';

/** One stored block of an x metric: its window summaries as ingest writes them. */
function block(steps: number[], xs: number[]) {
  const p = {
    steps: Float64Array.from(steps),
    values: Float64Array.from(xs),
    times: new Float64Array(steps.length),
    metadata: null,
  };
  return { windows: encodeWindows(summarizeWindows(p)) };
}
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('x metric windows', () => {
  it('reads a non-decreasing x from its windows, a window split between blocks as one', () => {
    const steps = range(0, 256);
    const w = xWindows([block(steps.slice(0, 100), steps.slice(0, 100)), block(steps.slice(100), steps.slice(100))])!;
    expect(Array.from(w.start)).toEqual([0, 64, 128, 192]);
    expect([w.firstX[1], w.lastX[1]]).toEqual([64, 127]);
    expect(windowsIn(w, { from: 60, to: 130 })).toBe(3);
    expect(xAtStep(w, 100)).toBe(100);
    expect(
      xRange([
        { min_value: 3, max_value: 9 },
        { min_value: null, max_value: null },
      ]),
    ).toEqual({ from: 3, to: 9 });
  });

  it('refuses x that goes back, a NaN, or a block without windows', () => {
    const steps = range(0, 128);
    const back = steps.map((s) => (s === 70 ? 0 : s));
    expect(xWindows([block(steps, back)])).toBeNull();
    expect(
      xWindows([
        block(
          steps,
          steps.map((s) => (s === 5 ? NaN : s)),
        ),
      ]),
    ).toBeNull();
    expect(xWindows([{ windows: null }])).toBeNull();
  });

  it('maps equal x buckets to whole windows by each window’s first x', () => {
    const steps = range(0, 64 * 8);
    // x doubles its pace halfway: the second half's windows are twice as wide in x.
    const xs = steps.map((s) => (s < 256 ? s : 256 + 2 * (s - 256)));
    const w = xWindows([block(steps, xs)])!;
    const edges = windowEdges(w, { from: 0, to: 768, budget: 4 });
    // Buckets of 192 in x; windows (step: first x) 0:0 64:64 128:128 | 192:192 256:256 | 320:384
    // 384:512 | 448:640, the last ending at step 512.
    expect(Array.from(edges)).toEqual([0, 192, 320, 448, 512]);
    expect(edges.every((e) => e % 64 === 0)).toBe(true);
  });
});
