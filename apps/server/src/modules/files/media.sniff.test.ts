import { describe, expect, it } from 'vitest';
import { gifHeader, jpegHeader, pngImage, webpLosslessHeader } from '../../../test/images.js';
import { mlflowCompressedPath, parseMlflowImagePath, sniffImage } from './media.sniff.js';

describe('sniffImage', () => {
  it('reads the format and size of PNG, JPEG, WebP and GIF from their headers', () => {
    expect(sniffImage(pngImage(7, 5))).toEqual({ contentType: 'image/png', extension: 'png', width: 7, height: 5 });
    expect(sniffImage(jpegHeader(640, 480))).toMatchObject({ contentType: 'image/jpeg', width: 640, height: 480 });
    expect(sniffImage(jpegHeader(3, 2, 5000))).toMatchObject({ width: 3, height: 2 });
    expect(sniffImage(webpLosslessHeader(300, 200))).toMatchObject({ contentType: 'image/webp', width: 300, height: 200 });
    expect(sniffImage(gifHeader(16, 9))).toMatchObject({ contentType: 'image/gif', width: 16, height: 9 });
  });

  it('refuses what is not one of those images, or whose header is cut off', () => {
    expect(sniffImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(sniffImage(Buffer.from('<html><script>alert(1)</script></html>'))).toBeNull();
    expect(sniffImage(pngImage(7, 5).subarray(0, 20))).toBeNull();
    expect(sniffImage(jpegHeader(640, 480).subarray(0, 22))).toBeNull();
    expect(sniffImage(Buffer.alloc(0))).toBeNull();
    expect(sniffImage(pngImage(0, 5))).toBeNull();
  });
});

describe('parseMlflowImagePath', () => {
  it("reads MLflow 3's log_image(key=, step=) naming ('+', '~' for '/') and its compressed companion", () => {
    const base = 'images/val~samples+step+12+timestamp+1733500000000+g1b2c3d4-aaaa';
    expect(parseMlflowImagePath(`${base}.png`)).toEqual({
      key: 'val/samples',
      step: 12,
      imagePath: `${base}.png`,
      compressed: false,
    });
    expect(parseMlflowImagePath(`${base}+compressed.webp`)).toMatchObject({ imagePath: `${base}.png`, compressed: true });
    expect(mlflowCompressedPath(`${base}.png`)).toBe(`${base}+compressed.webp`);
  });

  it("reads MLflow 2's naming ('%', '#' for '/') too", () => {
    const base = 'images/val#samples%step%12%timestamp%1733500000000%g1b2c3d4-aaaa';
    expect(parseMlflowImagePath(`${base}.png`)).toEqual({
      key: 'val/samples',
      step: 12,
      imagePath: `${base}.png`,
      compressed: false,
    });
    expect(parseMlflowImagePath(`${base}%compressed.webp`)).toEqual({
      key: 'val/samples',
      step: 12,
      imagePath: `${base}.png`,
      compressed: true,
    });
  });

  it('ignores every other path', () => {
    expect(parseMlflowImagePath('plots/curve.png')).toBeNull();
    expect(parseMlflowImagePath('images/x.png')).toBeNull();
    expect(parseMlflowImagePath('nested/images/k%step%1%timestamp%2%u.png')).toBeNull();
    expect(parseMlflowImagePath('images/k%step%1%timestamp%2%u.jpg')).toBeNull();
    expect(parseMlflowImagePath('images/k+step+1%timestamp%2%u.png')).toBeNull();
    expect(parseMlflowImagePath('images/k+step+1+timestamp+2+u%compressed.webp')).toBeNull();
  });
});
