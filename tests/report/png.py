"""A minimal PNG reader for screenshot checks (8-bit RGB/RGBA, non-interlaced: what Chromium writes).

Enough to count pixels of a given colour without adding an imaging dependency.
The common 'Up' filter is undone with big-integer SWAR arithmetic (byte-wise add
without carries), and colours are counted through a histogram, to keep the pure
Python cost of a 1280x1600 screenshot around a second.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache


@dataclass
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]
    _histogram: Counter[tuple[int, int, int]] | None = field(default=None, repr=False)

    def histogram(self) -> Counter[tuple[int, int, int]]:
        """Pixel count per RGB colour."""
        if self._histogram is None:
            c = self.channels
            hist: Counter[tuple[int, int, int]] = Counter()
            for row in self.rows:
                hist.update(zip(row[0::c], row[1::c], row[2::c], strict=True))
            self._histogram = hist
        return self._histogram

    def count(self, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
        """Pixels within `tolerance` of a colour in every channel."""
        r0, g0, b0 = rgb
        return sum(
            n
            for (r, g, b), n in self.histogram().items()
            if abs(r - r0) <= tolerance and abs(g - g0) <= tolerance and abs(b - b0) <= tolerance
        )


@cache
def _masks(n: int) -> tuple[int, int]:
    return int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")


def _add_bytes(x: bytes, y: bytes) -> bytes:
    """(x[i] + y[i]) mod 256 for every i, without a Python-level loop."""
    low7, high = _masks(len(x))
    a, b = int.from_bytes(x, "big"), int.from_bytes(y, "big")
    return (((a & low7) + (b & low7)) ^ ((a ^ b) & high)).to_bytes(len(x), "big")


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytes, prev: bytes, bpp: int) -> bytes:
    if kind == 0:
        return line
    if kind == 2:
        return _add_bytes(line, prev)
    out = bytearray(line)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        if kind == 1:
            out[i] = (out[i] + left) & 0xFF
        elif kind == 3:
            out[i] = (out[i] + (left + prev[i]) // 2) & 0xFF
        elif kind == 4:
            out[i] = (out[i] + _paeth(left, prev[i], prev[i - bpp] if i >= bpp else 0)) & 0xFF
        else:
            raise ValueError(f"bad PNG filter type {kind}")
    return bytes(out)


def read_png(data: bytes) -> Image:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        prev = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], prev, channels)
        rows.append(prev)
    return Image(width, height, channels, rows)
