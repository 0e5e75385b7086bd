import { describe, expect, it } from 'vitest';
import { fileTree, formatBytes, nearestStep, parseCsv, previewKind } from './preview';

describe('previewKind', () => {
  it('previews raster images, text and CSV, and never SVG or HTML', () => {
    expect(previewKind('image/png')).toBe('image');
    expect(previewKind('application/yaml')).toBe('text');
    expect(previewKind('text/csv')).toBe('csv');
    expect(previewKind('image/svg+xml')).toBe('none');
    expect(previewKind('text/html')).toBe('none');
    expect(previewKind('application/octet-stream')).toBe('none');
  });
});

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes and CRLF, up to maxRows', () => {
    expect(parseCsv('a,b\r\n1,"x, ""y"""\n2,3', 10)).toEqual([
      ['a', 'b'],
      ['1', 'x, "y"'],
      ['2', '3'],
    ]);
    expect(parseCsv('a\nb\nc\n', 2)).toEqual([['a'], ['b']]);
  });
});

describe('fileTree', () => {
  it('lists directories first with the size under them', () => {
    const rows = fileTree([
      { path: 'z.txt', size: 1 },
      { path: 'plots/b.png', size: 10 },
      { path: 'plots/a/c.png', size: 5 },
    ]);
    expect(rows.map((r) => [r.path, r.depth, r.dir, r.size])).toEqual([
      ['plots', 0, true, 15],
      ['plots/a', 1, true, 5],
      ['plots/a/c.png', 2, false, 5],
      ['plots/b.png', 1, false, 10],
      ['z.txt', 0, false, 1],
    ]);
  });
});

describe('nearestStep and formatBytes', () => {
  it('snaps to the nearest logged step', () => {
    const steps = [0, 10, 20, 100];
    expect(nearestStep(steps, 14)).toBe(1);
    expect(nearestStep(steps, 16)).toBe(2);
    expect(nearestStep(steps, 1000)).toBe(3);
    expect(nearestStep(steps, -5)).toBe(0);
  });
  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GB');
  });
});
