import { describe, expect, it } from 'vitest';
import { chartSettingsFrom, withChartSettings } from './chart-settings';

describe('chart settings', () => {
  it('takes the URL over what the browser remembered, over the defaults', () => {
    expect(chartSettingsFrom(new URLSearchParams(''), null)).toEqual({ x: 'step', logY: false, smoothing: 0 });
    const remembered = JSON.stringify({ x: 'time', logY: true, smoothing: 0.6 });
    expect(chartSettingsFrom(new URLSearchParams(''), remembered)).toEqual({ x: 'time', logY: true, smoothing: 0.6 });
    expect(chartSettingsFrom(new URLSearchParams('x=step&logy=0&smooth=0.3'), remembered)).toEqual({
      x: 'step',
      logY: false,
      smoothing: 0.3,
    });
  });

  it('ignores values it does not know and damaged storage', () => {
    expect(chartSettingsFrom(new URLSearchParams('x=epoch&smooth=7'), '{not json')).toEqual({
      x: 'step',
      logY: false,
      smoothing: 0,
    });
  });

  it('writes non-default settings into the URL and keeps its other parameters', () => {
    const p = withChartSettings(new URLSearchParams('ids=a,b&x=time'), { x: 'step', logY: true, smoothing: 0.5 });
    expect(p.toString()).toBe('ids=a%2Cb&logy=1&smooth=0.5');
    // And read back the same.
    expect(chartSettingsFrom(p, null)).toEqual({ x: 'step', logY: true, smoothing: 0.5 });
  });
});
