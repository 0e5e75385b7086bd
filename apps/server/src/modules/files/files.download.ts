import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ByteRange } from '../../lib/blob-store.js';

/**
 * Sends a stored file as a download, streamed, for both doors to a run's files (Tora's files
 * routes and MLflow's artifact proxy): `ETag` and `If-None-Match` (304), one `Range` (206, or 416
 * when it lies past the end; `If-Range` with another tag sends the whole file), `Accept-Ranges`,
 * and always `Content-Disposition: attachment`, so a browser saves it rather than rendering it.
 */

/**
 * The byte range a `Range` header asks of a file of `size` bytes: null to send the whole file
 * (no header, a unit other than bytes, several ranges, or a malformed one, as RFC 9110 allows),
 * 'unsatisfiable' when it starts past the end.
 *
 * @example parseRange('bytes=0-99', 1000) // { start: 0, end: 99 }
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

/** `attachment; filename*=UTF-8''…` with the file's last path segment. */
function attachment(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return `attachment; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export interface Download {
  path: string;
  size: number;
  /** The file's SHA-256 when recorded; no ETag otherwise. */
  sha256?: string;
  contentType: string;
  open: (range?: ByteRange) => Promise<Readable | null>;
}

export async function sendDownload(
  request: FastifyRequest,
  reply: FastifyReply,
  file: Download,
  errors: { unsatisfiable(size: number): Error; gone(): Error },
): Promise<FastifyReply> {
  const etag = file.sha256 === undefined ? undefined : `"${file.sha256}"`;
  reply
    .header('accept-ranges', 'bytes')
    .header('content-disposition', attachment(file.path))
    .header('x-content-type-options', 'nosniff');
  if (etag !== undefined) {
    reply.header('etag', etag);
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.status(304).send();
  }
  const ifRange = request.headers['if-range'] as string | undefined;
  const rangeAllowed = ifRange === undefined || (etag !== undefined && ifRange.trim() === etag);
  const range = rangeAllowed ? parseRange(request.headers.range, file.size) : null;
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${file.size}`);
    throw errors.unsatisfiable(file.size);
  }
  const stream = await file.open(range ?? undefined);
  if (stream === null) throw errors.gone();
  reply.type(file.contentType);
  if (range === null) return reply.header('content-length', String(file.size)).send(stream);
  return reply
    .status(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${file.size}`)
    .header('content-length', String(range.end - range.start + 1))
    .send(stream);
}
