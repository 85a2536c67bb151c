"""``diff`` on real images of the corpus: the same image in two layouts is identical, an image and
its base differ by exactly what the Dockerfile did (checked against the merged trees of
``umoci unpack``, trees/*.tsv), two layers of one image differ by what the layers between did."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from layerscope.core.compare.config import ConfigKey
from layerscope.core.compare.diff import ImageDiff, diff_images, diff_layer_range
from layerscope.core.compare.files import Aspect
from layerscope.core.compare.verdict import Outcome
from layerscope.core.kinds import ChangeKind, EntryType
from layerscope.core.paths import ancestors
from layerscope.core.session import LoadedImage, load
from layerscope.core.usecases.image import open_image
from tests.conftest import REAL, need_shared
from tests.expected import read_tree

LAYOUT_PAIRS = [
    ("buildah-run.docker.tar", "buildah-run.oci.tar"),
    ("umoci-edge.docker.tar", "umoci-edge.oci.tar"),
    ("umoci-edge.oci.tar", "umoci-edge.zstd.oci.tar"),
    ("umoci-edge.docker.tar", "umoci-edge.multitag.docker.tar"),
    ("umoci-insert.docker.tar", "umoci-insert.oci.tar"),
]
"""The same image written by two tools or in two layouts."""

ORACLE_PAIRS = [
    # (archive A, image A, archive B, image B): the dockerd edge images against their base ...
    ("docker20-multi.save.tar", 1, "docker20-multi.save.tar", 0),
    ("docker26-multi.save.tar", 1, "docker26-multi.save.tar", 0),
    ("podman-multi.docker.tar", 2, "podman-multi.docker.tar", 1),
    # ... two images of one multi-image archive, the same Dockerfile built by two dockerd versions,
    # two umoci images, two producers' builds of one Dockerfile
    ("podman-multi.docker.tar", 0, "podman-multi.docker.tar", 1),
    ("docker20-edge.save.tar", 0, "docker26-edge.save.tar", 0),
    ("umoci-edge.oci.tar", 0, "umoci-insert.oci.tar", 0),
    ("docker20-multi.save.tar", 0, "podman-multi.docker.tar", 1),
]

EDGE_ADDED = {
    "bin/suid-prog",
    "etc/app.ini",
    "opt/app/added.txt",
    "opt/app/cache/c2",
    "opt/app/hard-src",
    "opt/app/hard-link",
    "opt/app/ünïcødé-文件-😀.txt",
    "opt/empty",
    "opt/long",
}
"""What build-corpus.sh's Dockerfile adds over corpus/bbase:1 (the long path's folders aside)."""
EDGE_REMOVED = {
    "opt/app/data/a.txt",
    "opt/app/cache/c1",
    "opt/app/cache/sub",
    "opt/app/cache/sub/s1",
    "var/log",
    "var/log/old.log",
}
EDGE_CHANGED = {"opt/app/config.ini": (Aspect.CONTENT,)}  # v=1 -> v=2: same size, other bytes


class _Loader(dict[tuple[str, int], LoadedImage]):
    """Loaded images by (archive, image index), each loaded on first use; images of one archive
    share its layer indexes."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        super().__init__()
        self.stack = stack

    def __missing__(self, key: tuple[str, int]) -> LoadedImage:
        name, n = key
        archive, im = self.stack.enter_context(open_image(REAL / name, str(n)))
        same = next((v for (k, _), v in self.items() if k == name), None)
        self[key] = loaded = load(archive, im, cache=same.cache if same is not None else None)
        return loaded


@pytest.fixture(scope="module")
def images() -> Iterator[_Loader]:
    need_shared()
    with contextlib.ExitStack() as stack:
        yield _Loader(stack)


def _paths(d: ImageDiff) -> tuple[set[str], set[str], set[str]]:
    f = d.files
    return {x.path for x in f.added}, {x.path for x in f.removed}, {x.path for x in f.changed}


@pytest.mark.parametrize(("a", "b"), LAYOUT_PAIRS)
def test_the_same_image_in_two_layouts_is_identical_in_content(images, a, b):
    for strict in (False, True):
        d = diff_images(images[(a, 0)], images[(b, 0)], strict=strict)
        assert d.files.count == 0, d.files.differences()[:5]
        assert d.layers.same and d.layers.base == len(images[(a, 0)].layers)
        assert d.verdict.outcome in (Outcome.IDENTICAL, Outcome.SAME_CONTENT), d.verdict.text
        assert d.verdict.files == 0 and d.files.size_delta == 0
        assert d.config.settings == ()


