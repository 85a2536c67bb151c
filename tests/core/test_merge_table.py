"""The overlay merge's change kinds, as a table of tiny layer stacks built from entry values.

Each case is a stack of layers (lists of Entry, bottom first, in tar order), the change kinds
expected per layer ({path: ChangeKind}), and the merged filesystem expected at the top
({path: (type, owner layer)}). No archive is involved: files of the same size and attributes are
Modified, since only an archive's content could show them equal (see ``merge``'s docstring).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from layerscope.core.archive.records import LayerDesc
from layerscope.core.entry import Entry, EntryExtra
from layerscope.core.kinds import ChangeKind, Compression, EntryType
from layerscope.core.layers.index import LayerIndex
from layerscope.core.merge import ImageTree, merge
from layerscope.core.resolve import hardlink_target
from layerscope.core.views import LayerView, MergedView

A, M, R, U = ChangeKind.ADDED, ChangeKind.MODIFIED, ChangeKind.REMOVED, ChangeKind.UNMODIFIED
FILE, DIR, SYMLINK, HARDLINK = EntryType.FILE, EntryType.DIR, EntryType.SYMLINK, EntryType.HARDLINK

_offset = iter(range(512, 1 << 40, 512))


def f(
    path: str,
    size: int = 1,
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    xattrs: dict[str, bytes] | None = None,
    mtime: int = 0,
) -> Entry:
    """A regular file."""
    extra = EntryExtra(xattrs=xattrs) if xattrs is not None else None
    return Entry(path, FILE, size, mode, uid, gid, mtime, None, next(_offset), extra)


def d(path: str, mode: int = 0o755, uid: int = 0) -> Entry:
    """A folder."""
    return Entry(path, DIR, 0, mode, uid, 0, 0, None, next(_offset), None)


def sym(path: str, target: str) -> Entry:
    """A symlink."""
    return Entry(path, SYMLINK, 0, 0o777, 0, 0, 0, target, next(_offset), None)


def hard(path: str, target: str) -> Entry:
    """A hardlink to ``target`` (a path, maybe of a lower layer)."""
    return Entry(path, HARDLINK, 0, 0o644, 0, 0, 0, target, next(_offset), None)


def wh(path: str) -> Entry:
    """A whiteout deleting ``path`` from the lower layers."""
    return Entry(path, EntryType.WHITEOUT, 0, 0o644, 0, 0, 0, None, next(_offset), None)


def opq(path: str) -> Entry:
    """An opaque marker hiding the lower children of folder ``path``."""
    return Entry(path, EntryType.OPAQUE, 0, 0o644, 0, 0, 0, None, next(_offset), None)


def stack(*layers: list[Entry]) -> list[LayerIndex]:
    """Layer indexes over the given entries, bottom first."""
    out = []
    for i, entries in enumerate(layers):
        desc = LayerDesc(i, None, None, None, "application/vnd.oci.image.layer.v1.tar", Compression.NONE, 0)
        out.append(LayerIndex(desc, list(entries), len(entries), [], 0, []))
    return out


@dataclass(frozen=True)
class Case:
    layers: list[list[Entry]]
    changes: list[dict[str, ChangeKind]]  # per layer
    tree: dict[str, tuple[EntryType, int]]  # the merged filesystem: path -> (type, owner layer)


CASES: dict[str, Case] = {
    "add": Case([[f("a")]], [{"a": A}], {"a": (FILE, 0)}),
    "modify by size": Case([[f("a", 1)], [f("a", 2)]], [{"a": A}, {"a": M}], {"a": (FILE, 1)}),
    "modify by mode": Case([[f("a")], [f("a", mode=0o600)]], [{"a": A}, {"a": M}], {"a": (FILE, 1)}),
    "modify by uid": Case([[f("a")], [f("a", uid=1000)]], [{"a": A}, {"a": M}], {"a": (FILE, 1)}),
    "modify by gid": Case([[f("a")], [f("a", gid=1000)]], [{"a": A}, {"a": M}], {"a": (FILE, 1)}),
    "modify by link target": Case(
        [[sym("a", "x")], [sym("a", "y")]], [{"a": A}, {"a": M}], {"a": (SYMLINK, 1)}
    ),
    "same link target": Case([[sym("a", "x")], [sym("a", "x")]], [{"a": A}, {"a": U}], {"a": (SYMLINK, 1)}),
    "modify by xattrs": Case(
        [[f("a", xattrs={"user.k": b"1"})], [f("a", xattrs={"user.k": b"2"})]],
        [{"a": A}, {"a": M}],
        {"a": (FILE, 1)},
    ),
    "xattrs added": Case(
        [[f("a")], [f("a", xattrs={"user.k": b"1"})]], [{"a": A}, {"a": M}], {"a": (FILE, 1)}
    ),
    "file to folder": Case(
        [[f("a")], [d("a"), f("a/b")]], [{"a": A}, {"a": M, "a/b": A}], {"a": (DIR, 1), "a/b": (FILE, 1)}
    ),
    # the folder's subtree goes with it; the layer lists only the path it replaced
    "folder to file drops the subtree": Case(
        [[d("a"), d("a/s"), f("a/s/b")], [f("a")]],
        [{"a": A, "a/s": A, "a/s/b": A}, {"a": M}],
        {"a": (FILE, 1)},
    ),
    "file to symlink": Case([[f("a")], [sym("a", "b")]], [{"a": A}, {"a": M}], {"a": (SYMLINK, 1)}),
    "unmodified re-add of a folder": Case(
        [[d("a"), f("a/b")], [d("a")]],
        [{"a": A, "a/b": A}, {"a": U}],
        {"a": (DIR, 1), "a/b": (FILE, 0)},
    ),
    "folder attributes changed": Case(
        [[d("a"), f("a/b")], [d("a", mode=0o700)]],
        [{"a": A, "a/b": A}, {"a": M}],
        {"a": (DIR, 1), "a/b": (FILE, 0)},
    ),
    "whiteout of a file": Case([[f("a"), f("b")], [wh("a")]], [{"a": A, "b": A}, {"a": R}], {"b": (FILE, 0)}),
    "whiteout of a folder removes its subtree": Case(
        [[d("a"), d("a/s"), f("a/s/b"), f("c")], [wh("a")]],
        [{"a": A, "a/s": A, "a/s/b": A, "c": A}, {"a": R}],
        {"c": (FILE, 0)},
    ),
    "whiteout of a missing path does nothing": Case(
        [[f("a")], [wh("x"), wh("a/y")]], [{"a": A}, {}], {"a": (FILE, 0)}
    ),
    "whiteout inside a folder": Case(
        [[d("a"), f("a/b"), f("a/c")], [wh("a/b")]],
        [{"a": A, "a/b": A, "a/c": A}, {"a/b": R, "a": M}],
        {"a": (DIR, 0), "a/c": (FILE, 0)},
    ),
    # the marker acts on the lower layers wherever it stands in the tar: the layer's own children stay
    "opaque folder": Case(
        [[d("a"), f("a/b"), d("a/s"), f("a/s/c")], [d("a"), f("a/new"), opq("a")]],
        [{"a": A, "a/b": A, "a/s": A, "a/s/c": A}, {"a": M, "a/b": R, "a/s": R, "a/new": A}],
        {"a": (DIR, 1), "a/new": (FILE, 1)},
    ),
    "opaque marker on an empty folder": Case([[d("a")], [opq("a")]], [{"a": A}, {}], {"a": (DIR, 0)}),
    "whiteout then re-add in the same layer": Case(
        [[f("a", 1)], [f("a", 2), wh("a")]], [{"a": A}, {"a": M}], {"a": (FILE, 1)}
    ),
    # the folder comes back as the parent of the layer's own file: Modified, not Removed, and the
    # children it lost are listed as removed (as under an opaque marker)
    "whiteout of a folder then a file under it": Case(
        [[d("a"), f("a/b")], [wh("a"), f("a/c")]],
        [{"a": A, "a/b": A}, {"a": M, "a/b": R, "a/c": A}],
        {"a": (DIR, 1), "a/c": (FILE, 1)},
    ),
    "whiteout of a folder then the folder again": Case(
        [[d("a"), f("a/b", 1), d("a/s"), f("a/s/x")], [wh("a"), d("a"), f("a/b", 1)]],
        [{"a": A, "a/b": A, "a/s": A, "a/s/x": A}, {"a": M, "a/b": M, "a/s": R}],
        {"a": (DIR, 1), "a/b": (FILE, 1)},
    ),
    "whiteout of a folder then a file in its place": Case(
        [[d("a"), f("a/b")], [wh("a"), f("a")]], [{"a": A, "a/b": A}, {"a": M}], {"a": (FILE, 1)}
    ),
    "duplicate path in one layer: the last wins": Case(
        [[f("a", 1), f("a", 7)]], [{"a": A}], {"a": (FILE, 0)}
    ),
    "implied parent folders": Case(
        [[f("a/b/c")]], [{"a": A, "a/b": A, "a/b/c": A}], {"a": (DIR, 0), "a/b": (DIR, 0), "a/b/c": (FILE, 0)}
    ),
    "explicit folder over an implied one": Case(
        [[f("a/b")], [d("a")]], [{"a": A, "a/b": A}, {"a": U}], {"a": (DIR, 1), "a/b": (FILE, 0)}
    ),
    "a file under a file replaces it with a folder": Case(
        [[f("a")], [f("a/b")]], [{"a": A}, {"a": M, "a/b": A}], {"a": (DIR, 1), "a/b": (FILE, 1)}
    ),
    "hardlink to a lower-layer file": Case(
        [[d("bin"), f("bin/a", 5)], [hard("bin/b", "bin/a")]],
        [{"bin": A, "bin/a": A}, {"bin/b": A, "bin": M}],
        {"bin": (DIR, 0), "bin/a": (FILE, 0), "bin/b": (HARDLINK, 1)},
    ),
    "a folder is Modified because a child changed": Case(
        [[d("a"), d("a/s"), f("a/s/b", 1)], [f("a/s/b", 2)]],
        [{"a": A, "a/s": A, "a/s/b": A}, {"a": M, "a/s": M, "a/s/b": M}],
        {"a": (DIR, 0), "a/s": (DIR, 0), "a/s/b": (FILE, 1)},
    ),
    "a re-listed folder is Modified because a child was added": Case(
        [[d("a"), f("a/b")], [d("a"), f("a/c")]],
        [{"a": A, "a/b": A}, {"a": M, "a/c": A}],
        {"a": (DIR, 1), "a/b": (FILE, 0), "a/c": (FILE, 1)},
    ),
    "an added folder stays Added with its children": Case(
        [[f("x")], [d("a"), f("a/b")]],
        [{"x": A}, {"a": A, "a/b": A}],
        {"x": (FILE, 0), "a": (DIR, 1), "a/b": (FILE, 1)},
    ),
    "unchanged children leave a folder Unmodified": Case(
        [[d("a"), d("a/s")], [d("a"), d("a/s")]],
        [{"a": A, "a/s": A}, {"a": U, "a/s": U}],
        {"a": (DIR, 1), "a/s": (DIR, 1)},
    ),
    # same size and attributes: only content could tell, and there is no archive to read it from
    "same size and attributes without an archive": Case(
        [[f("a", 3)], [f("a", 3, mtime=99)]], [{"a": A}, {"a": M}], {"a": (FILE, 1)}
    ),
    "empty file again is Unmodified (no content to compare)": Case(
        [[f("a", 0)], [f("a", 0)]], [{"a": A}, {"a": U}], {"a": (FILE, 1)}
    ),
}


def _tree_of(tree: ImageTree) -> dict[str, tuple[EntryType, int]]:
    return {p: (n.type, n.layer) for p, n in tree.nodes.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_change_kinds(name: str) -> None:
    case = CASES[name]
    tree = merge(stack(*case.layers))
    assert tree.changes == case.changes
    assert _tree_of(tree) == case.tree
    # every kind is the enum itself, not only a string equal to it
    assert all(type(k) is ChangeKind for lc in tree.changes for k in lc.values())


@pytest.mark.parametrize("name", list(CASES))
def test_merge_upto_is_the_lower_stack(name: str) -> None:
    """Merging up to a layer gives what merging that many layers gives."""
    case = CASES[name]
    layers = stack(*case.layers)
    for top in range(len(layers)):
        part = merge(layers, upto=top)
        whole = merge(layers[: top + 1])
        assert part.changes == whole.changes == case.changes[: top + 1]
        assert _tree_of(part) == _tree_of(whole)


@pytest.mark.parametrize("name", list(CASES))
def test_views_show_the_kinds(name: str) -> None:
    """The merged view shows each node's kind in its owner layer; the layer view each listed path's."""
    case = CASES[name]
    tree = merge(stack(*case.layers))
    merged = MergedView(tree)
    for p, (_t, layer) in case.tree.items():
        assert merged.row(p).change is case.changes[layer].get(p, A)
    top = len(case.layers) - 1
    own = LayerView(tree, top)
    for p, kind in case.changes[top].items():
        assert own.row(p).change is kind


def test_duplicate_path_warns_and_keeps_the_last() -> None:
    tree = merge(stack([f("a", 1), f("a", 7)]))
    assert tree.nodes["a"].entry is not None and tree.nodes["a"].entry.size == 7
    assert tree.warnings == ["layer 0: /a appears more than once; the last one wins"]
    assert tree.waste_events == [("a", 0, 1, 0, False)]


def test_hardlink_resolves_to_the_lower_layer_file() -> None:
    tree = merge(stack(*CASES["hardlink to a lower-layer file"].layers))
    target = hardlink_target(tree, "bin/b")
    assert target == "bin/a" and tree.nodes[target].layer == 0


def test_removed_rows_name_what_was_removed() -> None:
    tree = merge(stack([d("a"), f("a/b", 4)], [wh("a")]))
    (row,) = tree.layer_view(1)
    assert (row.path, row.kind, row.owner) == ("a", R, 0)
    assert row.entry is not None and row.entry.type is DIR
    assert sorted(tree.waste_events) == [("a/b", 0, 4, 1, True)]


def test_implied_folders_have_no_entry() -> None:
    tree = merge(stack([f("a/b/c")]))
    assert tree.nodes["a"].entry is None and tree.nodes["a"].is_dir and tree.nodes["a"].type is DIR


@pytest.mark.parametrize(
    ("folder", "child", "result"),
    [
        (U, U, U),
        (U, A, M),
        (U, M, M),
        (U, R, M),
        (A, U, A),
        (A, M, A),
        (M, A, M),
        (M, U, M),
        (R, A, R),
    ],
)
def test_one_merge_rule(folder: ChangeKind, child: ChangeKind, result: ChangeKind) -> None:
    assert folder.merge(child) is result
