"""The one export plan: what a folder or a tar export writes, in which order, and what it skips.

Both sinks consume the same plan, so they agree on every decision made here: folders first, then
files (a hardlink whose target is not exported becomes a file holding the target's data, written
once), hardlinks, devices and fifos, symlinks last (nothing is ever written through one), and the
name of a layer export's list of deletions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..archive.records import Archive
from ..entry import Entry
from ..errors import LinkLoop
from ..kinds import EntryType
from ..layers.content import iter_contents
from ..layers.index import LayerIndex
from ..merge import ImageTree
from ..resolve import hardlink_target
from ..tar.sparse import SparseMapError, check_map
from .items import Item

DELETIONS_NAME = "WHITEOUTS.txt"
"""The name of the list of paths a layer deletes, at the top of a layer export."""
_MAX_RENAMES = 1000


@dataclass(frozen=True, slots=True)
class Planned:
    """One member of the output: where it goes, the entry whose data and attributes it gets."""

    path: str  # relative to the export root
    entry: Entry | None  # None: a folder implied by its children
    layer: int  # the layer holding the entry's data
    link: str = ""  # hardlinks: the export-relative path of the file written for its target


@dataclass(frozen=True, slots=True)
class DeletionList:
    """The list of deletions a layer export writes at its top, under a name no item of the image has."""

    name: str
    data: bytes


@dataclass(slots=True)
class ExportPlan:
    """Everything an export writes, sorted by path within each group, in the order of the fields."""

    layers: list[LayerIndex]
    dirs: list[Planned] = field(default_factory=list)
    files: list[Planned] = field(default_factory=list)
    hardlinks: list[Planned] = field(default_factory=list)
    others: list[Planned] = field(default_factory=list)  # devices, fifos, sockets
    symlinks: list[Planned] = field(default_factory=list)
    deletions: DeletionList | None = None
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def file_bytes(self) -> int:
        """Bytes of all the files' content (holes of sparse files included)."""
        return sum(p.entry.size for p in self.files if p.entry is not None)

    def contents(self, archive: Archive) -> Iterator[tuple[Planned, Iterator[bytes]]]:
        """(file, chunks of its content) for every planned file, in one sequential pass per layer.

        Raises CorruptArchive and what reading a layer raises."""
        by_layer: dict[int, dict[int, Planned]] = {}
        for p in self.files:
            assert p.entry is not None
            by_layer.setdefault(p.layer, {})[p.entry.offset] = p
        index = {li.index: li for li in self.layers}
        for layer in sorted(by_layer):
            wanted = by_layer[layer]
            entries = [p.entry for p in wanted.values() if p.entry is not None]
            for e, chunks in iter_contents(archive, index[layer].desc, entries):
                yield wanted[e.offset], chunks


def plan_export(tree: ImageTree, items: list[Item], deletes: list[str] | None = None) -> ExportPlan:
    """The plan for writing ``items`` (and, for a layer export, the list of ``deletes``)."""
    plan = ExportPlan(tree.layers)
    # an exported file's path, by its path in the image: hardlinks to it link to it in the export
    exported = {it.full: it.path for it in items if it.entry is not None and it.entry.type is EntryType.FILE}
    # where each stored file's data is written: its bytes can be read once per pass, so a second
    # hardlink to the same data becomes a hardlink to the first copy
    written = {
        (it.layer, it.entry.offset): it.path
        for it in items
        if it.entry is not None and it.entry.type is EntryType.FILE
    }
    for it in sorted(items, key=lambda i: i.path):
        _place_item(plan, tree, it, exported, written)
    if deletes is not None:
        plan.deletions = _deletion_list(plan, items, deletes)
    return plan


def _place_item(
    plan: ExportPlan,
    tree: ImageTree,
    it: Item,
    exported: dict[str, str],
    written: dict[tuple[int, int], str],
) -> None:
    e = it.entry
    if e is None or e.type is EntryType.DIR:
        plan.dirs.append(Planned(it.path, e, it.layer))
    elif e.type is EntryType.FILE:
        _add_file(plan, Planned(it.path, e, it.layer))
    elif e.type is EntryType.SYMLINK:
        plan.symlinks.append(Planned(it.path, e, it.layer))
    elif e.type is EntryType.HARDLINK:
        _place_hardlink(plan, tree, it, e, exported, written)
    else:
        plan.others.append(Planned(it.path, e, it.layer))


def _place_hardlink(
    plan: ExportPlan,
    tree: ImageTree,
    it: Item,
    e: Entry,
    exported: dict[str, str],
    written: dict[tuple[int, int], str],
) -> None:
    link = e.link or ""
    if link in exported:
        plan.hardlinks.append(Planned(it.path, e, it.layer, exported[link]))
        return
    data = _hardlink_data(tree, link)
    if data is None:
        plan.skipped.append(f"/{it.full}: hardlink to /{link}, which is not a file")
        return
    layer, target = data
    first = written.get((layer, target.offset))
    if first is not None:
        plan.hardlinks.append(Planned(it.path, e, it.layer, first))
    else:
        written[(layer, target.offset)] = it.path
        _add_file(plan, Planned(it.path, target, layer))  # the data itself, as a regular file


def _hardlink_data(tree: ImageTree, link: str) -> tuple[int, Entry] | None:
    """(layer, file entry) holding the data a hardlink names, resolved in the merged tree."""
    try:
        node = tree.nodes.get(hardlink_target(tree, link))
    except LinkLoop:
        return None
    if node is None or node.entry is None or node.entry.type is not EntryType.FILE:
        return None
    return node.layer, node.entry


def _add_file(plan: ExportPlan, p: Planned) -> None:
    e = p.entry
    assert e is not None
    if e.sparse is not None:
        try:
            check_map(e.sparse, e.size)
        except SparseMapError:
            plan.skipped.append(f"/{e.path}: sparse file with a map that points outside it")
            return
    plan.files.append(p)


def _deletion_list(plan: ExportPlan, items: list[Item], deletes: list[str]) -> DeletionList | None:
    """The list of deletions, named DELETIONS_NAME or, when the image has a path of that name at the
    export's top, ``WHITEOUTS-1.txt``, ``WHITEOUTS-2.txt``... (with a warning)."""
    taken = {it.path.partition("/")[0] for it in items}  # the top names (the export root's children)
    stem, dot, ext = DELETIONS_NAME.rpartition(".")
    data = "".join(d + "\n" for d in deletes).encode("utf-8", "surrogateescape")
    for n in range(_MAX_RENAMES):
        name = DELETIONS_NAME if n == 0 else f"{stem}-{n}{dot}{ext}"
        if name in taken:
            continue
        if n:
            plan.warnings.append(
                f"the image has its own /{DELETIONS_NAME}; the list of deletions is in /{name}"
            )
        return DeletionList(name, data)
    plan.skipped.append(f"/{DELETIONS_NAME}: no free name for the list of deletions")
    return None
