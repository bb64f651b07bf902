"""The screenshot PNG reader decodes every filter type exactly (its pixel counts back the browser test)."""

from __future__ import annotations

import random
import struct
import zlib

import pytest

from tests.report.png import _paeth, read_png


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode(rows: list[bytes], width: int, channels: int, filters: list[int]) -> bytes:
    """Encode with the given filter per row (the inverse of what the reader undoes)."""
    out = b""
    prev = bytes(len(rows[0]))
    for row, kind in zip(rows, filters, strict=True):
        f = bytearray()
        for i, x in enumerate(row):
            left = row[i - channels] if i >= channels else 0
            up, up_left = prev[i], (prev[i - channels] if i >= channels else 0)
            pred = {0: 0, 1: left, 2: up, 3: (left + up) // 2, 4: _paeth(left, up, up_left)}[kind]
            f.append((x - pred) & 0xFF)
        out += bytes([kind]) + bytes(f)
        prev = row
    colour = 2 if channels == 3 else 6
    ihdr = struct.pack(">IIBBBBB", width, len(rows), 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(out)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("channels", [3, 4])
def test_round_trip_all_filters(channels: int) -> None:
    rnd = random.Random(7)
    width, height = 17, 25
    rows = [bytes(rnd.randrange(256) for _ in range(width * channels)) for _ in range(height)]
    filters = [y % 5 for y in range(height)]
    image = read_png(encode(rows, width, channels, filters))
    assert (image.width, image.height, image.channels) == (width, height, channels)
    assert image.rows == rows


def test_count_with_tolerance() -> None:
    rows = [bytes([10, 20, 30] * 4 + [12, 18, 30] * 2 + [200, 0, 0] * 2)]
    image = read_png(encode(rows, 8, 3, [0]))
    assert image.count((10, 20, 30), tolerance=0) == 4
    assert image.count((10, 20, 30), tolerance=2) == 6
    assert image.count((200, 0, 0)) == 2


def test_rejects_non_png() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        read_png(b"GIF89a")
