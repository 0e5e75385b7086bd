import { describe, expect, it } from 'vitest';
import { axisFromUrl, axisLabel, isEpochLike, withAxis } from './axes';

describe('axes', () => {
  it('reads the axis from the URL, step for anything else', () => {
    expect(axisFromUrl(null)).toBe('step');
    expect(axisFromUrl('time')).toBe('time');
    expect(axisFromUrl('relative')).toBe('relative');
    expect(axisFromUrl('metric:train/epoch')).toBe('metric:train/epoch');
    expect(axisFromUrl('metric:')).toBe('step');
    expect(axisFromUrl('epoch')).toBe('step');
  });

  it('writes it back keeping the other parameters, and names it', () => {
    expect(withAxis('?ids=a,b', 'metric:epoch')).toBe('?ids=a%2Cb&x=metric%3Aepoch');
    expect(withAxis('?ids=a&x=time', 'step')).toBe('?ids=a');
    expect(withAxis('', 'step')).toBe('');
    expect(axisLabel('metric:tokens')).toBe('tokens');
    expect(axisLabel('relative')).toBe('seconds since start');
    expect(isEpochLike('trainer/global_step')).toBe(true);
    expect(isEpochLike('loss')).toBe(false);
  });
});
