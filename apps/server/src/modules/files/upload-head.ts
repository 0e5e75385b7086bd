import { Readable } from 'node:stream';

/**
 * Reads up to `max` bytes from the start of an upload without consuming it: the bytes read are put
 * back (or, when the upload already ended, replayed by a new stream), so the caller can look at a
 * file's header before streaming the whole of it into the store. Only the head is held.
 *
 * @example const { head, body } = await readHead(request.raw, 64 * 1024);
 */
export function readHead(source: Readable, max: number): Promise<{ head: Buffer; body: Readable }> {
  if (source.readableEnded) return Promise.resolve({ head: Buffer.alloc(0), body: Readable.from([]) });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const finish = (ended: boolean) => {
      source.off('readable', onReadable);
      source.off('end', onEnd);
      source.off('error', onError);
      const head = Buffer.concat(chunks);
      if (ended) return resolve({ head, body: Readable.from(head.length === 0 ? [] : [head]) });
      source.unshift(head);
      resolve({ head, body: source });
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (bytes < max && (chunk = source.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        bytes += chunk.length;
      }
      if (bytes >= max) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = (err: Error) => {
      source.off('readable', onReadable);
      source.off('end', onEnd);
      reject(err);
    };
    source.on('readable', onReadable);
    source.on('end', onEnd);
    source.on('error', onError);
  });
}
