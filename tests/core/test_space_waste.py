"""Each layer's visible and hidden bytes (core/space/layers.py), the waste explained
(core/space/waste_groups.py) and the overview (core/space/overview.py) agree with core/waste.py's
figures and the existing summaries, on every corpus image and on tiny layer stacks."""

from __future__ import annotations

import dataclasses

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.archive.records import HistoryStep
from layerscope.core.dive_figures import dive_figures
from layerscope.core.merge import merge
from layerscope.core.session import load
from layerscope.core.space.layers import layer_bars
from layerscope.core.space.overview import image_overview
from layerscope.core.space.usage import usage_of_tree
from layerscope.core.space.waste_groups import explain_waste, short_command, waste_headline
from layerscope.core.usecases.summary import image_summary
from layerscope.core.waste import layerscope_figures, waste_items
from tests.conftest import real_archives
from tests.core.test_merge_table import d, f, opq, stack, wh


@pytest.fixture(scope="module")
def corpus_images():
    """Every image of every corpus archive, loaded once for the module."""
    out = []
    for path in real_archives():
        archive = open_archive(path)
        cache = None
        for im in archive.images:
            s = load(archive, im, cache=cache)
            cache = s.cache
            out.append((path.name, s))
    if not out:
        pytest.skip("shared corpus absent")
    yield out
    for _n, s in out:
        s.release()


def with_history(layers, *commands: str):
    """The layers of ``stack`` with a history step each (``commands`` bottom first)."""
    out = []
    for li, c in zip(layers, commands, strict=True):
        step = HistoryStep(None, c, "", "", False, li.index)
        out.append(dataclasses.replace(li, desc=dataclasses.replace(li.desc, history=step)))
    return out


def test_bars_split_what_each_layer_stored_as_the_waste_figures_do(corpus_images):
    for name, s in corpus_images:
        bars = layer_bars(s.tree, s.figures)
        assert [(b.index, b.stored, b.visible) for b in bars] == [
            (x.index, x.stored, x.visible) for x in s.figures.layers
        ], name
        for b in bars:
            assert b.visible + b.shadowed + b.deleted == b.stored, (name, b)
            assert sum(b.hidden_by.values()) == b.hidden
            assert all(by >= b.index for by in b.hidden_by)
        assert (
            sum(b.hidden for b in bars)
            == s.figures.wasted_bytes
            == s.figures.stored_bytes - s.figures.visible_bytes
        )
        assert layer_bars(s.tree) == bars  # the figures made again: the same


def test_waste_groups_total_the_waste_figures(corpus_images):
    hidden_somewhere = 0
    for name, s in corpus_images:
        ex = explain_waste(s.tree)
        ref = waste_items(s.tree)
        assert ex.total == s.figures.wasted_bytes == sum(w.size for w in ref), name
        assert [(w.path, w.size, w.gone) for w in ex.items] == [(w.path, w.size, w.deleted) for w in ref]
        for w, r in zip(ex.items, ref, strict=True):
            assert sorted((c.layer, c.size) for c in w.copies) == sorted(r.copies)
            assert {c.by for c in w.copies} == set(r.by)
        assert ex.by_folder.total == ex.total
        assert sum(c.bytes for c in ex.by_cause) == ex.total
        for c in ex.by_cause:
            assert sum(c.stored_by.values()) == c.bytes == sum(w.size for w in c.items)
            assert all(k.by == c.layer for w in c.items for k in w.copies)
        # every folder's total is what it holds: its subfolders' and its own items'
        stack_ = [""]
        while stack_:
            p = stack_.pop()
            subs, items = ex.by_folder.children(p)
            assert ex.by_folder.folder(p).bytes == sum(x.bytes for x in subs) + sum(w.size for w in items)
            assert [x.bytes for x in subs] == sorted((x.bytes for x in subs), reverse=True)
            stack_.extend(x.path for x in subs)
        for base in range(1, len(s.layers)):
            assert (
                explain_waste(s.tree, base).total == layerscope_figures(s.layers, s.tree, base).wasted_bytes
            )
        hidden_somewhere += ex.total
    assert hidden_somewhere > 0  # the corpus deletes and shadows files


