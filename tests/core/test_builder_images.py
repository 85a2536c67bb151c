"""Images written by tests/imagebuilder.py: every layout x layer compression x outer compression opens
and indexes; the merge rules of FORMATS.md §3, alone and combined, give the trees the spec says, and
the same trees `umoci unpack` gives where umoci follows the spec."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.layers.content import read_content
from layerscope.core.layers.index import load_image
from layerscope.core.merge import merge
from layerscope.core.resolve import hardlink_target
from tests.conftest import need_tool
from tests.imagebuilder import (
    COMPRESSIONS,
    LAYOUTS,
    Device,
    Dir,
    Fifo,
    File,
    Hardlink,
    Image,
    Layer,
    Opaque,
    RawMember,
    Symlink,
    Whiteout,
    build,
)

LONG = "opt/" + "d" * 90 + "/" + "f" * 60 + ".txt"
UNI = "opt/ünïcødé-文件-😀.txt"

SAMPLE = Image(
    layers=[
        Layer(
            [
                Dir("etc"),
                File("etc/passwd", b"root:x:0:0\n"),
                Dir("opt"),
                File(LONG, b"long\n"),
                File(UNI, b"uni\n", xattrs={"user.note": b"hi"}),
                Dir("var"),
                Dir("var/log"),
                File("var/log/a.log", b"a" * 1000),
                Device("dev-null", "char", 1, 3),
                Fifo("opt/fifo"),
            ],
            created_by="/bin/sh -c #(nop) ADD rootfs /",
        ),
        Layer(
            [
                Dir("opt"),
                File("opt/app.bin", b"\x7fELF" + bytes(200), mode=0o4755),
                Symlink("opt/link", "app.bin"),
                Hardlink("opt/hard", "etc/passwd"),
            ],
            created_by="/bin/sh -c install app",
        ),
        Layer([Whiteout("var/log"), Opaque("opt"), File("opt/only", b"o")], created_by="/bin/sh -c cleanup"),
    ],
    tags=["example.com/test/matrix:1"],
    empty_steps=[(1, "/bin/sh -c #(nop)  ENV A=1")],
)


MATRIX = [
    (lay, comp, out)
    for lay in LAYOUTS
    for comp in COMPRESSIONS
    for out in ("none", "gzip", "zstd")
    if not (lay == "oci-dir" and out != "none")
]  # a folder has no outer compression


@pytest.mark.parametrize(("layout", "compression", "outer"), MATRIX)
def test_every_layout_and_compression_opens(layout, compression, outer, tmp_path):
    path = build(SAMPLE, tmp_path / "img.tar", layout, compression, outer)
    with open_archive(path) as a:
        assert a.outer_compression == (None if outer == "none" else outer)
        (im,) = a.images
        assert [d.compression for d in im.layers] == [compression] * 3
        assert [h.created_by for h in im.history if h.empty_layer] == ["/bin/sh -c #(nop)  ENV A=1"]
        assert [d.history.created_by for d in im.layers if d.history] == [
            "/bin/sh -c #(nop) ADD rootfs /",
            "/bin/sh -c install app",
            "/bin/sh -c cleanup",
        ]
        idx = load_image(a, im)
        assert [li.members for li in idx] == [10, 4, 3]
        tree = merge(idx, archive=a)
        assert set(tree.nodes) == {"etc", "etc/passwd", "opt", "opt/only", "var", "dev-null"}
        first = {e.path: e for e in idx[0].entries}
        assert first[LONG].size == 5 and first[UNI].xattrs == {"user.note": b"hi"}
        assert first["dev-null"].device[0] == 1
        assert (
            read_content(a, idx[1].desc, {e.path: e for e in idx[1].entries}["opt/app.bin"])[:4] == b"\x7fELF"
        )
        assert not [w for li in idx for w in li.warnings]


# ---- merge rules, table-driven ---------------------------------------------------------------------
# Each case: layers, then the merged tree as {path: kind or file content or "-> target"}.
D = "dir"
CASES = {
    "whiteout-file": (
        [[Dir("a"), File("a/x", b"x"), File("a/y", b"y")], [Whiteout("a/x")]],
        {"a": D, "a/y": b"y"},
    ),
    "whiteout-dir": (
        [[Dir("d"), File("d/x", b"x"), Dir("d/sub"), File("d/sub/y", b"y")], [Whiteout("d")]],
        {},
    ),
    "opaque-dir": (
        [[Dir("d"), File("d/x", b"x"), File("d/y", b"y")], [Dir("d"), Opaque("d"), File("d/z", b"z")]],
        {"d": D, "d/z": b"z"},
    ),
    "opaque-after-own-entries": (
        [[Dir("d"), File("d/x", b"x")], [Dir("d"), File("d/z", b"z"), Opaque("d")]],
        {"d": D, "d/z": b"z"},
    ),
    "whiteout-same-layer-does-not-apply": (
        [[Dir("a")], [File("a/x", b"x"), Whiteout("a/x")]],
        {"a": D, "a/x": b"x"},
    ),
    "whiteout-of-missing-path": ([[File("f", b"f")], [Whiteout("nothing")]], {"f": b"f"}),
    "dir-over-dir-keeps-children": (
        [[Dir("d", mode=0o755), File("d/x", b"x")], [Dir("d", mode=0o700)]],
        {"d": D, "d/x": b"x"},
    ),
    "file-over-dir-drops-subtree": (
        [[Dir("d"), File("d/x", b"x"), Dir("d/s"), File("d/s/y", b"y")], [File("d", b"now a file")]],
        {"d": b"now a file"},
    ),
    "dir-over-file": ([[File("f", b"f")], [Dir("f"), File("f/y", b"y")]], {"f": D, "f/y": b"y"}),
    "symlink-over-file": (
        [[File("f", b"f"), File("g", b"g")], [Symlink("f", "g")]],
        {"f": "-> g", "g": b"g"},
    ),
    "duplicate-last-wins": ([[File("f", b"first"), File("f", b"second")]], {"f": b"second"}),
    "hardlink-into-earlier-layer": (
        [[Dir("a"), File("a/x", b"data")], [Hardlink("a/h", "a/x")]],
        {"a": D, "a/x": b"data", "a/h": b"data"},
    ),
    "implied-parents": ([[File("a/b/c", b"c")]], {"a": D, "a/b": D, "a/b/c": b"c"}),
    "dot-slash-prefix": (
        [[Dir("d"), File("d/x", b"x")], [Whiteout("d/x"), File("d/y", b"y")]],
        {"d": D, "d/y": b"y"},
    ),
    "combined": (
        [
            [Dir("a"), File("a/1", b"1"), Dir("a/s"), File("a/s/2", b"2"), Dir("b"), File("b/3", b"3")],
            [Opaque("a"), File("a/4", b"4"), Whiteout("b/3"), File("b/5", b"5"), Symlink("c", "a/4")],
            [Whiteout("a"), Dir("a"), File("a/6", b"6"), Hardlink("b/h", "b/5")],
        ],
        {"a": D, "a/6": b"6", "b": D, "b/5": b"5", "b/h": b"5", "c": "-> a/4"},
    ),
}
NOT_FOR_UMOCI = {"whiteout-same-layer-does-not-apply", "opaque-after-own-entries", "duplicate-last-wins"}


def _image(case: str) -> Image:
    layers, _tree = CASES[case]
    prefix = "./" if case == "dot-slash-prefix" else ""
    return Image([Layer(list(es), created_by=f"step {i}", name_prefix=prefix) for i, es in enumerate(layers)])


def _our_tree(path: Path) -> dict[str, object]:
    with open_archive(path) as a:
        idx = load_image(a, a.images[0])
        tree = merge(idx, archive=a)
        out: dict[str, object] = {}
        for p, n in tree.nodes.items():
            e = n.entry
            if n.is_dir:
                out[p] = D
            elif e.type == "symlink":
                out[p] = f"-> {e.link}"
            else:
                t = tree.nodes[hardlink_target(tree, p)]
                out[p] = read_content(a, idx[t.layer].desc, t.entry)
        return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_merge_rule(case, tmp_path):
    path = build(_image(case), tmp_path / "img.tar", "oci-archive", "gzip")
    assert _our_tree(path) == CASES[case][1]


def test_dir_over_dir_updates_attributes(tmp_path):
    path = build(_image("dir-over-dir-keeps-children"), tmp_path / "img.tar", "docker-legacy")
    with open_archive(path) as a:
        tree = merge(load_image(a, a.images[0]), archive=a)
    assert tree.nodes["d"].entry.mode == 0o700 and tree.nodes["d"].layer == 1


def test_duplicate_path_warns(tmp_path):
    path = build(_image("duplicate-last-wins"), tmp_path / "img.tar", "docker-legacy")
    with open_archive(path) as a:
        tree = merge(load_image(a, a.images[0]), archive=a)
    assert any("more than once" in w for w in tree.warnings)


def test_unsafe_names_are_normalised_or_rejected(tmp_path):
    layer = Layer(
        [
            RawMember(name="/abs.txt", data=b"a"),
            RawMember(name="./dot/./x", data=b"x"),
            RawMember(name="a/../b.txt", data=b"b"),
            RawMember(name="../escape.txt", data=b"e"),
            RawMember(name="a/../../escape2.txt", data=b"e"),
            RawMember(name="hl", type=b"1", linkname="../../etc/passwd"),
        ]
    )
    path = build(Image([layer]), tmp_path / "img.tar", "docker-legacy")
    with open_archive(path) as a:
        (idx,) = load_image(a, a.images[0])
    assert sorted(e.path for e in idx.entries) == ["abs.txt", "b.txt", "dot/x"]
    assert sum("outside" in w for w in idx.warnings) == 3


@pytest.mark.realtool
@pytest.mark.parametrize("case", sorted(set(CASES) - NOT_FOR_UMOCI))
def test_merge_rule_matches_umoci_unpack(case, tmp_path):
    skopeo, umoci = need_tool("skopeo"), need_tool("umoci")
    path = build(_image(case), tmp_path / "img.tar", "oci-archive", "gzip")
    subprocess.run(
        [skopeo, "copy", "-q", f"oci-archive:{path}", f"oci:{tmp_path / 'layout'}:x"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [umoci, "unpack", "--image", f"{tmp_path / 'layout'}:x", str(tmp_path / "bundle")],
        check=True,
        capture_output=True,
    )
    root = tmp_path / "bundle" / "rootfs"
    theirs: dict[str, object] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            theirs[rel] = f"-> {p.readlink()}"
        elif p.is_dir():
            theirs[rel] = D
        else:
            theirs[rel] = p.read_bytes()
    assert _our_tree(path) == theirs
