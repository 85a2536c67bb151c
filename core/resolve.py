"""Find the node a path names in a merged tree, following links as the caller says.

The one resolver every part of LayerScope uses: ``cat`` and the GUI's "follow symlink" follow
symlinks like the kernel does inside a chroot (absolute targets start at the image root, ``..``
never climbs above it); hardlinks name their target path directly.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from enum import Enum
from typing import Protocol

from .entry import Entry
from .errors import LinkLoop
from .kinds import EntryType
from .paths import parent

MAX_LINK_HOPS = 40
"""Links followed for one path before it is a loop (Linux stops at 40 as well: ELOOP)."""


class Follow(Enum):
    """Which links a lookup follows."""

    NONE = "none"
    """The path as written: no link is followed."""
    PARENTS = "parents"
    """Symlinks among the folders leading to the last name, not the last name itself (like lstat)."""
    ALL = "all"
    """Symlinks everywhere, the last name included (like stat)."""


class _Node(Protocol):
    @property
    def entry(self) -> Entry | None: ...


class _Tree(Protocol):
    @property
    def nodes(self) -> Mapping[str, _Node]: ...


def link_target(path: str, target: str) -> str:
    """A symlink's target as a normalised path in the image: absolute targets start at the root,
    relative ones at the link's folder; ``..`` stops at the root."""
    base = "/" if target.startswith("/") else "/" + parent(path)
    return posixpath.normpath(posixpath.join(base, target)).lstrip("/")


def resolve_path(tree: _Tree, path: str, follow: Follow = Follow.ALL) -> str:
    """The normalised path ``path`` names in ``tree`` after following symlinks as ``follow`` says.

    A part that does not exist is kept as written (the result may name nothing). Raises LinkLoop
    after MAX_LINK_HOPS links.
    """
    parts = [p for p in path.split("/") if p and p != "."]
    parts.reverse()  # a stack: the next part is at the end
    cur: list[str] = []
    hops = 0
    nodes = tree.nodes
    while parts:
        part = parts.pop()
        if part == "..":
            if cur:
                cur.pop()
            continue
        cand = "/".join([*cur, part])
        last = not parts
        node = nodes.get(cand)
        e = node.entry if node is not None else None
        if (
            e is not None
            and e.type is EntryType.SYMLINK
            and follow is not Follow.NONE
            and not (last and follow is Follow.PARENTS)
        ):
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise LinkLoop(f"/{path.strip('/')}: too many levels of symbolic links")
            target = e.link or ""
            if target.startswith("/"):
                cur = []
            parts.extend(reversed([p for p in target.split("/") if p and p != "."]))
            continue
        cur.append(part)
    return "/".join(cur)


def hardlink_target(tree: _Tree, path: str) -> str:
    """The path whose node holds a hardlink's data (the path itself when it is no hardlink).

    Raises LinkLoop when hardlinks name each other in a circle."""
    nodes = tree.nodes
    seen = 0
    node = nodes.get(path)
    while node is not None and node.entry is not None and node.entry.type is EntryType.HARDLINK:
        seen += 1
        if seen > MAX_LINK_HOPS:
            raise LinkLoop(f"/{path}: hardlinks name each other in a circle")
        path = node.entry.link or ""
        node = nodes.get(path)
    return path
