import type { Direction } from './api';

/** Metrics under this prefix are the client's CPU/GPU/memory samples, not results. */
export const SYSTEM_PREFIX = 'system/';

export interface MetricCandidate {
  name: string;
  /** The direction that applies (a loss/accuracy-like name has one), or null. */
  direction: Direction | null;
  /** When it was last logged (epoch ms; 0 when unknown). */
  lastLogged: number;
}

/**
 * The metrics a user looks at first: those with a known direction (losses, accuracies, …), most
 * recently logged first, then by name; never system samples.
 *
 * @example defaultMetrics([{ name: 'a', direction: null, lastLogged: 9 }, { name: 'val/loss', direction: 'min', lastLogged: 1 }], 1) // ['val/loss']
 */
export function defaultMetrics(candidates: MetricCandidate[], n: number): string[] {
  return candidates
    .filter((c) => !c.name.startsWith(SYSTEM_PREFIX))
    .sort(
      (a, b) =>
        Number(b.direction !== null) - Number(a.direction !== null) ||
        b.lastLogged - a.lastLogged ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
    .slice(0, n)
    .map((c) => c.name);
}
