/**
 * How the Files section shows a run file, by its recorded type: raster images as images, text,
 * JSON, YAML and Markdown as text, CSV as a table; anything else — SVG and HTML included — only
 * as a download, so nothing uploaded runs as a page or script of Tora's origin.
 */
export type PreviewKind = 'image' | 'text' | 'csv' | 'none';

const IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const TEXT = new Set(['text/plain', 'text/markdown', 'application/json', 'application/yaml', 'text/tab-separated-values']);

export function previewKind(contentType: string): PreviewKind {
  if (IMAGES.has(contentType)) return 'image';
  if (contentType === 'text/csv') return 'csv';
  if (TEXT.has(contentType)) return 'text';
  return 'none';
}

/** The bytes a text preview reads: enough to see, never a whole checkpoint-sized log. */
export const PREVIEW_BYTES = 256 * 1024;

/**
 * Rows of a CSV text (RFC 4180 quotes, doubled quotes inside), at most `maxRows`.
 *
 * @example parseCsv('a,b\n1,"x, y"\n', 10) // [['a', 'b'], ['1', 'x, y']]
 */
export function parseCsv(text: string, maxRows: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if ((field !== '' || row.length > 0) && rows.length < maxRows) rows.push([...row, field]);
  return rows;
}

export interface TreeRow {
  /** A directory's or a file's path. */
  path: string;
  name: string;
  depth: number;
  dir: boolean;
  /** A directory's total size, or the file's. */
  size: number;
}

/**
 * The rows of a file tree, directories before the files beside them, each directory with the
 * total size under it.
 *
 * @example fileTree([{ path: 'a/b.txt', size: 3 }]) // [{ path: 'a', dir: true, size: 3, … }, { path: 'a/b.txt', … }]
 */
export function fileTree(files: readonly { path: string; size: number }[]): TreeRow[] {
  interface Node {
    dirs: Map<string, Node>;
    files: { name: string; size: number }[];
    size: number;
  }
  const root: Node = { dirs: new Map(), files: [], size: 0 };
  for (const f of files) {
    const parts = f.path.split('/');
    let node = root;
    node.size += f.size;
    for (const dir of parts.slice(0, -1)) {
      let next = node.dirs.get(dir);
      if (!next) node.dirs.set(dir, (next = { dirs: new Map(), files: [], size: 0 }));
      next.size += f.size;
      node = next;
    }
    node.files.push({ name: parts.at(-1)!, size: f.size });
  }
  const rows: TreeRow[] = [];
  const walk = (node: Node, prefix: string, depth: number) => {
    for (const [name, child] of [...node.dirs].sort(([a], [b]) => a.localeCompare(b))) {
      rows.push({ path: prefix + name, name, depth, dir: true, size: child.size });
      walk(child, `${prefix}${name}/`, depth + 1);
    }
    for (const f of [...node.files].sort((a, b) => a.name.localeCompare(b.name))) {
      rows.push({ path: prefix + f.name, name: f.name, depth, dir: false, size: f.size });
    }
  };
  walk(root, '', 0);
  return rows;
}

/** 1536 → "1.5 KB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

/** The index of the logged step nearest `step` in ascending `steps` (snap to the nearest logged step). */
export function nearestStep(steps: readonly number[], step: number): number {
  let lo = 0;
  let hi = steps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid]! < step) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(steps[lo - 1]! - step) <= Math.abs(steps[lo]! - step)) return lo - 1;
  return lo;
}