def _oracle(a: str, ia: int, b: str, ib: int) -> tuple[set[str], set[str], set[str]]:
    """Added, removed, changed paths between two trees of ``umoci unpack`` (mtime not recorded)."""
    ta = read_tree(REAL / "trees" / f"{a}@{ia}.tsv")
    tb = read_tree(REAL / "trees" / f"{b}@{ib}.tsv")

    def key(p: str, t: dict) -> tuple[object, ...]:
        r = t[p]
        return (r.type, r.mode, r.uid, r.gid, r.size, r.digest_or_target, r.xattrs)

    return set(tb) - set(ta), set(ta) - set(tb), {p for p in set(ta) & set(tb) if key(p, ta) != key(p, tb)}


@pytest.mark.parametrize(("a", "ia", "b", "ib"), ORACLE_PAIRS)
def test_files_added_removed_changed_agree_with_umoci_unpack(images, a, ia, b, ib):
    d = diff_images(images[(a, ia)], images[(b, ib)])
    assert _paths(d) == _oracle(a, ia, b, ib)
    # umoci unpack writes a hardlink as one more name of a file's bytes; the layers store them once
    for side, archive, n in ((d.a, a, ia), (d.b, b, ib)):
        rows = read_tree(REAL / "trees" / f"{archive}@{n}.tsv")
        nodes = side.tree.nodes
        once = sum(
            r.size or 0
            for p, r in rows.items()
            if r.type == "f" and not (nodes[p].entry and nodes[p].entry.type is EntryType.HARDLINK)
        )
        assert once == (d.files.bytes_a if side is d.a else d.files.bytes_b)


@pytest.mark.parametrize("archive", ["docker20-multi.save.tar", "docker26-multi.save.tar"])
def test_the_dockerd_edge_image_against_its_base_is_what_the_dockerfile_did(images, archive):
    base, edge = images[(archive, 1)], images[(archive, 0)]
    d = diff_images(base, edge)
    added, removed, _ = _paths(d)
    assert {p for p in added if not p.startswith("opt/long/")} == EDGE_ADDED
    assert removed == EDGE_REMOVED
    assert {x.path: x.what for x in d.files.changed} == EDGE_CHANGED
    # the base layer is shared, at the bottom of both; the six Dockerfile layers are B's own
    assert [(s.a, s.b) for s in d.layers.shared] == [(0, 0)]
    assert d.layers.base == 1 and d.layers.base_size == base.layers[0].uncompressed_size
    assert [x.index for x in d.layers.only_b] == [1, 2, 3, 4, 5, 6] and d.layers.only_a == ()
    # ENV, WORKDIR and LABEL change the config; CMD ["/bin/sh"] is the base's too
    keys = {s.key: (s.a, s.b) for s in d.config.settings}
    assert set(keys) == {ConfigKey.ENV, ConfigKey.WORKING_DIR, ConfigKey.LABELS}
    assert "A=1" in keys[ConfigKey.ENV][1] and keys[ConfigKey.WORKING_DIR] == (None, "/opt/app")
    assert [h.change for h in d.config.history] == [ChangeKind.ADDED] * 10
    # bytes: c2 (3) + added (6) + hard-src (3) + suid (5) + long (5) + uni (4) - a (2) - c1 (3) - s1 (3)
    # - old.log (4); config.ini keeps its 4
    assert d.files.size_delta == 14
    assert d.files.folder_delta[""] == 14 and d.files.folder_delta["var/log"] == -4
    assert d.files.folder_delta["opt/app/cache"] == 3 - 3 - 3
    assert d.verdict.outcome is Outcome.DIFFERENT
    assert d.verdict.text == "19 files differ (12 added, 6 removed, 1 changed), +14 bytes"


def test_two_dockerd_builds_of_one_dockerfile_have_the_same_content(images):
    a, b = images[("docker20-edge.save.tar", 0)], images[("docker26-edge.save.tar", 0)]
    d = diff_images(a, b)
    assert d.files.count == 0 and d.verdict.outcome is Outcome.SAME_CONTENT
    strict = diff_images(a, b, strict=True)
    assert strict.files.changed and all(x.what == (Aspect.MTIME,) for x in strict.files.changed)
    assert strict.verdict.outcome is Outcome.SAME_CONTENT and "mtime" in strict.verdict.text


