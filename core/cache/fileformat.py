"""One cache file: a fixed header (magic, format and code versions, kind, key, payload length and
sha256) before the payload. A file whose header does not match what the reader expects is invalid."""

from __future__ import annotations

import hashlib
import struct
from enum import IntEnum

from .columns import CacheInvalid

MAGIC = b"LYSCACHE"
FORMAT_VERSION = 1
"""Bumped whenever the header or a payload layout changes."""
HEADER = struct.Struct("<8sHH32s32sQ32s")
"""magic, format version, kind, code version, sha256 of the key, payload length, sha256 of the payload."""


class CacheKind(IntEnum):
    """What a cache file holds; its value is in the header, its prefix in the file name."""

    LAYER = 1
    FIGURES = 2
    CI = 3
    """``ci --json``'s figure sections, as text (``cache/figures.py``: ``CiParts``)."""
    MERGE = 4
    """An image's merged tree, by its layers' entry numbers (``cache/merged.py``)."""
    FOLDERS = 5
    """What each folder of an image's merged tree holds (``cache/sums.py``)."""

    @property
    def prefix(self) -> str:
        """The start of the file names of this kind."""
        return self.name.lower()


def key_digest(key: str) -> bytes:
    """The 32 bytes that stand for ``key`` in a header and (as hex) in a file name."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def seal(kind: CacheKind, code_version: bytes, key: str, payload: bytes) -> bytes:
    """The whole file for ``payload``."""
    digest = hashlib.sha256(payload).digest()
    head = HEADER.pack(MAGIC, FORMAT_VERSION, kind, code_version, key_digest(key), len(payload), digest)
    return head + payload


def unseal(data: bytes, kind: CacheKind, code_version: bytes, key: str) -> memoryview:
    """The payload of a file made by ``seal`` with the same kind, code version and key.

    Raises CacheInvalid for anything else (truncated, another version or key, a checksum mismatch)."""
    if len(data) < HEADER.size:
        raise CacheInvalid("shorter than the header")
    magic, version, got_kind, code, key_d, length, digest = HEADER.unpack_from(data)
    if magic != MAGIC or version != FORMAT_VERSION:
        raise CacheInvalid("not a cache file of this format version")
    if got_kind != kind or code != code_version:
        raise CacheInvalid("another kind or code version")
    if key_d != key_digest(key):
        raise CacheInvalid("written for another key")
    if length != len(data) - HEADER.size:
        raise CacheInvalid("payload length does not match the file")
    payload = memoryview(data)[HEADER.size :]
    if hashlib.sha256(payload).digest() != digest:
        raise CacheInvalid("checksum mismatch")
    return payload
