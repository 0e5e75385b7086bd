/*
 * The one page token of offset-paged lists (Tora's experiment list cursor, MLflow's searches): an
 * opaque base64url JSON `{o: offset}`. Each API answers a token it did not issue in its own error shape.
 */

// Far beyond any real listing; keeps the OFFSET within both databases' integer range.
const MAX_OFFSET = 1_000_000_000;

/** @example encodeOffset(50) // 'eyJvIjo1MH0' */
export function encodeOffset(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

/** The offset of a token this server issued; 0 for none; null for one it did not issue. */
export function decodeOffset(token: string | undefined): number | null {
  if (!token) return 0;
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof v.o === 'number' && Number.isInteger(v.o) && v.o >= 0 && v.o <= MAX_OFFSET) return v.o;
  } catch {
    // not JSON: not ours
  }
  return null;
}
