"""Rows of the file views, removals above all: numbered by the layer that removed the path, saying what
it was (the removed entry, the layer that stored it) and how much it held; and the words the window
and the CLI show (plurals, one unit system)."""

from __future__ import annotations

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.display import exact_size, human_size, plural
from layerscope.core.kinds import ChangeKind, EntryType
from layerscope.core.merge import merge
from layerscope.core.paths import is_under
from layerscope.core.session import LoadedImage, load
from layerscope.core.views import LayerView, MergedView
from tests.conftest import REAL, need_shared
from tests.core.test_merge_table import d, f, opq, stack, sym, wh

R = ChangeKind.REMOVED


def removed_rows(view: LayerView) -> dict[str, object]:
    return {p: view.row(p) for p in view.paths() if view.row(p).change is R}


def check_against_the_layer_below(tree_of, layers_count, own_view) -> int:
    """Every removed row of every layer agrees with the merged filesystem just below that layer:
    the layer that stored the path, its entry, its bytes (a folder's total) and the entries under it."""
    checked = 0
    for layer in range(1, layers_count):
        view = own_view(layer)
        below = MergedView(tree_of(layer - 1))
        for p, r in removed_rows(view).items():
            n = below.tree.nodes[p]
            assert r.layer == layer, (p, r)  # the layer that removed it, not the one that had it
            assert r.stored_in == n.layer and r.entry is n.entry
            assert r.type is n.type
            assert r.size == below.row(p).size
            under = [q for q in below.tree.nodes if q != p and is_under(q, p)]
            assert r.held == len(under)
            assert r.children == 0
            checked += 1
    return checked


def loaded(name: str) -> LoadedImage:
    a = open_archive(REAL / name)
    return load(a, a.images[0])


def test_removed_file_and_folders_of_a_real_image():
    """umoci-edge: L5 (#4) deletes /opt/app/cache/c1 and cache/sub, L8 (#7) the whole /srv."""
    need_shared()
    s = loaded("umoci-edge.oci.tar")
    c1 = LayerView(s.tree, 4).row("opt/app/cache/c1")
    assert (c1.change, c1.layer, c1.stored_in, c1.type, c1.size, c1.held) == (R, 4, 0, EntryType.FILE, 3, 0)
    assert c1.entry is not None and c1.entry.mode == 0o644
    sub = LayerView(s.tree, 4).row("opt/app/cache/sub")
    assert (sub.layer, sub.stored_in, sub.type, sub.held) == (4, 0, EntryType.DIR, 1)  # it held s1
    below = MergedView(s.merged_upto(3))
    assert sub.size == below.row("opt/app/cache/sub/s1").size > 0
    srv = LayerView(s.tree, 7).row("srv")
    assert (srv.layer, srv.change, srv.type) == (7, R, EntryType.DIR)
    assert srv.held == 3  # www, www/index.html, blob.bin
    assert srv.size == below.row("srv").size == 300012
    assert srv.stored_in == s.merged_upto(6).nodes["srv"].layer


@pytest.mark.parametrize(
    "name", ["umoci-edge.oci.tar", "docker20-edge.save.tar", "buildah-run.oci.tar", "umoci-insert.oci.tar"]
)
def test_every_removal_of_real_images_agrees_with_the_layer_below(name):
    need_shared()
    s = loaded(name)
    n = check_against_the_layer_below(s.merged_upto, len(s.layers), lambda i: LayerView(s.tree, i))
    assert n > 0


def test_opaque_folder_whiteout_and_restored_folder_in_memory():
    layers = stack(
        [
            d("a"),
            d("a/b"),
            f("a/b/x", 100),
            f("a/b/y", 20),
            f("a/z", 3),
            sym("a/l", "z"),
            d("k"),
            f("k/1", 7),
        ],
        [wh("a/b"), f("a/n", 5), sym("s", "k")],  # a folder with two files goes
        [opq("k"), f("k/2", 1)],  # an opaque folder: its lower child goes
        [wh("a"), d("a"), f("a/new", 9)],  # a whole folder goes and comes back: its children listed removed
        [wh("s"), wh("k/2")],  # a symlink and a file of layer 2 go
    )
    tree = merge(layers)
    ab = LayerView(tree, 1).row("a/b")
    assert (ab.layer, ab.stored_in, ab.size, ab.held, ab.type) == (1, 0, 120, 2, EntryType.DIR)
    k1 = LayerView(tree, 2).row("k/1")
    assert (k1.layer, k1.stored_in, k1.size) == (2, 0, 7)
    v3 = LayerView(tree, 3)
    assert v3.row("a").change is ChangeKind.MODIFIED and v3.row("a").layer == 3
    assert {p: (r.stored_in, r.size) for p, r in removed_rows(v3).items()} == {
        "a/z": (0, 3),
        "a/l": (0, 0),
        "a/n": (1, 5),
    }
    v4 = LayerView(tree, 4)
    assert {p: (r.layer, r.stored_in, r.type) for p, r in removed_rows(v4).items()} == {
        "s": (4, 1, EntryType.SYMLINK),
        "k/2": (4, 2, EntryType.FILE),
    }
    n = check_against_the_layer_below(
        lambda i: merge(layers, upto=i), len(layers), lambda i: LayerView(tree, i)
    )
    assert n == 7


