"""Content digests (``sha256:<hex>``): the one pattern LayerScope recognises them by, and hashing.

The grammar is the OCI image spec's: ``algorithm ":" encoded``, where the algorithm is lowercase
words joined by ``+ . _ -`` and the encoded part is ``[a-zA-Z0-9=_-]+``.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Callable

from .progress import BytesProgress, CancelCheck, check_cancelled

DIGEST = re.compile(r"^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$")
"""A digest: group 1 is the algorithm, group 2 the encoded hash."""

_HEX = frozenset(string.hexdigits)


def split_digest(text: str) -> tuple[str, str] | None:
    """``"sha256:ab.."`` -> ``("sha256", "ab..")``; None when ``text`` is not a digest."""
    m = DIGEST.match(text)
    return (m.group(1), m.group(2)) if m else None


def is_digest(text: str) -> bool:
    """Whether ``text`` is a digest by the OCI grammar."""
    return DIGEST.match(text) is not None


def is_content_digest(text: str) -> bool:
    """Whether ``text`` is a digest whose hash is hexadecimal and at least 128 bits long.

    Stricter than ``is_digest``: ``localhost:5000`` follows the grammar but names no content.
    """
    parts = split_digest(text)
    return parts is not None and len(parts[1]) >= 32 and _HEX.issuperset(parts[1])


def is_sha256_hex(text: str) -> bool:
    """Whether ``text`` is the 64 lowercase hex digits of a sha256 (a blob file name)."""
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def blob_path(digest: str) -> str | None:
    """The member of an OCI layout holding the blob ``digest`` (``blobs/<alg>/<hash>``), or None."""
    parts = split_digest(digest)
    return f"blobs/{parts[0]}/{parts[1]}" if parts else None


def sha256_stream(
    read: Callable[[int], bytes], progress: BytesProgress | None = None, cancelled: CancelCheck | None = None
) -> tuple[str, int]:
    """``("sha256:<hex>", byte count)`` of everything ``read`` yields. Raises Cancelled."""
    h = hashlib.sha256()
    n = 0
    while b := read(1 << 20):
        h.update(b)
        n += len(b)
        if progress is not None:
            progress(n)
        check_cancelled(cancelled)
    return "sha256:" + h.hexdigest(), n
