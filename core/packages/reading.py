"""The bytes of package metadata files, read within bounds; every problem becomes a warning.

Files are named by (entry, layer whose blob stores it), as the merge's records give them. Many small
files of one layer (dpkg's ``.list`` files, a tree of package.json) are read in one pass over that
layer's blob. Hardlinks lead to the entry that holds their bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .. import limits
from ..archive.records import Archive
from ..entry import Entry
from ..errors import Cancelled, LayerScopeError
from ..kinds import EntryType
from ..layers.content import iter_contents, read_content
from ..layers.index import LayerIndex
from ..merge import ImageTree
from ..progress import CancelCheck, check_cancelled, pause_point
from ..resolve import Follow, hardlink_target, resolve_path

Located = tuple[Entry, int]
"""A file's entry and the layer whose blob holds it."""

MAX_KEPT_WARNINGS = 100
"""Warnings kept for one image's package scan; the rest are counted in one line."""


class Warnings:
    """The warnings of one scan, the first ``MAX_KEPT_WARNINGS`` kept, the rest counted."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.more = 0

    def add(self, text: str) -> None:
        """Keep one warning (or count it past the bound)."""
        if len(self.kept) < MAX_KEPT_WARNINGS:
            self.kept.append(text)
        else:
            self.more += 1

    def all(self) -> tuple[str, ...]:
        """Every warning kept, and a last line counting the others."""
        if self.more:
            return (*self.kept, f"{self.more} more package warning(s) not shown")
        return tuple(self.kept)


class MetadataReader:
    """Reads package metadata files of one image, charging a budget of bytes for the whole scan."""

    def __init__(
        self,
        archive: Archive,
        layers: list[LayerIndex],
        warnings: Warnings,
        cancelled: CancelCheck | None = None,
    ) -> None:
        self.archive = archive
        self.layers = layers
        self.warnings = warnings
        self.cancelled = cancelled  # looked at every chunk of a streamed file (a Go binary: megabytes)
        self.left = limits.MAX_PACKAGE_READ_BYTES
        self._spent_warned = False

    def read(self, path: str, where: Located, limit: int) -> bytes | None:
        """One file's bytes; None (with a warning) when too large, unreadable or over budget."""
        return self.read_many({path: where}, limit).get(path)

    def read_many(self, files: dict[str, Located], limit: int) -> dict[str, bytes]:
        """The bytes of each file that fits ``limit`` and the budget, read layer by layer."""
        by_layer: dict[int, dict[int, tuple[str, Entry]]] = {}
        for path, (e, layer) in files.items():
            e, layer = self._data_entry(path, e, layer)
            if e.type is not EntryType.FILE:
                continue
            if e.size > limit:
                self.warnings.add(
                    f"/{path}: {e.size} bytes, more than the {limit} read for package metadata; skipped"
                )
                continue
            if not self._affords(path, e.size):
                continue
            self.left -= e.size
            by_layer.setdefault(layer, {})[e.offset] = (path, e)
        out: dict[str, bytes] = {}
        for layer, wanted in sorted(by_layer.items()):
            self._read_layer(layer, wanted, out)
        return out

    def target(self, path: str, where: Located) -> Located:
        """The entry that holds the file's bytes: a hardlink's target, else the entry itself."""
        return self._data_entry(path, where[0], where[1])

    def stream_many(self, files: dict[str, Located]) -> Iterator[tuple[tuple[str, ...], Iterator[bytes]]]:
        """Each regular, non-sparse file's bytes as chunks, with the paths that hold them (hardlinks
        to one stored file are one stream), layer by layer in the order they are stored. What the
        consumer takes before it asks for the next file is charged to the budget; a file is skipped
        (with a warning, once) when the budget is spent, and a stream stops when it runs out."""
        by_layer: dict[int, dict[int, tuple[list[str], Entry]]] = {}
        for path, (e, layer) in files.items():
            e, layer = self._data_entry(path, e, layer)
            if e.type is EntryType.FILE and e.sparse is None:
                by_layer.setdefault(layer, {}).setdefault(e.offset, ([], e))[0].append(path)
        for layer, wanted in sorted(by_layer.items()):
            desc = self.layers[layer].desc
            broken: list[str] = []  # the layer's bytes failed while a consumer read them
            try:
                for e, chunks in iter_contents(self.archive, desc, [e for _p, e in wanted.values()]):
                    paths = wanted[e.offset][0]
                    if not self._affords(paths[0], min(e.size, 1)):
                        return
                    yield tuple(paths), self._charged(paths[0], chunks, broken)
                    if broken:
                        break
            except LayerScopeError as exc:
                broken.append(exc.message)
            if broken:
                self.warnings.add(f"layer {layer}: package metadata could not be read: {broken[0]}")

    def _affords(self, path: str, size: int) -> bool:
        if size <= self.left:
            return True
        if not self._spent_warned:
            self.warnings.add(
                f"package metadata of more than {limits.MAX_PACKAGE_READ_BYTES} bytes in all; "
                f"/{path} and later changes are not read"
            )
            self._spent_warned = True
        return False

    def _charged(self, path: str, chunks: Iterator[bytes], broken: list[str]) -> Iterator[bytes]:
        try:
            for c in chunks:
                if not self._affords(path, 1):
                    return  # the budget ran out in this file: what was read is what there is
                self.left -= len(c)
                pause_point()  # a large file is many chunks: the GUI thread may want its turn
                check_cancelled(self.cancelled)
                yield c
        except Cancelled:
            raise
        except LayerScopeError as exc:
            broken.append(exc.message)

    def _read_layer(self, layer: int, wanted: dict[int, tuple[str, Entry]], out: dict[str, bytes]) -> None:
        desc = self.layers[layer].desc
        sparse = [pe for pe in wanted.values() if pe[1].sparse is not None]
        plain = {pe[1].offset: pe for pe in wanted.values() if pe[1].sparse is None}
        try:
            for path, e in sparse:
                out[path] = read_content(self.archive, desc, e)
            names = {off: p for off, (p, _e) in plain.items()}
            for e, chunks in iter_contents(self.archive, desc, [e for _p, e in plain.values()]):
                out[names[e.offset]] = b"".join(chunks)
        except LayerScopeError as exc:
            self.warnings.add(f"layer {layer}: package metadata could not be read: {exc.message}")

    def _data_entry(self, path: str, e: Entry, layer: int) -> Located:
        """A hardlink's target entry (searched in the layers up to ``layer``), else ``e`` itself."""
        if e.type is not EntryType.HARDLINK or not e.link:
            return e, layer
        target = e.link
        for j in range(layer, -1, -1):
            for cand in reversed(self.layers[j].entries):
                if cand.path == target and cand.type is EntryType.FILE:
                    return cand, j
        self.warnings.add(f"/{path}: hardlink to /{target}, which no layer stores")
        return e, layer


