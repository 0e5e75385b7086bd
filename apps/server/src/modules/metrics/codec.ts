/**
 * The compressed block format. A block's three columns (steps, values, times) are each stored
 * with the codec that suits them, chosen per block and per column and recorded in the block:
 *
 * - DOD: the column as integers (after scaling by 2^s, which is exact: a fractional millisecond
 *   time is a whole number of 2^-12 ms at today's epoch), delta-of-delta encoded as zigzag
 *   varints with runs of zeros counted. Regular steps and equal times cost a few bytes a block.
 * - XOR: each float64 XOR-ed with the one before it (the Gorilla idea, byte-aligned): a header
 *   byte (leading zero bytes, meaningful byte count) and the meaningful bytes. Exact for every bit
 *   pattern, NaN payloads and -0 included.
 * - RAW: the float64s as they are, when nothing else is smaller.
 *
 * Every codec is lossless to the bit. A coded block starts with MAGIC, the bytes of a float64 NaN:
 * the blocks written before this format start with their first step, which is never NaN, so both
 * kinds are told apart by their first 8 bytes and old blocks stay readable as they are.
 *
 * Layout (little-endian): MAGIC (8) · version u8 (1) · reserved u8 · n u32 · then per column
 * (steps, values, times): codec u8 · byteLength u32 · payload.
 */
/** A quiet NaN with the payload "TORA" + 1: never a stored block's first step. */
const MAGIC = Uint8Array.of(0x54, 0x4f, 0x52, 0x41, 0x01, 0x00, 0xf8, 0x7f);
const VERSION = 1;
const HEADER_BYTES = 8 + 1 + 1 + 4;
const COLUMN_HEADER_BYTES = 1 + 4;

/** The column codecs, as recorded in a block (never renumber: stored blocks name them). */
const Codec = { Raw: 0, Xor: 1, Dod: 2 } as const;
type Codec = (typeof Codec)[keyof typeof Codec];

export interface Columns {
  steps: Float64Array;
  values: Float64Array;
  times: Float64Array;
}

/** The largest power-of-two scale tried to make a column whole numbers (2^-20 of a unit). */
const MAX_SCALE = 20;

export function isCoded(data: Uint8Array): boolean {
  if (data.byteLength < HEADER_BYTES) return false;
  for (let i = 0; i < 8; i++) if (data[i] !== MAGIC[i]) return false;
  return true;
}

// ---------- DOD ----------

/** The smallest s such that every value × 2^s is a safe integer (and no value is -0), or -1. */
function integerScale(col: Float64Array): number {
  let scale = 0;
  let factor = 1;
  for (let i = 0; i < col.length; i++) {
    const v = col[i]!;
    let w = v * factor;
    while (!Number.isInteger(w)) {
      // Not finite (NaN, ±Infinity) never becomes whole: give up at the cap.
      if (++scale > MAX_SCALE) return -1;
      factor *= 2;
      w = v * factor;
    }
    if (!Number.isSafeInteger(w) || (w === 0 && 1 / v < 0)) return -1;
  }
  // An earlier value checked at a smaller scale is still whole at this one; only the range remains.
  if (scale > 0) for (let i = 0; i < col.length; i++) if (!Number.isSafeInteger(col[i]! * factor)) return -1;
  return scale;
}

const zigzag = (d: number): number => (d >= 0 ? 2 * d : -2 * d - 1);
const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
/** |delta-of-delta| must leave room for zigzag's doubling within the safe integers. */
const MAX_DOD = 2 ** 51;

function putVarint(out: Uint8Array, at: number, z: number): number {
  if (z < 0x80000000) {
    // The common case in 32-bit integer arithmetic.
    while (z >= 128) {
      out[at++] = (z & 127) | 128;
      z >>>= 7;
    }
    out[at++] = z;
    return at;
  }
  while (z >= 128) {
    out[at++] = (z % 128) + 128;
    z = Math.floor(z / 128);
  }
  out[at++] = z;
  return at;
}

/**
 * DOD payload: scale u8 · first value f64 · the varints, where a run of k zero delta-of-deltas is
 * "0, k - 1" (regular steps and equal times cost a few bytes per block) and any other is its zigzag
 * (≥ 1). Null where the column is not whole numbers within range. (Deflating the varints of jittery
 * client times saved under 1 % of a block and doubled the encoding time, so they stay as they are.)
 */
function encodeDod(col: Float64Array): Uint8Array | null {
  const n = col.length;
  const scale = integerScale(col);
  if (scale < 0) return null;
  const factor = 2 ** scale;
  const varints = new Uint8Array(10 + Math.max(0, n - 1) * 8);
  let at = 0;
  let prev = col[0]! * factor;
  let prevDelta = 0;
  let zeros = 0;
  for (let i = 1; i < n; i++) {
    const w = col[i]! * factor;
    const delta = w - prev;
    const dod = delta - prevDelta;
    if (!Number.isSafeInteger(delta) || !(Math.abs(dod) <= MAX_DOD)) return null;
    prev = w;
    prevDelta = delta;
    if (dod === 0) {
      zeros++;
      continue;
    }
    if (zeros > 0) {
      varints[at++] = 0;
      at = putVarint(varints, at, zeros - 1);
      zeros = 0;
    }
    at = putVarint(varints, at, zigzag(dod));
  }
  if (zeros > 0) {
    varints[at++] = 0;
    at = putVarint(varints, at, zeros - 1);
  }
  const out = new Uint8Array(1 + 8 + at);
  out[0] = scale;
  new DataView(out.buffer).setFloat64(1, col[0]!, true);
  out.set(varints.subarray(0, at), 9);
  return out;
}

