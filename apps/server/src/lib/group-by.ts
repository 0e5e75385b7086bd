/**
 * Items grouped by a key, in their order: one pass, so joining a list of rows onto another (tags
 * onto runs) stays linear where a `filter` per row was quadratic.
 *
 * @example
 *   groupBy(tags, (t) => t.experiment_id).get(run.id) ?? []
 */
export function groupBy<T, K>(items: Iterable<T>, key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
