import { describe, expect, it } from 'vitest';
import { formatHyperparam, formatNumber, relativeTime } from './format';

describe('formatNumber', () => {
  it('spells out non-finite values', () => {
    expect(formatNumber('NaN')).toBe('NaN');
    expect(formatNumber('Infinity')).toBe('+Inf');
    expect(formatNumber(-Infinity)).toBe('−Inf');
    expect(formatNumber(null)).toBe('—');
  });
  it('keeps five significant digits and uses exponents for tiny or huge values', () => {
    expect(formatNumber(0.0711234)).toBe('0.071123');
    expect(formatNumber(6.25e-5)).toBe('6.250e-5');
    expect(formatNumber(12345678)).toBe('1.235e+7');
    expect(formatNumber(42)).toBe('42');
  });
});

describe('relativeTime', () => {
  it('says never for a key never used', () => {
    expect(relativeTime(null)).toBe('never');
    expect(relativeTime(new Date(Date.now() - 5 * 60_000).toISOString())).toBe('5 min ago');
  });
});

describe('formatHyperparam', () => {
  it('formats small and large numbers like metric cells and keeps the exact value for hover', () => {
    expect(formatHyperparam(1.3e-5)).toEqual({ text: '1.300e-5', full: '0.000013' });
    expect(formatHyperparam(0.001)).toEqual({ text: '0.001', full: '0.001' });
    expect(formatHyperparam(64)).toEqual({ text: '64', full: '64' });
    expect(formatHyperparam('adamw')).toEqual({ text: 'adamw', full: 'adamw' });
    expect(formatHyperparam(true).text).toBe('true');
    expect(formatHyperparam(undefined).text).toBe('—');
  });
});
