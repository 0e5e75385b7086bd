import type { Direction, Directions } from './api';

/** No directions known yet (before the workspace's list has loaded). */
export const NO_DIRECTIONS: Directions = { directions: {}, inferred: {} };

/**
 * The direction that applies to a metric: the workspace's override, else what the server infers
 * from the name (`GET /workspaces/{id}/metric-directions` reports both; the rule lives only there).
 */
export function directionOf(name: string, d: Directions): Direction | null {
  return d.directions[name] ?? d.inferred[name] ?? null;
}
