"""The code version a cache entry was made by: a hash of the engine's own source.

Any change to the code under core/ makes earlier entries invalid, so that a fix to the tar reader
or the figures never meets results of the code before it.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from .. import __version__


@functools.cache
def code_version() -> bytes:
    """32 bytes: sha256 over the package version and every .py file of layerscope.core."""
    h = hashlib.sha256(__version__.encode())
    root = Path(__file__).resolve().parent.parent
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root).as_posix()
        h.update(len(rel).to_bytes(4, "little") + rel.encode())
        try:
            data = p.read_bytes()
        except OSError:
            data = b"?"
        h.update(len(data).to_bytes(8, "little") + data)
    return h.digest()
