/** One row of a key/value panel as a two-level tree: a group heading or an entry under it. */
export type TreeRow<T> =
  { kind: 'group'; group: string; size: number } | { kind: 'entry'; key: string; label: string; group: string | null; item: T };

/**
 * Dotted keys as a two-level tree: keys sharing a first segment (`args.lr`, `args.epochs`) are
 * grouped under it (`args`), each labelled by the rest (`lr`); a key alone with its prefix, or
 * without a dot, stays a plain row. Groups and plain rows in key order.
 *
 * @example keyTree([{ key: 'args.lr' }, { key: 'args.wd' }, { key: 'seed' }], (x) => x.key)
 *   // group args (2): lr, wd; then seed
 */
export function keyTree<T>(items: T[], keyOf: (item: T) => string): TreeRow<T>[] {
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const prefixOf = (k: string) => (k.indexOf('.') > 0 ? k.slice(0, k.indexOf('.')) : null);
  const count = new Map<string, number>();
  for (const it of sorted) {
    const p = prefixOf(keyOf(it));
    if (p !== null) count.set(p, (count.get(p) ?? 0) + 1);
  }
  const rows: TreeRow<T>[] = [];
  let open: string | null = null;
  for (const item of sorted) {
    const key = keyOf(item);
    const p = prefixOf(key);
    if (p !== null && count.get(p)! > 1) {
      if (open !== p) rows.push({ kind: 'group', group: p, size: count.get(p)! });
      open = p;
      rows.push({ kind: 'entry', key, label: key.slice(p.length + 1), group: p, item });
    } else {
      open = null;
      rows.push({ kind: 'entry', key, label: key, group: null, item });
    }
  }
  return rows;
}
