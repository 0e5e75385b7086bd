"""The standard-library PNG encoder and the image checks, without a server: every PNG made here is
taken apart with zlib and struct and its pixels compared with what went in."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from tora import Image, Table
from tora._media import array_to_png, check_image, encode_image, encode_png, sniff


def decode_png(png: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, colour type, unfiltered pixel bytes) of an 8-bit PNG whose rows use filter
    0; every chunk's CRC is checked."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data), f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
        if kind == b"IEND":
            break
    assert pos == len(png) and header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = zlib.decompress(idat)
    stride = width * channels
    assert len(raw) == height * (stride + 1)
    rows = [raw[r * (stride + 1) : (r + 1) * (stride + 1)] for r in range(height)]
    assert all(row[0] == 0 for row in rows)  # filter type None
    return width, height, color, b"".join(row[1:] for row in rows)


def test_encode_png_from_plain_bytes() -> None:
    pixels = bytes(range(2 * 3 * 3))  # 3 rows of 2 RGB pixels
    width, height, color, out = decode_png(encode_png(pixels, width=2, height=3, channels=3))
    assert (width, height, color, out) == (2, 3, 2, pixels)


def test_encode_png_refuses_a_wrong_length() -> None:
    with pytest.raises(ValueError, match="rows"):
        encode_png(b"\x00" * 5, width=2, height=1, channels=3)


@pytest.mark.parametrize(
    ("shape", "color"), [((5, 7), 0), ((5, 7, 1), 0), ((5, 7, 3), 2), ((5, 7, 4), 6), ((1, 1, 3), 2)]
)
def test_uint8_arrays_keep_every_pixel(shape: tuple[int, ...], color: int) -> None:
    array = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    width, height, got_color, out = decode_png(array_to_png(array))
    assert (width, height, got_color) == (shape[1], shape[0], color)
    assert out == array.tobytes()


def test_float_arrays_are_scaled_from_0_1_clipped_and_nan_is_black() -> None:
    array = np.array([[0.0, 1.0, 0.5, -3.0, 7.0, np.nan]], dtype=np.float32)
    _, _, _, out = decode_png(array_to_png(array))
    assert list(out) == [0, 255, 128, 0, 255, 0]


def test_a_non_contiguous_array_is_encoded_as_seen() -> None:
    array = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)[:, ::2]  # every other column
    _, _, _, out = decode_png(array_to_png(array))
    assert out == np.ascontiguousarray(array).tobytes()


def test_the_array_is_copied_at_the_call() -> None:
    array = np.zeros((2, 2, 3), dtype=np.uint8)
    snapshot = check_image(array)
    array[:] = 255  # the training loop reuses its buffer before the sender encodes
    _, _, _, out = decode_png(encode_image(snapshot)[0])  # type: ignore[arg-type]
    assert out == bytes(12)


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.zeros((2, 2, 5), dtype=np.uint8), ValueError, "HxW"),
        (np.zeros((2, 2, 2, 3), dtype=np.uint8), ValueError, "HxW"),
        (np.zeros((0, 4), dtype=np.uint8), ValueError, "HxW"),
        (np.zeros((2, 2), dtype=np.int64), ValueError, "uint8"),
        (b"GIF88 not an image", ValueError, "PNG, JPEG"),
        ("/no/such/image.png", ValueError, "not found"),
        (12, TypeError, "numpy array"),
    ],
)
def test_what_is_no_image_is_refused_at_the_call(bad: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        check_image(bad)


def test_bytes_and_files_keep_their_format(tmp_path: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 20
    webp = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8
    assert encode_image(check_image(jpeg)) == (jpeg, "image/jpeg")
    assert sniff(webp) == "image/webp" and sniff(b"GIF89a...") == "image/gif"
    path = tmp_path / "x.bin"
    path.write_bytes(jpeg)
    assert encode_image(check_image(str(path))) == (path, "image/jpeg")
    path.write_bytes(b"plain text")
    with pytest.raises(ValueError, match="not a PNG"):
        encode_image(check_image(path))


def test_copies_are_recycled_once_encoded_and_never_shared() -> None:
    first = check_image(np.full((4, 4, 3), 1, dtype=np.uint8))
    encode_image(first)  # the sender is done with it: its array may hold the next copy
    second = check_image(np.full((4, 4, 3), 2, dtype=np.uint8))
    assert second is first and int(second[0, 0, 0]) == 2
    # An Image logged twice: each upload encodes its own copy, whatever is logged in between.
    img = Image(np.full((4, 4, 3), 3, dtype=np.uint8))
    a, b = check_image(img), check_image(img)
    assert a is not b
    encode_image(a)
    check_image(np.full((4, 4, 3), 9, dtype=np.uint8))  # reuses a's array
    assert decode_png(encode_image(b)[0])[3] == bytes([3]) * 48  # type: ignore[arg-type]
    assert decode_png(encode_image(check_image(img))[0])[3] == bytes([3]) * 48  # type: ignore[arg-type]


def test_copies_pool_holds_a_second_of_images_logged_per_step() -> None:
    # The sender encodes a batch's images once per flush interval: ~20 at one per 50 ms step. All
    # of them come back to the pool, so the next second's copies are made into recycled arrays
    # (a pool of 8 made 12 of every 20 copies into fresh memory, each a page fault per 4 kB).
    shape = (256, 256, 3)
    first = [check_image(np.full(shape, i, dtype=np.uint8)) for i in range(20)]
    for a in first:
        encode_image(a)
    again = [check_image(np.full(shape, 100 + i, dtype=np.uint8)) for i in range(20)]
    assert {id(a) for a in again} == {id(a) for a in first}
    assert [int(a[0, 0, 0]) for a in again] == [100 + i for i in range(20)]
    # Big-endian floats share the pool of native ones (keyed by dtype character): values kept.
    big = np.full((2, 2), 0.25, dtype=">f8")
    snap = check_image(big)
    encode_image(snap)
    assert float(check_image(np.full((2, 2), 0.75, dtype="<f8"))[0, 0]) == 0.75
    assert float(check_image(big)[1, 1]) == 0.25


def test_image_wraps_any_source_and_table_makes_csv() -> None:
    img = Image(np.zeros((3, 3), dtype=np.uint8), caption="zeros")
    assert np.array_equal(Image(img).source, img.source)
    table = Table(columns=["id", "label"], data=[[1, "cat"], [2, 'say "hi", twice']])
    table.add_data(3, None)
    assert table.to_csv() == b'id,label\n1,cat\n2,"say ""hi"", twice"\n3,\n'
    with pytest.raises(ValueError, match="2 columns"):
        Table(columns=["a", "b"], data=[[1]])
