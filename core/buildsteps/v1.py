"""Legacy ``docker save`` identities: each layer folder ``<v1 id>/json`` names its v1 image id and
its parent's. The archive readers (core/archive/docker.py) read manifest.json only; these small
documents are read here, within the same JSON bounds.

A layer folder is matched to an image's layer by the blob it holds (``<id>/layer.tar``, itself a
symlink to the shared blob in podman's and skopeo's archives and for a layer two images share), and
between folders holding the same blob by the parent chain from the bottom layer up.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from pathlib import Path

from .. import limits
from ..archive.records import Archive, ImageRecord
from ..errors import LayerScopeError

_V1_JSON = re.compile(r"^([0-9a-f]{64})/json$")
_FOLDER_BLOB = re.compile(r"^([0-9a-f]{64})/layer\.tar$")

V1Ids = tuple[str | None, str | None]
"""(v1 id, parent v1 id) of one layer; (None, None) where the archive has none."""


def legacy_ids(archive: Archive, image: ImageRecord, warnings: list[str]) -> list[V1Ids]:
    """The v1 id and parent of each layer of ``image`` (None, None where unknown)."""
    n = len(image.layers)
    none: list[V1Ids] = [(None, None)] * n
    container = archive.container
    try:
        names = container.names()
    except (LayerScopeError, OSError):
        return none
    folders: dict[str, str | None] = {}  # v1 id -> parent
    for name in names:
        m = _V1_JSON.match(name)
        if m is None:
            continue
        doc = _read_json(archive, name, warnings)
        if doc is None:
            continue
        vid = m.group(1)
        parent = doc.get("parent")
        if doc.get("id") != vid:
            warnings.append(f"{name}: its id is not its folder's name; ignored")
            continue
        folders[vid] = parent if isinstance(parent, str) and parent else None
    if not folders:
        return none
    by_blob: dict[str, list[str]] = {}
    for vid in sorted(folders):
        real = _resolve(archive, f"{vid}/layer.tar")
        if real is not None:
            by_blob.setdefault(real, []).append(vid)
    from_top = _chain_from_tags(archive, image, folders, warnings)
    if from_top is not None:
        return [(v, folders[v]) for v in from_top]
    out: list[V1Ids] = []
    below: str | None = None
    for desc in image.layers:
        direct = _FOLDER_BLOB.match(desc.blob_name or "")
        if direct is not None and direct.group(1) in folders and folders[direct.group(1)] == below:
            chosen: str | None = direct.group(1)  # the manifest names the layer by its own folder
        else:
            real = _resolve(archive, desc.blob_name) if desc.blob_name else None
            cands = by_blob.get(real, []) if real is not None else []
            fits = [v for v in cands if folders[v] == below]
            chosen = fits[0] if len(fits) == 1 else None  # two folders alike: not guessed
        out.append((chosen, folders[chosen] if chosen is not None else None))
        below = chosen
    return out if any(v for v, _p in out) else none


def _chain_from_tags(
    archive: Archive, image: ImageRecord, folders: dict[str, str | None], warnings: list[str]
) -> list[str] | None:
    """The v1 ids bottom to top, from the top layer's id that ``repositories`` gives one of the
    image's tags and the parents below it; None when no tag leads to a chain of the right length."""
    if not archive.container.exists("repositories"):
        return None
    doc = _read_json(archive, "repositories", warnings)
    if doc is None:
        return None
    for tag in image.tags:
        repo, _, name = tag.rpartition(":")
        entry = doc.get(repo)
        top = entry.get(name) if isinstance(entry, dict) else None
        chain: list[str] = []
        while isinstance(top, str) and top in folders and len(chain) <= len(image.layers):
            chain.append(top)
            top = folders[top]
        if len(chain) == len(image.layers) and top is None:
            return chain[::-1]
    return None


def _read_json(archive: Archive, name: str, warnings: list[str]) -> dict[str, object] | None:
    try:
        raw = archive.container.blob(name).read_all(limits.MAX_JSON_BYTES)
        doc = json.loads(raw)
    except (LayerScopeError, ValueError, RecursionError) as exc:
        warnings.append(f"{name}: not readable as a layer's v1 json ({str(exc)[:100]})")
        return None
    return doc if isinstance(doc, dict) else None


def _resolve(archive: Archive, name: str) -> str | None:
    """The member or file a name leads to after symlinks inside the archive; None when absent."""
    container = archive.container
    members = getattr(container, "members", None)
    if isinstance(members, dict):
        name = posixpath.normpath(name)
        for _ in range(40):
            m = members.get(name)
            if m is None:
                return None
            if m.type == "symlink" and m.link:
                name = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.link))
            elif m.type == "hardlink" and m.link:
                name = posixpath.normpath(m.link)
            else:
                return name
        return None
    root = Path(container.path)
    try:
        real = (root / name).resolve()
    except (OSError, RuntimeError):
        return None
    return os.path.relpath(real, root.resolve()) if real.exists() else None
