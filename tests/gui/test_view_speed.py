"""What keeps a layer switch and the expansion of a huge folder cheap: the views add folder sizes up
the folders (not up every path's ancestors) and never build a layer's full change list; the tree
model answers "has children" once per row, so that re-expanding a folder makes no rows again."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QTreeView

from layerscope.core import views
from layerscope.core.merge import ImageTree, merge
from layerscope.core.paths import ancestors
from layerscope.gui.models import FileTreeModel
from tests.core.test_merge_table import d, f, opq, stack, sym, wh


def layers_of_a_small_image():  # type: ignore[no-untyped-def]
    big = [f(f"usr/share/man/man1/page{i}.1", size=i + 1) for i in range(300)]
    return stack(
        [d("usr"), d("usr/share"), f("usr/share/a/b/c/deep", 7), *big, f("etc/passwd", 3), d("opt")],
        [wh("usr/share/man/man1/page3.1"), f("usr/share/a/b/new", 11), sym("usr/link", "share"), d("etc")],
        [opq("usr/share/a"), f("usr/share/a/x", 5), f("opt/tool/bin/run", 13), wh("etc/passwd")],
    )


def naive_totals(own: dict[str, int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for p, size in own.items():
        if size:
            for q in ancestors(p):
                totals[q] = totals.get(q, 0) + size
    return totals


def test_folder_totals_add_up_the_folders_not_every_paths_ancestors(monkeypatch):
    layers = layers_of_a_small_image()
    tree = merge(layers)
    own = {p: (n.entry.size if n.entry is not None and not n.is_dir else 0) for p, n in tree.nodes.items()}
    kids, totals = views._children_and_sizes(own)
    assert {k: v for k, v in totals.items() if v} == {k: v for k, v in naive_totals(own).items() if v}
    assert sorted(kids[""]) == kids[""]
    walked: list[str] = []

    def counting(path: str):  # type: ignore[no-untyped-def]
        walked.append(path)
        return ancestors(path)

    monkeypatch.setattr(views, "ancestors_of", counting)
    views.MergedView(tree)
    assert walked == []  # a merged view of N paths is one pass over them, whatever their depth


def test_a_layers_view_does_not_build_the_layers_change_list(monkeypatch):
    layers = layers_of_a_small_image()
    tree = merge(layers)
    expected = {}
    for layer in range(len(layers)):
        v = views.LayerView(tree, layer)
        expected[layer] = {p: v.row(p) for p in v.paths()}

    def refuse(self: ImageTree, layer: int) -> list[object]:
        raise AssertionError("LayerView sorted and copied every change of the layer")

    monkeypatch.setattr(ImageTree, "layer_view", refuse)
    for layer in range(len(layers)):
        v = views.LayerView(tree, layer)
        assert {p: v.row(p) for p in v.paths()} == expected[layer]
    assert views.LayerView(tree, 1).row("usr/share/man/man1/page3.1").stored_in == 0  # a removal


@pytest.fixture()
def tree_view(qapp):  # type: ignore[no-untyped-def]
    layers = layers_of_a_small_image()
    m = FileTreeModel()
    tv = QTreeView()
    tv.setUniformRowHeights(True)
    tv.setModel(m)
    tv.resize(600, 400)
    tv.show()
    m.set_view(views.MergedView(merge(layers)))
    qapp.processEvents()
    yield m, tv
    tv.close()


def test_re_expanding_a_large_folder_asks_nothing_of_the_view_again(tree_view, qapp, monkeypatch):
    m, tv = tree_view
    for p in ("usr", "usr/share", "usr/share/man"):
        tv.expand(m.index_for_path(p))
    man1 = m.index_for_path("usr/share/man/man1")
    tv.expand(man1)
    qapp.processEvents()
    assert m.rowCount(man1) == 299
    tv.collapse(man1)
    qapp.processEvents()
    asked: list[str] = []
    view = m.view
    assert view is not None
    monkeypatch.setattr(view, "row", lambda p: asked.append(p) or views.FileView.row(view, p))
    monkeypatch.setattr(m, "_has_shown_children", lambda p: asked.append(p) or False)
    tv.expand(man1)
    qapp.processEvents()
    assert asked == []  # every row's "has children" and Row were kept from the first expansion