function decodeDod(payload: Uint8Array, n: number, into: Float64Array): void {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const factor = 2 ** payload[0]!;
  const varints = payload.subarray(9);
  let w = view.getFloat64(1, true) * factor;
  into[0] = w / factor;
  let delta = 0;
  let at = 0;
  let zeros = 0;
  const next = (): number => {
    let b = varints[at++]!;
    if (b < 128) return b;
    let z = b & 127;
    let mul = 128;
    for (;;) {
      b = varints[at++]!;
      z += (b & 127) * mul;
      if (b < 128) return z;
      mul *= 128;
    }
  };
  for (let i = 1; i < n; i++) {
    if (zeros > 0) {
      zeros--;
    } else {
      const z = next();
      if (z === 0) zeros = next();
      else delta += unzigzag(z);
    }
    w += delta;
    into[i] = w / factor;
  }
}

// ---------- XOR ----------

/** Little-endian machines (every platform Node runs Tora on): word 2i is the low half of float64 i. */
function encodeXor(col: Float64Array): Uint8Array {
  const n = col.length;
  const words = new Uint32Array(col.buffer, col.byteOffset, n * 2);
  const out = new Uint8Array(n * 9);
  let at = 0;
  let prevLo = 0;
  let prevHi = 0;
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    const xlo = (lo ^ prevLo) >>> 0;
    const xhi = (hi ^ prevHi) >>> 0;
    prevLo = lo;
    prevHi = hi;
    if (xlo === 0 && xhi === 0) {
      out[at++] = 0;
      continue;
    }
    // Bytes numbered 0 (most significant) to 7: skip the leading and trailing zero bytes.
    const lead = xhi === 0 ? 4 + (Math.clz32(xlo) >> 3) : Math.clz32(xhi) >> 3;
    const trail = xlo === 0 ? 4 + ((31 - Math.clz32(xhi & -xhi)) >> 3) : (31 - Math.clz32(xlo & -xlo)) >> 3;
    const len = 8 - lead - trail;
    out[at++] = (lead << 4) | len;
    for (let j = lead; j < lead + len; j++) {
      out[at++] = j < 4 ? (xhi >>> (24 - 8 * j)) & 255 : (xlo >>> (24 - 8 * (j - 4))) & 255;
    }
  }
  return out.subarray(0, at);
}

function decodeXor(payload: Uint8Array, n: number, into: Float64Array): void {
  const words = new Uint32Array(into.buffer, into.byteOffset, n * 2);
  let at = 0;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const head = payload[at++]!;
    const lead = head >> 4;
    const len = head & 15;
    let xhi = 0;
    let xlo = 0;
    for (let j = lead; j < lead + len; j++) {
      const b = payload[at++]!;
      if (j < 4) xhi |= b << (24 - 8 * j);
      else xlo |= b << (24 - 8 * (j - 4));
    }
    hi = (hi ^ xhi) >>> 0;
    lo = (lo ^ xlo) >>> 0;
    words[2 * i] = lo;
    words[2 * i + 1] = hi;
  }
}

// ---------- blocks ----------

function rawBytes(col: Float64Array): Uint8Array {
  return new Uint8Array(col.buffer, col.byteOffset, col.byteLength);
}

/** The smallest of the codecs that apply: DOD for whole numbers, else XOR, else RAW. */
function encodeColumn(col: Float64Array): [Codec, Uint8Array] {
  const dod = encodeDod(col);
  if (dod !== null && dod.byteLength < col.byteLength) return [Codec.Dod, dod];
  const xor = encodeXor(col);
  return xor.byteLength < col.byteLength ? [Codec.Xor, xor] : [Codec.Raw, rawBytes(col)];
}

/** One coded block of `cols` (equal lengths, at least one point). */
export function encodeBlock(cols: Columns): Uint8Array {
  const n = cols.values.length;
  const parts = [cols.steps, cols.values, cols.times].map((c) => encodeColumn(c.length === n ? c : c.subarray(0, n)));
  const size = HEADER_BYTES + parts.reduce((sum, [, p]) => sum + COLUMN_HEADER_BYTES + p.byteLength, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[8] = VERSION;
  view.setUint32(10, n, true);
  let at = HEADER_BYTES;
  for (const [codec, payload] of parts) {
    out[at] = codec;
    view.setUint32(at + 1, payload.byteLength, true);
    out.set(payload, at + COLUMN_HEADER_BYTES);
    at += COLUMN_HEADER_BYTES + payload.byteLength;
  }
  return out;
}

/** The columns of a coded block, as one Float64Array of 3n (steps, values, times) like a raw block. */
export function decodeBlock(data: Uint8Array): Float64Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = data[8];
  if (version !== VERSION) throw new Error(`metric block: unknown format version ${String(version)}`);
  const n = view.getUint32(10, true);
  const out = new Float64Array(3 * n);
  let at = HEADER_BYTES;
  for (let c = 0; c < 3; c++) {
    const codec = data[at];
    const length = view.getUint32(at + 1, true);
    const payload = data.subarray(at + COLUMN_HEADER_BYTES, at + COLUMN_HEADER_BYTES + length);
    const into = out.subarray(c * n, (c + 1) * n);
    if (codec === Codec.Raw) new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(payload);
    else if (codec === Codec.Xor) decodeXor(payload, n, into);
    else if (codec === Codec.Dod) decodeDod(payload, n, into);
    else throw new Error(`metric block: unknown column codec ${String(codec)}`);
    at += COLUMN_HEADER_BYTES + length;
  }
  return out;
}
