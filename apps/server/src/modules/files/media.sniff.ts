import { FILE_LIMITS } from '../../lib/limits.js';

/**
 * What an image is, from its first bytes only (uploads are streamed, so the server never holds a
 * whole image): the format by its magic bytes and the size from its header. Pure functions.
 *
 * @example sniffImage(pngBytes) // { contentType: 'image/png', extension: 'png', width: 256, height: 256 }
 */

export interface ImageInfo {
  contentType: 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';
  extension: 'png' | 'jpg' | 'webp' | 'gif';
  width: number;
  height: number;
}

/** How much of an upload is read ahead to find a header: a JPEG's frame header follows its EXIF segments. */
export const IMAGE_HEAD_BYTES = FILE_LIMITS.imageHeadBytes;

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function png(b: Buffer): ImageInfo | null {
  if (b.length < 24 || !b.subarray(0, 8).equals(PNG_MAGIC) || b.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { contentType: 'image/png', extension: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

function gif(b: Buffer): ImageInfo | null {
  const magic = b.toString('latin1', 0, 6);
  if (b.length < 10 || (magic !== 'GIF87a' && magic !== 'GIF89a')) return null;
  return { contentType: 'image/gif', extension: 'gif', width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
}

function webp(b: Buffer): ImageInfo | null {
  if (b.length < 30 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WEBP') return null;
  const size = (width: number, height: number): ImageInfo => ({ contentType: 'image/webp', extension: 'webp', width, height });
  switch (b.toString('latin1', 12, 16)) {
    case 'VP8 ': // lossy: a key frame's start code, then 14-bit width and height
      if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
      return size(b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff);
    case 'VP8L': {
      // lossless: a signature byte, then width-1 and height-1 in 14 bits each
      if (b[20] !== 0x2f) return null;
      const bits = b.readUInt32LE(21);
      return size((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    case 'VP8X': // extended: canvas width-1 and height-1 in 24 bits each
      return size(b.readUIntLE(24, 3) + 1, b.readUIntLE(27, 3) + 1);
    default:
      return null;
  }
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpeg(b: Buffer): ImageInfo | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) return null;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (SOF_MARKERS.has(marker)) {
      if (i + 9 > b.length) return null;
      return { contentType: 'image/jpeg', extension: 'jpg', width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5) };
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or scan data before any frame header
    i += 2 + b.readUInt16BE(i + 2);
  }
  return null;
}

/** The image's format and size, or null when the bytes are not a PNG, JPEG, WebP or GIF whose header is within them. */
export function sniffImage(head: Buffer): ImageInfo | null {
  const info = png(head) ?? gif(head) ?? webp(head) ?? jpeg(head);
  return info !== null && info.width > 0 && info.height > 0 ? info : null;
}

/** What the MLflow client's `log_image(image, key=, step=)` names its files. */
export interface MlflowImageName {
  key: string;
  step: number;
  /** The full-size image's path, for both it and its compressed companion. */
  imagePath: string;
  compressed: boolean;
}

// images/<key>+step+<n>+timestamp+<ms>+<uuid>.png and the same + '+compressed.webp' (MLflow ≥ 3.x:
// '/' in the key as '~'); MLflow 2.x wrote '%' for '+' and '#' for '/'. Keys hold neither separator.
const MLFLOW_IMAGE = /^images\/([^/%+]+)([%+])step\2(-?\d+)\2timestamp\2(-?\d+)\2([^/%+]+)(\.png|[%+]compressed\.webp)$/;

/**
 * Reads MLflow's naming of a step-keyed image (its client's `log_image`), from a path relative to
 * the run's files; null for any other path.
 *
 * @example parseMlflowImagePath('images/val~samples+step+3+timestamp+17+ab.png') // { key: 'val/samples', step: 3, … }
 */
export function parseMlflowImagePath(path: string): MlflowImageName | null {
  const m = MLFLOW_IMAGE.exec(path);
  if (!m) return null;
  const [, key, sep, stepText, timestamp, uuid, ending] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const step = Number(stepText);
  if (!Number.isSafeInteger(step) || (ending !== '.png' && ending[0] !== sep)) return null;
  return {
    key: key.replace(/[#~]/g, '/'),
    step,
    imagePath: `images/${key}${sep}step${sep}${stepText}${sep}timestamp${sep}${timestamp}${sep}${uuid}.png`,
    compressed: ending !== '.png',
  };
}

/** The path of the compressed companion MLflow uploads after the image at `imagePath`. */
export function mlflowCompressedPath(imagePath: string): string {
  const sep = imagePath.includes('+step+') ? '+' : '%';
  return `${imagePath.slice(0, -'.png'.length)}${sep}compressed.webp`;
}