def tree_reader(reader: MetadataReader, tree: ImageTree) -> _TreeFile:
    """A function reading an image path from ``tree`` (symlinks followed), for os_release."""
    return _TreeFile(reader, tree)


class _TreeFile:
    def __init__(self, reader: MetadataReader, tree: ImageTree) -> None:
        self.reader = reader
        self.tree = tree

    def __call__(self, path: str, limit: int) -> bytes | None:
        tree = self.tree
        try:
            real = hardlink_target(tree, resolve_path(tree, path, Follow.ALL))
        except LayerScopeError:
            return None
        node = tree.nodes.get(real)
        if node is None or node.entry is None or node.entry.type is not EntryType.FILE:
            return None
        try:
            return read_content(self.reader.archive, self.reader.layers[node.layer].desc, node.entry, limit)
        except LayerScopeError as exc:
            self.reader.warnings.add(f"/{path}: could not be read: {exc.message}")
            return None


def text_of(raw: bytes) -> str:
    """Metadata bytes as text: UTF-8, undecodable bytes replaced (they become a parse problem later)."""
    return raw.decode("utf-8", "replace")


def joined(paths: Iterable[str]) -> tuple[str, ...]:
    """Image paths as the package lists keep them: no leading ``/``, no empty ones, no ``.``."""
    out: list[str] = []
    for p in paths:
        q = p.strip().strip("/")
        if q and q != ".":
            out.append(q)
    return tuple(out)
