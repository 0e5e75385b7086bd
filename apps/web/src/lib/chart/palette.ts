/**
 * Distinct colours for many experiments on one chart: the first ten are a hand-picked
 * categorical palette, after that hues step by the golden angle so neighbours never match.
 */
const BASE = ['#2f5bd3', '#e4572e', '#17a398', '#f2a541', '#8e44ad', '#3a7d44', '#d81b60', '#5d6d7e', '#00a6ed', '#a0522d'];

export function colorOf(i: number): string {
  if (i < BASE.length) return BASE[i]!;
  return `hsl(${Math.round((i * 137.508) % 360)} 65% 50%)`;
}

/** The same colour at low alpha, for min–max bands. */
export function bandOf(color: string, alpha = 0.14): string {
  if (color.startsWith('#')) {
    const n = parseInt(color.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  return color.replace(/\)$/, ` / ${alpha})`);
}
