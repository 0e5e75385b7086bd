import { num } from './api';

/** Compact, honest number formatting: NaN and ±Infinity spelled out, no false precision. */
export function formatNumber(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const n = num(v);
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '−Inf';
  const a = Math.abs(n);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return n.toExponential(3);
  return Number.isInteger(n) ? n.toString() : n.toPrecision(5).replace(/\.?0+$/, '');
}

// One formatter for all dates: toLocaleString with options builds a new one per call, which is
// too slow for a table that formats dozens of cells per scroll frame.
const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

export function formatDate(iso: string | null): string {
  return iso ? dateFormat.format(new Date(iso)) : '—';
}

/** "3 min ago" style, for last-used and updated columns. */
export function relativeTime(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Epoch milliseconds to a short date and time with seconds (wall-time chart readouts). */
export function formatDateTime(ms: number): string {
  return Number.isFinite(ms) ? timeFormat.format(new Date(ms)) : '—';
}

/** A signed difference: "+0.012" / "−3.4"; percentages get a "%" and one decimal. */
export function formatDelta(v: number | null | undefined, pct = false): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const sign = v > 0 ? '+' : v < 0 ? '−' : '±';
  const a = Math.abs(v);
  return sign + (pct ? `${a < 10 ? a.toFixed(1) : Math.round(a).toLocaleString()}%` : formatNumber(a));
}

/**
 * A hyperparameter value for a cell: numbers like metric cells (`1.300e-5`, not `0.0000…`),
 * everything else as written. `full` is the exact value, for the cell's title (hover).
 */
export function formatHyperparam(v: string | number | boolean | null | undefined): { text: string; full: string } {
  if (v === undefined) return { text: '—', full: '' };
  if (v === null) return { text: 'null', full: 'null' };
  if (typeof v === 'number') return { text: formatNumber(v), full: String(v) };
  return { text: String(v), full: String(v) };
}
