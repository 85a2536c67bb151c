"""Paths inside an image, and the overlay whiteout rules that name them.

Every path LayerScope keeps is *normalised*: relative to the image root, no leading ``/`` or
``./``, no trailing ``/``, no ``.`` or ``..`` parts; the root itself is ``""``. Whiteouts follow the
OCI image-spec (layer.md): ``.wh.NAME`` deletes ``NAME`` from the lower layers and ``.wh..wh..opq``
hides every lower child of its folder. This is the only module that spells those prefixes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

WHITEOUT_PREFIX = ".wh."
"""A member named ``.wh.NAME`` deletes ``NAME`` from the lower layers."""
OPAQUE_MARKER = ".wh..wh..opq"
"""A member of this name hides every lower child of its folder."""
WHITEOUT_META_PREFIX = ".wh..wh."
"""Names of this form are AUFS bookkeeping (``.wh..wh.plnk``, ...): never files of the image."""
ESTARGZ_LANDMARKS = frozenset({".prefetch.landmark", ".no.prefetch.landmark"})
"""eStargz landmark members at the root: layer metadata, not files."""
ESTARGZ_TOC = "stargz.index.json"
"""The eStargz table of contents at the root of an eStargz layer."""


def normalize(name: str) -> str | None:
    """The normalised path of a tar member name, or None when it climbs above the root.

    ``./a``, ``/a``, ``a/``, ``a//b`` and ``a/./b`` all become ``a``-relative forms; ``..`` is
    resolved lexically and never followed. The root becomes ``""``.
    """
    if (
        name
        and name[0] not in "./"
        and name[-1] != "/"
        and "//" not in name
        and "/." not in name
        and not name.startswith("..")
    ):
        return name
    stripped = name.lstrip("/")
    if not stripped or stripped in (".", "./"):
        return ""
    norm = posixpath.normpath(stripped)
    if norm == ".":
        return ""
    if norm == ".." or norm.startswith("../"):
        return None
    return norm


def parent(path: str) -> str:
    """The folder holding a normalised path (``""`` for a top-level name)."""
    i = path.rfind("/")
    return path[:i] if i >= 0 else ""


def basename(path: str) -> str:
    """The last name of a normalised path."""
    return path[path.rfind("/") + 1 :]


def split(path: str) -> tuple[str, str]:
    """(parent, name) of a normalised path."""
    i = path.rfind("/")
    return (path[:i], path[i + 1 :]) if i >= 0 else ("", path)


def join(folder: str, name: str) -> str:
    """``folder/name``; ``name`` alone under the root."""
    return f"{folder}/{name}" if folder else name


def ancestors(path: str) -> Iterator[str]:
    """The folders above a normalised path, nearest first: ``a/b/c`` -> ``a/b``, ``a`` (not the root)."""
    j = path.rfind("/")
    while j >= 0:
        path = path[:j]
        yield path
        j = path.rfind("/")


def is_under(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or inside it (every path is under the root ``""``)."""
    return not folder or path == folder or path.startswith(folder + "/")


def rebase(path: str, folder: str) -> str:
    """``path`` relative to ``folder`` (which it must be under); ``""`` for the folder itself."""
    if not folder:
        return path
    return path[len(folder) + 1 :] if path != folder else ""


def absolute(path: str) -> str:
    """The path as a user writes it: ``/`` plus the normalised path."""
    return "/" + path


def is_whiteout(name: str) -> bool:
    """True for a whiteout member's base name, the opaque marker included."""
    return name.startswith(WHITEOUT_PREFIX)


def is_opaque(name: str) -> bool:
    """True for the opaque marker's base name."""
    return name == OPAQUE_MARKER


def is_whiteout_meta(name: str) -> bool:
    """True for AUFS bookkeeping names (``.wh..wh.*`` other than the opaque marker)."""
    return name.startswith(WHITEOUT_META_PREFIX) and name != OPAQUE_MARKER


def whiteout_target(name: str) -> str:
    """The name a whiteout base name deletes: ``.wh.foo`` -> ``foo``."""
    return name[len(WHITEOUT_PREFIX) :]


def whiteout_name(name: str) -> str:
    """The whiteout base name that deletes ``name``: ``foo`` -> ``.wh.foo``."""
    return WHITEOUT_PREFIX + name


def whiteout_path(path: str) -> str:
    """The whiteout member path that deletes a normalised path: ``a/b`` -> ``a/.wh.b``."""
    folder, name = split(path)
    return join(folder, whiteout_name(name))


def drop_whiteout_prefix(path: str) -> str:
    """A path whose last name may carry the whiteout prefix, without it: ``a/.wh.b`` -> ``a/b``."""
    folder, name = split(path)
    return join(folder, whiteout_target(name)) if is_whiteout(name) else path
