import { invalidParameter } from './mlflow.errors.js';

/**
 * The source of a new model version, checked as MLflow's server checks it (handlers.py,
 * `_validate_source_run` / `_validate_source_model`): a path relative to nothing or reaching out
 * of its base (`..`, `.`, a NUL, however percent-encoded) is refused, and so is a local path (no
 * scheme, or `file:`), which MLflow takes only inside a local artifact directory of the run or
 * model: Tora's artifacts are never one (`mlflow-artifacts:/…`). A prompt (tag
 * `mlflow.prompt.is_prompt`) has no files, and MLflow checks no source for it.
 */
export function checkVersionSource(source: string, by: 'run_id' | 'model_id', isPrompt: boolean): void {
  if (isPrompt) return;
  if (isLocal(source)) {
    const owner = by === 'model_id' ? 'model' : 'run';
    throw invalidParameter(
      `Invalid model version source: '${source}'. To use a local path as a model version source, the ${by} request parameter has to be specified and the local path has to be contained within the artifact directory of the ${owner} specified by the ${by}.`,
    );
  }
  let decoded = source;
  for (let next = unquotePlus(decoded); next !== decoded; next = unquotePlus(decoded)) decoded = next;
  const path = pathOf(decoded).replace(/\/+$/, '').replace(/\/+/g, '/');
  const escapes =
    path.includes('\u0000') ||
    decoded.split('/').includes('..') ||
    // What MLflow's pathlib resolve() would change: a relative (or empty) path, or a '.' segment.
    !path.startsWith('/') ||
    path.split('/').includes('.');
  if (escapes) {
    throw invalidParameter(
      `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
    );
  }
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** MLflow's is_local_uri on a POSIX server: no scheme, or `file:` on this host. */
function isLocal(uri: string): boolean {
  const m = SCHEME.exec(uri);
  if (!m) return true;
  if (m[1]!.toLowerCase() !== 'file') return false;
  const host = /^\/\/([^/?#]*)/.exec(uri.slice(m[0].length))?.[1]?.replace(/^.*@/, '').replace(/:\d*$/, '') ?? '';
  if (host === '' || host === '.' || host.startsWith('localhost') || host.startsWith('127.0.0.1')) return true;
  throw invalidParameter(
    `${uri} is not a valid remote uri. For remote access on windows, please consider using a different scheme such as SMB (e.g. smb://<hostname>/<path>).`,
  );
}

/** Python's urllib.parse.unquote_plus: '+' is a space, %XX runs are UTF-8 (bad bytes become U+FFFD). */
function unquotePlus(s: string): string {
  return s
    .replace(/\+/g, ' ')
    .replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

/** The path of a URI as Python's urlparse reads it: after the scheme and `//authority`, before `?` or `#`. */
function pathOf(uri: string): string {
  let rest = uri.slice(SCHEME.exec(uri)?.[0].length ?? 0);
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?#]/);
    rest = end === -1 ? '' : rest.slice(2 + end);
  }
  return rest.split(/[?#]/, 1)[0]!;
}
