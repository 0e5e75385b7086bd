/**
 * Content types of stored files: recorded from the file name (what the listing tells the web app,
 * which previews by it), and the narrower type a download is served with. Nothing uploaded may
 * render as a page of Tora's origin, so HTML, SVG, XML, scripts and anything unknown are served as
 * `application/octet-stream` (always with `Content-Disposition: attachment` and `nosniff`).
 */

const BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  html: 'text/html',
  htm: 'text/html',
  txt: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  pdf: 'application/pdf',
  xml: 'application/xml',
  js: 'text/javascript',
};

/** The type recorded for a file at `path`, by its extension; `application/octet-stream` when unknown. */
export function contentTypeOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'application/octet-stream';
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

const SERVED_AS_IS = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/json', 'application/pdf']);
const SERVED_AS_TEXT = new Set(['text/plain', 'text/markdown', 'text/csv', 'text/tab-separated-values', 'application/yaml']);

/** The Content-Type a download of a file recorded as `type` is sent with: never HTML, SVG or script. */
export function servedContentType(type: string): string {
  if (SERVED_AS_IS.has(type)) return type;
  if (SERVED_AS_TEXT.has(type)) return `${type}; charset=utf-8`;
  return 'application/octet-stream';
}
