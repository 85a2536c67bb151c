"""Packages layer by layer: which layer installed each package's current version, and what every
layer installed, removed or changed.

Each ecosystem's database is re-read only in the layers that wrote or removed one of its files (the
merge's records say which: core/packages/watch.py), so the cost follows the changes, not layers
times the database's size. Nothing a database holds stops the scan: problems are warnings.
"""

from __future__ import annotations

from ..progress import CancelCheck, StageProgress, check_cancelled
from ..session import LoadedImage
from .apk import ApkCatalog
from .catalog import Catalog
from .dpkg import DpkgCatalog
from .go_binary import GoCatalog
from .model import Ecosystem, Found, LayerPackages, Package, PackageHistory, Upgrade, sort_key
from .npm import NpmCatalog
from .os_release import OsRelease, identify_os
from .python_dist import PythonCatalog
from .reading import MetadataReader, Warnings, tree_reader
from .rpm import RpmCatalog
from .watch import WatchedFiles

_Key = tuple[Ecosystem, str]


def catalogs() -> list[Catalog]:
    """One fresh reader per supported ecosystem."""
    return [DpkgCatalog(), ApkCatalog(), RpmCatalog(), PythonCatalog(), NpmCatalog(), GoCatalog()]


def package_history(
    image: LoadedImage,
    upto: int | None = None,
    progress: StageProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> PackageHistory:
    """The packages of ``image`` after layer ``upto`` (default: the top), every layer's package
    changes up to it, and the OS. Raises Cancelled; database problems are warnings."""
    top = len(image.layers) - 1 if upto is None else max(0, min(upto, len(image.layers) - 1))
    tree = image.tree
    warnings = Warnings()
    reader = MetadataReader(image.archive, image.layers, warnings, cancelled)
    cats = catalogs()
    wants = tuple(c.wants for c in cats)

    def wanted(p: str) -> bool:  # asked of every path of every layer: a loop is half the cost of any()
        for w in wants:  # noqa: SIM110
            if w(p):
                return True
        return False

    watch = WatchedFiles(tree, wanted)
    nodes = tree.nodes
    now: dict[_Key, Package] = {}
    seen: dict[_Key, Found] = {}  # the record each package in ``now`` was made from
    per_layer: list[LayerPackages] = []

    def package(c: Catalog, f: Found, layer: int) -> Package:
        files = f.files
        if c.ecosystem is not Ecosystem.NPM:  # npm names its folder; the others' folders are left out
            files = tuple(p for p in files if (n := nodes.get(p)) is None or not n.is_dir)
        return Package(c.ecosystem, f.name, f.version, layer, f.size, files, f.arch, f.source, f.key)

    for i in range(top + 1):
        check_cancelled(cancelled)
        if progress is not None:
            progress("reading package databases", i, top + 1)
        changed = watch.advance(cancelled)
        if not changed:
            per_layer.append(LayerPackages(i))
            continue
        touched = False
        for c in cats:
            mine = {p for p in changed if c.wants(p)}
            if mine:
                c.update(mine, watch.files, reader)
                touched = True
        if not touched:
            per_layer.append(LayerPackages(i))
            continue
        new: dict[_Key, tuple[Catalog, Found]] = {
            (c.ecosystem, k): (c, f) for c in cats for k, f in c.found.items()
        }
        added: list[Package] = []
        removed: list[Package] = []
        changes: list[Upgrade] = []
        for key, (c, f) in new.items():
            old = now.get(key)
            if old is None:
                now[key] = p = package(c, f, i)
                added.append(p)
            elif old.version != f.version or old.arch != f.arch:
                now[key] = p = package(c, f, i)
                changes.append(Upgrade(old, p))
            elif seen.get(key) != f:
                now[key] = package(c, f, old.layer)  # same version, metadata refreshed
            seen[key] = f
        for key in [k for k in now if k not in new]:
            removed.append(now.pop(key))
            seen.pop(key, None)
        per_layer.append(
            LayerPackages(
                i,
                tuple(sorted(added, key=sort_key)),
                tuple(sorted(removed, key=sort_key)),
                tuple(sorted(changes, key=lambda u: sort_key(u.after))),
            )
        )
    top_tree = tree if top >= len(image.layers) - 1 else image.merged_upto(top, cancelled)
    os_id = identify_os(tree_reader(reader, top_tree))
    unsupported = sorted({u for c in cats for u in c.unsupported})
    return PackageHistory(
        tuple(sorted(now.values(), key=sort_key)),
        tuple(per_layer),
        os_id,
        warnings.all(),
        tuple(unsupported),
    )


def image_os(image: LoadedImage, layer: int | None = None) -> OsRelease | None:
    """The OS the image's files name after layer ``layer`` (default: the top); None when none does.
    Raises Cancelled never; unreadable files count as absent."""
    tree = image.tree if layer is None else image.merged_upto(layer)
    return identify_os(tree_reader(MetadataReader(image.archive, image.layers, Warnings()), tree))
