"""Images and tables: checked at the call (cheap), encoded on the sender thread.

``check_image`` runs on the training loop's thread: it validates the argument and takes a
snapshot (a copy of an array, which the loop may overwrite next step) without encoding anything.
``encode_image`` runs on the sender thread and returns the bytes to upload with their type. The
PNG encoder is the standard library's ``zlib`` and ``struct``; numpy and PIL are imported only
when the caller passed one of their objects, so neither is a dependency.

Example::

    pixels = bytes([255, 0, 0] * 4)                      # a 2x2 red RGB image, row after row
    png = encode_png(pixels, width=2, height=2, channels=3)
"""

from __future__ import annotations

import csv
import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any, Optional, Sequence, Union

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The formats the server stores as media, by their first bytes.
_MAGIC = (
    (PNG_SIGNATURE, "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
# numpy.ndarray once an array was logged: this module never imports numpy, and on a training loop's
# cold caches ``type(x).__module__`` costs ~9 µs against a pointer compare's nothing (bench/media).
_ndarray: Any = None


def sniff(data: bytes) -> Optional[str]:
    """The content type of PNG, JPEG, WebP or GIF bytes, else None."""
    for magic, ctype in _MAGIC:
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: bytes, width: int, height: int, channels: int, level: int = 6) -> bytes:
    """An 8-bit PNG of ``height`` rows of ``width * channels`` bytes each (1: grey, 2: grey and
    alpha, 3: RGB, 4: RGBA). Rows are stored unfiltered: ``zlib`` does the compressing."""
    stride = width * channels
    if channels not in _COLOR_TYPE or width < 1 or height < 1 or len(pixels) != stride * height:
        raise ValueError(f"{len(pixels)} bytes are not {height} rows of {width}x{channels} pixels")
    view = memoryview(pixels)
    raw = b"".join(b"\x00" + view[r * stride : (r + 1) * stride] for r in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    idat = zlib.compress(raw, level)
    return b"".join((PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", idat), _chunk(b"IEND", b"")))


class Image:
    """An image for ``tora.log``, as ``wandb.Image``: PNG/JPEG/WebP/GIF bytes, a file path, a
    numpy array (``HxW``, ``HxWx1``, ``HxWx3``, ``HxWx4``; uint8, or float in [0, 1]) or a PIL
    image. ``caption`` is accepted for wandb's sake and not stored.

    Example::

        tora.log({"samples": tora.Image(batch[0])})
    """

    def __init__(self, data_or_path: Any, caption: Optional[str] = None, mode: Optional[str] = None) -> None:
        self.source: ImageSource = check_image(data_or_path)
        self.caption = caption


class Table:
    """A table for ``tora.log``, as ``wandb.Table``: stored as a CSV file
    (``tables/<key>/<step>.csv``), which Tora's Files section shows as a table.

    Example::

        tora.log({"predictions": tora.Table(columns=["id", "label"], data=[[1, "cat"], [2, "dog"]])})
    """

    def __init__(
        self,
        columns: Optional[Sequence[Any]] = None,
        data: Optional[Sequence[Sequence[Any]]] = None,
        dataframe: Any = None,
    ) -> None:
        if dataframe is not None:
            columns = list(dataframe.columns) if columns is None else columns
            data = dataframe.values.tolist()
        self.columns = [str(c) for c in (columns or [])]
        self.data = [list(row) for row in (data or [])]
        for i, row in enumerate(self.data):
            if self.columns and len(row) != len(self.columns):
                raise ValueError(f"table row {i} has {len(row)} values for {len(self.columns)} columns")

    def add_data(self, *values: Any) -> None:
        if self.columns and len(values) != len(self.columns):
            raise ValueError(f"{len(values)} values for {len(self.columns)} columns")
        self.data.append(list(values))

    def to_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if self.columns:
            writer.writerow(self.columns)
        writer.writerows(self.data)
        return out.getvalue().encode("utf-8")


ImageSource = Union[bytes, Path, Any]  # bytes, a path, a numpy array or a PIL image (snapshots)


def check_image(image: Any) -> ImageSource:
    """Validates an image argument on the caller's thread and returns a snapshot to encode later.

    Raises TypeError for what is no image, ValueError for bytes of another format, a missing file
    or an array of the wrong shape or dtype.
    """
    global _ndarray
    t = type(image)
    if t is _ndarray or t.__module__ == "numpy":  # first: the training loop's common case, kept cheap
        if _ndarray is None and t.__name__ == "ndarray":
            _ndarray = t
        return _copy_array(image)
    if isinstance(image, Image):  # its snapshot may be logged again: each upload gets its own copy
        source = image.source
        return _copy_array(source) if type(source).__module__ == "numpy" else source
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
        if sniff(data) is None:
            raise ValueError("image bytes must be PNG, JPEG, WebP or GIF")
        return data
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise ValueError(f"image file not found: {path}")
        return path
    if t.__module__.startswith("PIL."):
        return image.copy()
    raise TypeError(
        "image must be PNG/JPEG/WebP/GIF bytes, a file path, a numpy array or a PIL image, "
        f"got {type(image).__name__}"
    )


def _copy_array(array: Any) -> Any:
    shape, dtype = array.shape, array.dtype
    ndim, char = len(shape), dtype.char
    if not (ndim == 2 or (ndim == 3 and shape[2] in _COLOR_TYPE)) or 0 in shape:
        raise ValueError(f"image array must be HxW, HxWx1, HxWx3 or HxWx4, got shape {shape}")
    if char != "B" and dtype.kind != "f":
        raise ValueError(f"image array must be uint8, or float in [0, 1]; got {dtype}")
    return _copies.copy(array, (shape, char))  # the loop may reuse its buffer before the sender encodes it


def encode_image(source: ImageSource) -> tuple[Union[bytes, Path], str]:
    """The bytes (or file) to upload for a snapshot of ``check_image``, with its content type.
    Runs on the sender thread."""
    if isinstance(source, bytes):
        return source, sniff(source) or "application/octet-stream"
    if isinstance(source, Path):
        with open(source, "rb") as f:
            ctype = sniff(f.read(16))
        if ctype is None:
            raise ValueError(f"{source} is not a PNG, JPEG, WebP or GIF image")
        return source, ctype
    if type(source).__module__.startswith("PIL."):
        buf = io.BytesIO()
        image = source if source.mode in ("L", "LA", "RGB", "RGBA") else source.convert("RGBA")
        image.save(buf, format="PNG")
        return buf.getvalue(), "image/png"
    png = array_to_png(source)
    _copies.release(source)
    return png, "image/png"


class _Copies:
    """Recycles the arrays ``check_image`` copies into, per shape and dtype character.

    A fresh 196 kB array costs the training loop its page faults on every copy (tens of
    microseconds); a copy into an array the sender has finished with costs only the memcpy. Arrays
    come back here once encoded. The sender encodes a batch's images once per ``flush_interval``
    (1 s), so a loop logging an image per 50 ms step has ~20 in flight: the pool keeps up to
    ``BUDGET`` bytes of arrays per shape (at least ``KEEP`` arrays), enough for every one of them
    (a smaller pool missed 70 of 200 calls in bench/media, each a fresh array's page faults).

    The dtype character (``B``, ``f``, ``d``, ``e``) keys the pool, not ``dtype.str``: it is
    cheaper on cold caches, and a copy of a big-endian array into a native one keeps its values.
    """

    KEEP = 2
    BUDGET = 32 << 20

    def __init__(self) -> None:
        self._free: dict[tuple[Any, ...], list[Any]] = {}

    def copy(self, array: Any, key: tuple[Any, ...]) -> Any:
        free = self._free.get(key)
        try:
            out = free.pop()  # type: ignore[union-attr]  # list.pop: atomic under the GIL
        except (AttributeError, IndexError):
            return array.copy()
        out[...] = array
        return out

    def release(self, array: Any) -> None:
        free = self._free.setdefault((array.shape, array.dtype.char), [])
        keep = max(self.KEEP, self.BUDGET // max(1, array.nbytes))
        if len(free) < keep and not any(a is array for a in free):
            free.append(array)


_copies = _Copies()


def array_to_png(array: Any) -> bytes:
    """A PNG of a numpy ``HxW[xC]`` array: uint8 as is, floats scaled from [0, 1] (clipped; NaN
    is black)."""
    import numpy as np

    if array.dtype.kind == "f":
        array = np.nan_to_num(np.clip(array, 0.0, 1.0), nan=0.0) * 255.0 + 0.5
        array = array.astype(np.uint8)
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    return encode_png(np.ascontiguousarray(array).tobytes(), width, height, channels)
