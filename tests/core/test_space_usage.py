"""Sizes by folder (core/space/usage.py) and ``layerscope du``: the sums equal the merged trees that
`umoci unpack` made (shared/corpus/real/trees/*.tsv), a hardlinked file counted once; a layer's own
view and lower layers agree with the file browser's folder sizes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.cli import main
from layerscope.core.merge import merge
from layerscope.core.session import load
from layerscope.core.space.usage import usage_of_layer, usage_of_tree, usage_of_view
from layerscope.core.views import LayerView, MergedView
from tests.conftest import REAL
from tests.core.test_merge_table import d, f, hard, stack, wh

TREES = sorted((REAL / "trees").glob("*.tsv")) if (REAL / "trees").is_dir() else []


def oracle_usage(tsv: Path) -> tuple[dict[str, int], dict[str, int]]:
    """(folder -> bytes, folder -> files) from umoci's tree; files with nlink > 1 that share their
    content are one inode per nlink of them (counted once)."""
    files: list[tuple[str, int, int, str]] = []
    folders = {""}
    for line in tsv.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        path, kind, _mode, _owner, nlink, size, digest, _x = line.split("\t")
        if kind == "d":
            folders.add(path)
        elif kind == "f":
            files.append((path, int(size), int(nlink or 1), digest))
    seen: Counter[tuple[str, int]] = Counter()
    sizes = dict.fromkeys(folders, 0)
    counts = dict.fromkeys(folders, 0)
    for path, size, nlink, digest in sorted(files):
        if nlink > 1:
            seen[(digest, size)] += 1
            if (seen[(digest, size)] - 1) % nlink:
                continue  # another name of an inode already counted
        parts = path.split("/")
        for k in range(len(parts)):
            folder = "/".join(parts[:k])
            sizes[folder] += size
            counts[folder] += 1
    return sizes, counts


@pytest.fixture(scope="module")
def loaded_corpus():
    """Each corpus image with a umoci tree, loaded once for the module: (tsv name, LoadedImage)."""
    out = {}
    for tsv in TREES:
        archive_name, n = tsv.stem.rsplit("@", 1)
        archive = open_archive(REAL / archive_name)
        out[tsv.name] = load(archive, archive.images[int(n)])
    yield out
    for s in out.values():
        s.release()


@pytest.mark.parametrize("tsv", [t.name for t in TREES] or ["(corpus absent)"])
def test_du_json_sums_equal_umoci_unpack(tsv, capsys):
    if not TREES:
        pytest.skip("shared corpus absent")
    archive_name, n = tsv.rsplit("@", 1)
    code = main(
        ["du", str(REAL / archive_name), "--image", n.removesuffix(".tsv"), "--depth", "99", "--json"]
    )
    rows = json.loads(capsys.readouterr().out)
    assert code == 0
    sizes, counts = oracle_usage(REAL / "trees" / tsv)
    got = {r["path"].removeprefix("/"): r for r in rows}
    assert set(got) == set(sizes)  # every folder, the root included
    assert {p: r["bytes"] for p, r in got.items()} == sizes
    assert {p: r["files"] for p, r in got.items()} == counts
    for r in rows:
        assert sum(r["layers"].values()) == r["bytes"]
        assert all(int(k) >= 0 for k in r["layers"])


def test_du_text_is_du_order_and_depth(capsys):
    if not TREES:
        pytest.skip("shared corpus absent")
    edge = str(REAL / "docker20-edge.save.tar")
    assert main(["du", edge, "--depth", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    paths = [line.split("  /", 1)[1] for line in lines]
    assert paths[-1] == ""  # / last, as du prints it
    assert paths[:-1] == sorted(paths[:-1]) and all("/" not in p for p in paths)
    assert main(["du", edge, "--depth", "2", "--sort", "size", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["path"] == "/"
    assert [r["bytes"] for r in rows] == sorted((r["bytes"] for r in rows), reverse=True)
    assert max(r["path"].count("/") for r in rows) == 2
    assert main(["du", edge, "--layer", "99"]) == 2
    assert "out of range" in capsys.readouterr().err


def test_lower_layers_and_own_changes_agree_with_the_file_views(loaded_corpus):
    for s in loaded_corpus.values():
        for layer in range(len(s.layers)):
            tree = s.merged_upto(layer)
            usage, view = usage_of_tree(tree), MergedView(tree)
            for p in view.paths():
                if view.row(p).type == "dir":
                    assert usage.bytes(p) == view.total(p), p
            own, lv = usage_of_layer(s.tree, layer), LayerView(s.tree, layer)
            for p in lv.paths():
                r = lv.row(p)
                if r.type == "dir" and not r.removed:
                    assert own.bytes(p) == r.size, (layer, p)
            assert set(own.layers("")) <= {layer}
            stored = sum(e.size for e in s.tree.layer_entries(layer).values() if e.type == "file")
            assert own.bytes("") == stored


def test_the_top_view_s_folder_records_give_the_same_usage_as_a_pass_over_the_tree(loaded_corpus):
    """The treemap's first picture reads the folder records the merged view was made with
    (usage_of_view): every folder's row, children and treemap input equal a fresh pass's."""
    for name, s in loaded_corpus.items():
        view = s.view(len(s.layers) - 1, own_changes=False)
        assert isinstance(view, MergedView)
        fast, slow = usage_of_view(view), usage_of_tree(s.tree)
        assert [r.as_json() for r in fast.folders(None)] == [r.as_json() for r in slow.folders(None)], name
        for row in slow.folders(None):
            assert fast.sized_children(row.path) == slow.sized_children(row.path), (name, row.path)
            assert sorted(fast.child_paths(row.path)) == sorted(slow.child_paths(row.path))


def test_a_treemap_s_input_by_hand():
    """sized_children worked out by hand: biggest first, equal sizes by path, a hardlink and an
    empty file left out (they hold no bytes of their own), a folder's layer the one holding most."""
    layers = stack(
        [d("a"), f("a/big", 100), f("a/small", 1), f("a/empty", 0), d("b"), f("b/x", 10), f("c", 10)],
        [hard("a/link", "a/big"), f("d", 10), d("e"), f("e/one", 4), f("e/two", 4), f("b/y", 3), f("b/z", 3)],
    )
    u = usage_of_tree(merge(layers))
    root = u.sized_children("")
    assert root.paths == ["a", "b", "c", "d", "e"]
    assert root.sizes == [101, 16, 10, 10, 8]
    assert root.layers == [0, 0, 0, 1, 1]  # b: 10 bytes of layer 0 against 6 of layer 1
    assert root.folders == [True, True, False, False, True]
    assert u.sized_children("a").paths == ["a/big", "a/small"]
    assert u.sized_children("b") == ([f"b/{n}" for n in "xyz"], [10, 3, 3], [0, 1, 1], [False] * 3)
    assert u.sized_children("e").paths == ["e/one", "e/two"]
    assert sum(root.sizes) == u.bytes("")


def test_a_hardlinked_file_counts_once_and_layers_split_the_bytes():
    layers = stack(
        [d("a"), f("a/big", 100), f("a/small", 1), d("b"), f("b/x", 10)],
        [hard("a/again", "a/big"), f("b/y", 5), wh("a/small")],
    )
    u = usage_of_tree(merge(layers))
    assert (u.bytes(""), u.files("")) == (115, 3)
    assert u.folder("a").as_json() == {"path": "/a", "bytes": 100, "files": 1, "layers": {"0": 100}}
    assert u.layers("b") == {0: 10, 1: 5} and u.layers("") == {0: 110, 1: 5}
    assert u.main_layer("b") == 0 and u.main_layer("b/y") == 1
    assert u.sized_children("") == (["a", "b"], [100, 15], [0, 0], [True, True])
    assert [c.name for c in u.children("b")] == ["x", "y"]
    assert [r.path for r in u.folders(None)] == ["", "a", "b"]
    assert [r.path for r in u.folders(0)] == [""]
    with pytest.raises(KeyError):
        u.folder("nope")
    own = usage_of_layer(merge(layers), 1)
    assert own.bytes("") == 5 and own.layers("b") == {1: 5} and own.child_paths("a") == ["a/again"]
