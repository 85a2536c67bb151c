"""What makes a cache entry valid: the content digest of a layer's bytes, checked when the entry is made.

A layer's entry is keyed by the sha256 of its stored bytes: the diff_id for a plain layer (the blob
is the tar), the blob digest for a compressed one, plus the eStargz flag (it changes the index). An
entry is written only after LayerScope hashed the blob and found that digest, so no archive can
store an index under a digest its bytes do not have. Reading trusts the archive's digests, as a
container runtime trusts its content store: a layer that lies about its own digest may be shown
with the entry of the genuine one (``--no-cache``, and ``inspect --verify`` names the lie).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence

from ..archive.records import Archive, ImageRecord, LayerDesc

_SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")
_HASH_SLICE = 16 << 20


def layer_claim(desc: LayerDesc) -> str | None:
    """The digest the archive says the layer's stored bytes have, or None when it gives none usable."""
    comp = desc.compression
    if comp.is_plain:
        claim = desc.diff_id if desc.diff_id and _SHA256.match(desc.diff_id) else desc.digest
    elif comp.is_supported:
        claim = desc.digest
    else:
        return None
    return claim if claim and _SHA256.match(claim) else None


def layer_key(desc: LayerDesc) -> str | None:
    """The cache key of the layer's index as the archive describes it (None: not cacheable)."""
    claim = layer_claim(desc)
    if claim is None:
        return None
    return f"layer {claim}{' estargz' if desc.estargz else ''}"


def verified_key(archive: Archive, desc: LayerDesc, stop: threading.Event | None = None) -> str | None:
    """``layer_key(desc)`` when the blob's bytes really hash to its claim (reads them all), else None
    (also when ``stop`` is set before the end).

    Raises MissingBlob when the archive does not ship the blob."""
    from ..layers.source import layer_blob

    claim = layer_claim(desc)
    if claim is None:
        return None
    blob = layer_blob(archive, desc)
    buf = blob.buf
    h = hashlib.sha256()
    for a in range(0, len(buf), _HASH_SLICE):
        if stop is not None and stop.is_set():
            return None
        b = min(a + _HASH_SLICE, len(buf))
        h.update(buf[a:b])  # hashlib lets go of the GIL for large buffers
        blob.release(a, b)
    return layer_key(desc) if "sha256:" + h.hexdigest() == claim else None


class Verification:
    """``verified_key`` run in a thread from now on, beside the indexing (hashing holds no GIL)."""

    def __init__(self, archive: Archive, desc: LayerDesc) -> None:
        self._stop = threading.Event()
        self._key: list[str | None] = []
        self._thread = threading.Thread(
            target=self._run, args=(archive, desc), name=f"verify layer {desc.index}", daemon=True
        )
        self._thread.start()

    def _run(self, archive: Archive, desc: LayerDesc) -> None:
        try:
            self._key.append(verified_key(archive, desc, self._stop))
        except Exception:  # a blob that cannot be hashed is one that is not cached
            self._key.append(None)

    def key(self) -> str | None:
        """Wait for the hash; the verified key, or None."""
        self._thread.join()
        return self._key[0] if self._key else None

    def cancel(self) -> None:
        """Stop hashing and wait until the thread lets go of the blob."""
        self._stop.set()
        self._thread.join()


def figures_key(image: ImageRecord, layer_keys: Sequence[str | None], base_layers: int) -> str | None:
    """The cache key of an image's figures: its config digest, its layers' keys, the base layers left
    out (None when a layer is not cacheable)."""
    if any(k is None for k in layer_keys) or not _SHA256.match(image.config_digest):
        return None
    return "\n".join(["figures", image.config_digest, str(base_layers), *(k or "" for k in layer_keys)])