def test_a_folder_scope_compares_only_below_it(images):
    base, edge = images[("docker20-multi.save.tar", 1)], images[("docker20-multi.save.tar", 0)]
    d = diff_images(base, edge, path="/opt/app/cache")
    assert _paths(d) == (
        {"opt/app/cache/c2"},
        {"opt/app/cache/c1", "opt/app/cache/sub", "opt/app/cache/sub/s1"},
        set(),
    )
    assert d.files.size_delta == -3
    same = diff_images(base, edge, path="/etc/passwd")
    assert same.verdict.outcome is Outcome.IDENTICAL  # the verdict is on the folder's files alone


def _under_removed(p: str, removed_tops: set[str]) -> bool:
    return p in removed_tops or any(q in removed_tops for q in ancestors(p))


@pytest.mark.parametrize("archive", ["umoci-edge.oci.tar", "docker20-edge.save.tar", "buildah-run.oci.tar"])
def test_consecutive_layers_differ_by_that_layers_own_changes(images, archive):
    image = images[(archive, 0)]
    for i in range(1, len(image.layers)):
        d = diff_layer_range(image, i - 1, i)
        own = image.tree.changes[i]
        below = image.merged_upto(i - 1).nodes
        tops = {p for p, k in own.items() if k is ChangeKind.REMOVED}
        added, removed, changed = _paths(d)
        files = {p for p, n in below.items() if not n.is_dir} | {
            p for p, n in image.merged_upto(i).nodes.items() if not n.is_dir
        }
        for p in files:  # folders: the layer's kind folds in its children's; the diff says their own
            kind = own.get(p, ChangeKind.UNMODIFIED)
            assert (p in added) == (kind is ChangeKind.ADDED), (i, p, kind)
            assert (p in changed) == (kind is ChangeKind.MODIFIED), (i, p, kind)
            assert (p in removed) == (p in below and _under_removed(p, tops) and p not in d.b.tree.nodes), (
                i,
                p,
            )
        assert [s.a for s in d.layers.shared] == list(range(i)) and [x.index for x in d.layers.only_b] == [i]


def test_the_whole_stack_of_umoci_edge_is_the_story_of_its_layers(images):
    image = images[("umoci-edge.oci.tar", 0)]
    d = diff_layer_range(image, 0, len(image.layers) - 1)
    what = {x.path: x.what for x in d.files.changed}
    assert what == {
        "opt/app/config.ini": (Aspect.CONTENT, Aspect.MODE),  # L3 v=1 -> v=2, L7 chmod 600
        "opt/app/data/b.txt": (Aspect.XATTRS,),  # L7 user.comment
    }
    added, removed, _ = _paths(d)
    assert {"opt/app/added.txt", "opt/app/added.txt/inner", "opt/app/cache/c2", "etc/app.ini"} <= added
    assert "srv/www/index.html" not in added | removed  # added by L2, gone with /srv in L8
    assert {"srv", "srv/blob.bin", "opt/app/data/a.txt", "opt/app/cache/c1", "opt/app/cache/sub"} <= removed
    assert d.files.folder_delta["srv"] == -300_000
    assert d.files.biggest_folders(1) == [("srv", -300_000)]
    symlink = diff_layer_range(image, 5, 6)
    assert {x.path: x.what for x in symlink.files.changed}["etc/app.ini"] == (Aspect.LINK,)
    file_to_dir = {x.path: x for x in symlink.files.changed}["opt/app/added.txt"]
    assert Aspect.TYPE in file_to_dir.what and (file_to_dir.type_a, file_to_dir.type_b) == (
        EntryType.FILE,
        EntryType.DIR,
    )
    nothing = diff_layer_range(image, 3, 3)
    assert nothing.verdict.outcome is Outcome.IDENTICAL


def test_shared_layers_are_not_read_again(images, monkeypatch):
    """Files of layers both sides share are the same member of the same tar: no byte is read."""
    from layerscope.core.compare import content

    calls: list[object] = []
    real = content.iter_contents
    monkeypatch.setattr(content, "iter_contents", lambda *a, **k: calls.append(a) or real(*a, **k))
    d = diff_images(images[("umoci-edge.docker.tar", 0)], images[("umoci-edge.oci.tar", 0)])
    assert d.files.count == 0 and calls == []


def test_reading_a_path_that_is_not_there_is_bad_input(images):
    from layerscope.core.errors import LayerScopeError

    a = images[("umoci-edge.oci.tar", 0)]
    with pytest.raises(LayerScopeError, match="no such path"):
        diff_images(a, a, path="/no/such/dir")
    with pytest.raises(LayerScopeError, match="out of range"):
        diff_layer_range(a, 0, 99)
