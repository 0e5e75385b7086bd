/**
 * SQL's LIKE (`%` any run, `_` any one character, no escape character, as MLflow), matched without
 * backtracking: the pattern is cut at each `%` into pieces that must appear in order, the first at
 * the start and the last at the end, each as early as it can (taking the earliest place never
 * loses a match). Time is at most text × pattern, never exponential as a translated regular
 * expression was (`%a%a%…b` against a name of `a`s froze the server).
 *
 * @example
 *   likeMatch('resnet-%-v_', 'resnet-50-v2', false) // true
 */
export function likeMatch(pattern: string, text: string, ignoreCase: boolean): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const t = ignoreCase ? text.toLowerCase() : text;
  const pieces = p.split('%');
  const first = pieces[0]!;
  if (pieces.length === 1) return t.length === first.length && matchesAt(first, t, 0);
  const last = pieces[pieces.length - 1]!;
  if (first.length + last.length > t.length) return false;
  if (!matchesAt(first, t, 0) || !matchesAt(last, t, t.length - last.length)) return false;
  let from = first.length;
  const end = t.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i]!;
    const at = find(piece, t, from, end);
    if (at < 0) return false;
    from = at + piece.length;
  }
  return true;
}

/** Whether `piece` (with `_` as any one character) matches `text` at `at`. */
function matchesAt(piece: string, text: string, at: number): boolean {
  for (let i = 0; i < piece.length; i++) {
    const c = piece.charCodeAt(i);
    if (c !== 95 /* _ */ && c !== text.charCodeAt(at + i)) return false;
  }
  return true;
}

/** The first place at or after `from` where `piece` matches and ends by `end`; -1 if none. */
function find(piece: string, text: string, from: number, end: number): number {
  if (!piece.includes('_')) {
    const at = text.indexOf(piece, from);
    return at >= 0 && at + piece.length <= end ? at : -1;
  }
  for (let at = from; at + piece.length <= end; at++) if (matchesAt(piece, text, at)) return at;
  return -1;
}
