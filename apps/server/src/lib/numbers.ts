/** JSON cannot carry NaN/±Infinity; Tora's wire form spells them as strings. */
export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export function toWire(value: number): WireNumber {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/** Parses a wire number; returns undefined for anything that is not one. */
export function fromWire(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    switch (value) {
      case 'NaN':
      case 'nan':
        return NaN;
      case 'Infinity':
      case 'inf':
      case '+Infinity':
        return Infinity;
      case '-Infinity':
      case '-inf':
        return -Infinity;
      default:
        return undefined;
    }
  }
  return undefined;
}
