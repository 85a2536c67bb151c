"""The code version a cache entry was made by: a hash of the engine's own source.

Any change to the code under core/ makes earlier entries invalid, so that a fix to the tar reader
or the figures never meets results of the code before it.
"""

from __future__ import annotations

import functools
import hashlib
import os

from .. import __version__


@functools.cache
def code_version() -> bytes:
    """32 bytes: sha256 over the package version and every .py file of layerscope.core."""
    h = hashlib.sha256(__version__.encode())
    root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    rels = []
    for folder, subs, names in os.walk(root):  # os.walk, not Path.rglob: a third of the time
        subs[:] = [d for d in subs if d != "__pycache__"]
        base = os.path.relpath(folder, root).replace(os.sep, "/")
        rels += [n if base == "." else f"{base}/{n}" for n in names if n.endswith(".py")]
    for rel in sorted(rels):
        h.update(len(rel).to_bytes(4, "little") + rel.encode())
        try:
            with open(os.path.join(root, rel), "rb") as f:
                data = f.read()
        except OSError:
            data = b"?"
        h.update(len(data).to_bytes(8, "little") + data)
    return h.digest()
