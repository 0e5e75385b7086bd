import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { ArtifactTooLargeError, ArtifactUploadCutError } from './artifacts.store.js';

/** An upload's body as every blob backend reads it: counted, hashed, capped, and failing when the client goes away. */
export interface MeteredBody {
  /** The bytes, to be read once; errors with ArtifactTooLargeError past `maxBytes`, ArtifactUploadCutError on a cut. */
  readonly stream: Transform;
  /** Bytes read so far. */
  size(): number;
  /** SHA-256 (hex) of the bytes read; call once, at the end. */
  sha256(): string;
  /** After a failure: the rest of the body is read and dropped, so the client gets the answer (a 413), not a reset. */
  drop(): void;
  /** After success: the body's end is no longer a cut. */
  release(): void;
}

/**
 * Wraps an upload's body. Not pipeline(body, …): that would destroy the request on a refusal, and the
 * client would see a reset connection instead of the 413.
 *
 * @example
 *   const metered = meteredBody(request.raw, 1e9);
 *   for await (const chunk of metered.stream) store(chunk);
 *   metered.release();
 *   return { size: metered.size(), sha256: metered.sha256() };
 */
export function meteredBody(body: Readable, maxBytes: number): MeteredBody {
  let bytes = 0;
  const hash = createHash('sha256');
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      hash.update(chunk);
      if (bytes > maxBytes) done(new ArtifactTooLargeError(`Artifact is larger than the limit of ${maxBytes} bytes`));
      else done(null, chunk);
    },
  });
  const cut = () => {
    if (!body.readableEnded) counter.destroy(new ArtifactUploadCutError('The upload was cut off before its end'));
  };
  body.on('error', cut);
  body.on('close', cut);
  // The client may have gone while the store got ready (a path check, a round trip to the bucket):
  // its 'close' is past, and a destroyed body never ends.
  if (body.destroyed) cut();
  else body.pipe(counter);
  return {
    stream: counter,
    size: () => bytes,
    sha256: () => hash.digest('hex'),
    drop() {
      body.unpipe(counter);
      body.resume();
    },
    release() {
      body.off('error', cut);
      body.off('close', cut);
    },
  };
}
