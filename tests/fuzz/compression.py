"""Layer compression as the mutators see it: recognise and undo gzip/zstd, compress again (the same way,
another way, or damaged: several gzip members, trailing zeros, trailing garbage)."""

from __future__ import annotations

import gzip
import random
import zlib

import zstandard

#: How a mutated layer is compressed again ("same" thrice: mostly as it was).
RECOMPRESS = ["same", "same", "same", "none", "gzip", "zstd", "gzip-multi", "gzip-zeros", "gzip-garbage"]


def decompress(data: bytes) -> tuple[bytes, str] | None:
    """``(tar bytes, "gzip" | "zstd" | "none")`` when ``data`` is a (compressed) tar, else None."""
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data), "gzip"
        except (OSError, EOFError, zlib.error):
            return None
    if data[:4] == b"\x28\xb5\x2f\xfd":
        try:
            return zstandard.ZstdDecompressor().decompressobj().decompress(data), "zstd"
        except zstandard.ZstdError:
            return None
    if len(data) >= 512 and (data[257:262] == b"ustar" or not any(data[:512])):
        return data, "none"
    return None


def compress(data: bytes, how: str, orig: str, seed: int) -> bytes:
    """``data`` compressed as ``how`` (one of RECOMPRESS; "same" means ``orig``)."""
    if how == "same":
        how = orig
    if how == "none":
        return data
    if how == "zstd":
        return zstandard.ZstdCompressor(level=1).compress(data)
    if how == "gzip-multi" and len(data) > 1:
        cut = random.Random(seed).randrange(1, len(data))
        return gzip.compress(data[:cut], 1, mtime=0) + gzip.compress(data[cut:], 1, mtime=0)
    out = gzip.compress(data, 1, mtime=0)
    if how == "gzip-zeros":
        out += bytes(random.Random(seed).choice([1, 2, 100, 70000]))
    elif how == "gzip-garbage":
        out += b"\x1f" if seed % 2 else b"garbage"
    return out
