"""The merged tree and its folder records in the persistent cache (core/cache/merged.py, sums.py):
exact round trips on every layout of the corpus, a second load that neither merges nor sums its
folders and shows the same tree, views and figures as a load without the cache, and damaged payloads
refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from layerscope.core import session as session_mod
from layerscope.core import views as views_mod
from layerscope.core.archive.open import open_archive
from layerscope.core.cache import settings
from layerscope.core.cache.columns import CacheInvalid
from layerscope.core.cache.merged import UndoRecords, decode_tree, encode_tree
from layerscope.core.cache.sums import decode_sums, encode_sums
from layerscope.core.folders import FolderSums, sum_folders
from layerscope.core.layers.index import load_image
from layerscope.core.merge import ImageTree, merge
from layerscope.core.paths import join
from layerscope.core.session import LoadedImage, load
from layerscope.core.views import FileView
from tests.conftest import DEBIAN_NAME, REAL, need_debian, need_shared, real_archives


def _archives() -> list[Path]:
    return real_archives()


def _flat(t: ImageTree) -> tuple[Any, ...]:
    """Everything a tree says, in its order (dict order included), entries by value."""

    def nodes(d: dict[str, Any]) -> list[tuple[str, Any, int]]:
        return [(p, n.entry, n.layer) for p, n in d.items()]

    return (
        t.upto,
        nodes(t.nodes),
        [list(c.items()) for c in t.changes],
        [nodes(r) for r in t.removed],
        [list(h.items()) for h in t.held],
        [list(u.items()) for u in t.undo],
        t.waste_events,
        t.warnings,
    )


def _sums(s: dict[str, FolderSums]) -> list[tuple[Any, ...]]:
    return [(k, r.names, r.sizes, r.owners, r.files, r.bytes, r.layers) for k, r in s.items()]


def _rows(view: FileView) -> list[Any]:
    """Every row of a view, walked from the root, with each folder's children."""
    out: list[Any] = []
    stack = [""]
    while stack:
        p = stack.pop()
        kids = view.children(p)
        out.append((p, kids, view.row(p) if p else None))
        stack.extend(join(p, k) for k in kids)
    return out


@pytest.mark.parametrize("archive", _archives(), ids=lambda p: p.name)
def test_tree_and_folder_records_round_trip_exactly(archive: Path) -> None:
    need_shared()
    with open_archive(archive) as a:
        for im in a.images:
            layers = load_image(a, im)
            tree = merge(layers, archive=a)
            back = decode_tree(encode_tree(tree), layers)
            assert _flat(back) == _flat(tree)
            # each node holds its layer's own entry object, and its path is that entry's string
            for p, n in back.nodes.items():
                if n.entry is not None:
                    assert n.entry is layers[n.layer].entries[_position(layers[n.layer].entries, n.entry)]
                    assert p == n.entry.path
            sums = sum_folders(tree.nodes)
            assert _sums(decode_sums(encode_sums(sums))) == _sums(sums)


def _position(entries: list[Any], e: Any) -> int:
    return next(k for k, x in enumerate(entries) if x is e)


def test_debian_image_round_trips_exactly() -> None:
    base = need_debian()
    for name in (f"{DEBIAN_NAME}.docker.tar", f"{DEBIAN_NAME}.oci.tar"):
        with open_archive(base / "debian" / name) as a:
            layers = load_image(a, a.images[0])
            tree = merge(layers, archive=a)
            assert _flat(decode_tree(encode_tree(tree), layers)) == _flat(tree)


def _load(path: Path) -> tuple[LoadedImage, list[Any]]:
    a = open_archive(path)
    s = load(a, a.images[0])
    rows = _rows(s.view(len(s.layers) - 1, own_changes=False))
    s.keep_in_cache()  # the folder records, made with the top's view
    return s, rows


def _not_called(*_args: object, **_kw: object) -> Any:
    raise AssertionError("made again although the cache holds it")


@pytest.mark.parametrize(
    "name", ["docker26-edge.save.tar", "umoci-edge.oci.tar", "buildah-run.docker.tar", "umoci-insert.oci.tar"]
)
def test_second_load_neither_merges_nor_sums_and_shows_the_same(
    name: str, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_shared()
    path = REAL / name
    settings.set_enabled(False)
    without, rows_without = _load(path)
    settings.set_enabled(True)
    cold, rows_cold = _load(path)
    assert list(cache_home.glob("merge-*")) and list(cache_home.glob("folders-*"))
    monkeypatch.setattr(session_mod, "merge", _not_called)
    monkeypatch.setattr(views_mod, "sum_folders", _not_called)
    warm, rows_warm = _load(path)
    assert isinstance(warm.tree.undo, UndoRecords)
    for other, rows in ((cold, rows_cold), (warm, rows_warm)):
        assert _flat(other.tree) == _flat(without.tree)
        assert rows == rows_without
        assert other.files == without.files
        assert other.dive == without.dive and other.figures == without.figures
        for layer in range(len(without.layers)):  # the lower layers' views read the undo records
            for own in (False, True):
                assert _rows(other.view(layer, own)) == _rows(without.view(layer, own))
    for s in (without, cold, warm):
        s.release()


def test_undo_records_are_made_when_first_asked() -> None:
    need_shared()
    with open_archive(REAL / "docker26-edge.save.tar") as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        back = decode_tree(encode_tree(tree), layers)
    undo = back.undo
    assert isinstance(undo, UndoRecords)
    assert undo._made == [None] * len(tree.undo)
    assert undo[2] == tree.undo[2] and undo[2] is undo[2]
    assert [u is None for u in undo._made] == [k != 2 for k in range(len(tree.undo))]
    assert list(undo[1:3]) == tree.undo[1:3] and len(undo) == len(tree.undo)


def test_damaged_payloads_are_refused() -> None:
    """Cut anywhere, or claimed for other layers, a payload is refused (CacheInvalid or IndexError:
    the store ignores the file either way and merges again); it never yields a tree."""
    need_shared()
    with open_archive(REAL / "umoci-edge.oci.tar") as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
    good = encode_tree(tree)
    for n in range(len(good)):
        with pytest.raises((CacheInvalid, IndexError)):
            decode_tree(good[:n], layers)
    with pytest.raises(CacheInvalid):
        decode_tree(good, layers[:-1])
    sums = encode_sums(sum_folders(tree.nodes))
    for n in range(len(sums)):
        with pytest.raises(CacheInvalid):
            decode_sums(sums[:n])


def test_a_load_told_not_to_keep_writes_nothing_until_asked(cache_home: Path) -> None:
    """The window loads with ``keep=False`` (the tree is usable sooner) and keeps the merged tree and
    the folder records in its background job after."""
    need_shared()
    path = REAL / "docker20-edge.save.tar"
    with open_archive(path) as a:
        s = load(a, a.images[0], keep=False)
        s.view(len(s.layers) - 1, own_changes=False)
        assert not list(cache_home.glob("merge-*")) and not list(cache_home.glob("folders-*"))
        s.keep_in_cache()
        assert list(cache_home.glob("merge-*")) and list(cache_home.glob("folders-*"))
        again = load(a, a.images[0], keep=False)
        assert isinstance(again.tree.undo, UndoRecords) and not again._unkept