def test_folders_above_unchanged_paths_are_the_viewed_layer_s_and_unknown_paths_raise():
    """A layer that lists a folder again unchanged shows the folders above it as its own, unmodified
    (not as the layer that owns them at the top of the image: #2 here), and row() of a path the view
    lacks raises KeyError."""
    layers = stack([d("p"), d("p/q"), f("p/q/x", 4)], [d("p/q")], [d("p", mode=0o700)])
    tree = merge(layers)
    v = LayerView(tree, 1)
    assert v.row("p/q").change is ChangeKind.UNMODIFIED
    r = v.row("p")
    assert (r.layer, r.stored_in, r.change) == (1, 0, ChangeKind.UNMODIFIED)
    # its attributes as they are at layer 1: layer 0's entry, not the top's (#2 makes it 0700)
    assert r.entry is layers[0].entries[0] and r.entry.mode != 0o700
    with pytest.raises(KeyError):
        v.row("nowhere")
    with pytest.raises(KeyError):
        MergedView(tree).row("nowhere")


def test_folders_a_layer_does_not_list_show_their_attributes_at_that_layer():
    """The parent of what a layer removed or changed, when the layer's tar does not list it (e.g.
    /usr/share for a removed /usr/share/doc), shows its entry as it is at that layer: the merged
    filesystem up to the layer, merged again from the layers alone, says which entry and whose."""
    need_shared()
    checked = {}
    names = ("umoci-edge.oci.tar", "docker20-edge.save.tar", "buildah-run.oci.tar", "umoci-insert.oci.tar")
    for name in names:
        checked[name] = _check_unlisted_folders(loaded(name))
    assert checked["umoci-edge.oci.tar"] > 0  # umoci lists no parent folder again (docker and buildah do)
    app = LayerView(loaded("umoci-edge.oci.tar").tree, 4).row("opt/app")  # above cache/c1, #4 removed it
    assert (app.change, app.layer, app.stored_in) == (ChangeKind.MODIFIED, 4, 0)
    assert app.entry is not None and app.entry.mode == 0o755


def _check_unlisted_folders(s: LoadedImage) -> int:
    checked = 0
    for layer in range(len(s.layers)):
        view = LayerView(s.tree, layer)
        listed = s.tree.layer_entries(layer)
        at = merge(s.layers, upto=layer).nodes
        for p in view.paths():
            r = view.row(p)
            if r.removed or p in listed or r.type is not EntryType.DIR:
                continue
            n = at[p]
            if n.entry is None:  # implied at that layer too: nothing to show
                assert (r.entry, r.stored_in) == (None, layer)
                continue
            assert r.entry == n.entry and r.stored_in == n.layer and r.layer == layer, p
            checked += 1
    return checked


def test_plurals_and_sizes_in_one_unit_system():
    assert plural(1, "layer") == "1 layer" and plural(2, "layer") == "2 layers"
    assert plural(1, "entry") == "1 entry" and plural(0, "entry") == "0 entries"
    assert plural(1, "item") == "1 item" and plural(3, "match") == "3 matches"
    assert plural(2, "key") == "2 keys" and plural(1234, "file") == "1,234 files"
    assert human_size(116) == "116 bytes" and human_size(1) == "1 byte"
    assert human_size(1500) == "1.5 kB" and human_size(7_612_345) == "7.6 MB"  # decimal, as docker
    assert exact_size(116) == "116 bytes"  # not "116 bytes (116 Bytes)"
    assert exact_size(7_612_345) == "7.6 MB (7,612,345 bytes)"