def test_each_item_says_why_in_words():
    layers = with_history(
        stack(
            [
                d("var"),
                d("var/cache"),
                f("var/cache/pkg.deb", 500),
                f("etc.conf", 7),
                d("opt"),
                f("opt/a", 3),
            ],
            [wh("var/cache"), f("etc.conf", 9), f("opt/a", 4), f("opt/a", 5)],
            [opq("opt")],
        ),
        "/bin/sh -c #(nop) ADD file:abc in / ",
        "/bin/sh -c apt-get clean && rm -rf /var/cache",
        "RUN /bin/sh -c rm -rf /opt/* # buildkit",
    )
    tree = merge(layers)
    ex = explain_waste(tree)
    why = {w.path: w.why for w in ex.items}
    assert why["var/cache/pkg.deb"] == "stored by #0, deleted by #1 (apt-get clean && rm -rf /var/cache)"
    assert why["etc.conf"] == "stored by #0, shadowed by #1 (apt-get clean && rm -rf /var/cache)"
    assert why["opt/a"] == (
        "stored by #0, shadowed by #1 (apt-get clean && rm -rf /var/cache); "
        "stored twice by #1 (apt-get clean && rm -rf /var/cache), the later copy shadows it; "
        "stored by #1, deleted by #2 (rm -rf /opt/*)"
    )
    assert [w.path for w in ex.items] == ["var/cache/pkg.deb", "opt/a", "etc.conf"]
    assert ex.items[0].gone and not ex.items[2].gone and ex.items[1].stored_in == 1
    causes = {c.layer: c for c in ex.by_cause}
    assert (causes[1].bytes, causes[1].deleted, causes[1].shadowed) == (514, 500, 14)
    assert causes[1].stored_by == {0: 510, 1: 4}
    assert (causes[2].bytes, causes[2].deleted, causes[2].command) == (5, 5, "rm -rf /opt/*")
    subs, items = ex.by_folder.children("")
    assert [(x.path, x.bytes, x.items) for x in subs] == [("var", 500, 1), ("opt", 12, 1)]
    assert [w.path for w in items] == ["etc.conf"]
    bars = layer_bars(tree)
    assert [(b.visible, b.shadowed, b.deleted, dict(b.hidden_by)) for b in bars] == [
        (0, 10, 500, {1: 510}),
        (9, 4, 5, {1: 4, 2: 5}),
        (0, 0, 0, {}),
    ]
    assert short_command("/bin/sh -c " + "x" * 100).endswith("…")
    assert len(short_command("/bin/sh -c " + "x" * 100)) == 60


def test_headline_names_both_figures_and_what_they_count():
    # a folder filled by one layer and deleted by the next: dive sees nothing wasted
    layers = stack([d("tmp"), f("tmp/a", 300), f("tmp/b", 700)], [wh("tmp")])
    tree = merge(layers)
    h = waste_headline(dive_figures(layers), layerscope_figures(layers, tree))
    assert h.layerscope.startswith("1.0 kB hidden by later layers (100.0 % of the bytes stored")
    assert h.dive == "efficiency 100.0 %, 0 bytes wasted (dive)"
    assert h.text == f"{h.layerscope} · {h.dive}"
    assert "deleted folders" in h.explanation and "dive" in h.explanation


def test_overview_agrees_with_the_summaries(corpus_images):
    for name, s in corpus_images:
        ov = image_overview(s, with_os=name.startswith("docker20-edge"))
        summary = image_summary(s.archive, s.image, s.layers)
        assert ov.compressed_bytes == sum(x["size"] for x in summary["layers"]), name
        assert ov.uncompressed_bytes == sum(x["uncompressed_size"] for x in summary["layers"])
        assert ov.layers == len(summary["layers"]) and ov.files == s.files
        assert (ov.file_bytes, ov.stored_bytes) == (s.figures.visible_bytes, s.figures.stored_bytes)
        usage = usage_of_tree(s.tree)
        assert [f.bytes for f in ov.biggest_folders] == sorted(
            (f.bytes for f in ov.biggest_folders), reverse=True
        )
        assert all(f.bytes == usage.bytes(f.path) and f.path.count("/") <= 1 for f in ov.biggest_folders)
        assert [w.path for w in ov.biggest_waste] == [w.path for w in s.figures.wasted[:5]]
        if name.startswith("docker20-edge"):
            assert ov.os is not None and ov.os.startswith("BusyBox")
            assert [f.path for f in ov.biggest_folders][:1] == ["bin"]
        else:
            assert ov.os is None
