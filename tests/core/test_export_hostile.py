"""Hostile archives made by the test-image builder: nothing is written outside the destination, each
problem gives a clear error or a listed skip, memory stays bounded, and a failed or cancelled export
leaves nothing behind."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.errors import Cancelled, CorruptArchive, ExportError, LayerScopeError
from layerscope.core.export.destination import remove_tree
from layerscope.core.export.items import layer_items, merged_items
from layerscope.core.export.write import export
from layerscope.core.layers.index import load_image
from layerscope.core.merge import merge
from tests.imagebuilder import Dir, File, Hardlink, Image, Layer, RawMember, Symlink, build


def _open(path: Path):
    a = open_archive(path)
    layers = load_image(a, a.images[0])
    return a, layers, merge(layers, archive=a)


def _everything_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture
def sandbox(tmp_path):
    """A destination inside a folder we can watch: nothing may appear next to it."""
    box = tmp_path / "box"
    box.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("real\n")
    return box, outside


def _assert_nothing_outside(tmp_path: Path, box: Path, outside: Path) -> None:
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["box", "outside", *[p for p in os.listdir(tmp_path) if p.endswith(".tar")]]
    )
    assert (outside / "passwd").read_text() == "real\n"
    assert sorted(os.listdir(outside)) == ["passwd"]


def test_traversal_and_absolute_names_stay_inside(tmp_path, sandbox):
    box, outside = sandbox
    evil = Layer(
        [
            RawMember(name="../../outside/evil.txt", data=b"x"),
            RawMember(name=f"{outside}/abs.txt", data=b"x"),  # absolute: lands at <dest>/<that path>
            RawMember(name="a/../../outside/evil2.txt", data=b"x"),
            File("ok.txt", b"ok"),
        ]
    )
    a, layers, tree = _open(build(Image([evil]), tmp_path / "img.tar", "docker-legacy"))
    assert sum("outside the image root" in w for w in layers[0].warnings) == 2
    res = export(a, tree, merged_items(tree), box / "out")
    _assert_nothing_outside(tmp_path, box, outside)
    written = _everything_under(box / "out")
    assert "ok.txt" in written and str(outside).lstrip("/") + "/abs.txt" in written
    assert res.files == 2


@pytest.mark.parametrize("how", ["merged", "layer", "tar"])
def test_symlink_then_write_through_it(tmp_path, sandbox, how):
    box, outside = sandbox
    layers = [
        Layer([Symlink("escape", str(outside)), Symlink("rel", "../../outside")]),
        Layer([File("escape/passwd", b"pwned\n"), File("rel/passwd", b"pwned\n")]),
    ]
    # and in a single layer: the symlink first, then a file "through" it
    one = Layer([Symlink("s", str(outside)), File("s/passwd", b"pwned\n"), File("s/new.txt", b"new")])
    a, _layers, tree = _open(build(Image([*layers, one]), tmp_path / "img.tar", "docker-legacy"))
    if how == "merged":
        res = export(a, tree, merged_items(tree), box / "out")
    elif how == "layer":
        items, deletes = layer_items(tree, 2)
        res = export(a, tree, items, box / "out", deletes=deletes)
    else:
        res = export(a, tree, merged_items(tree), box / "out.tar")
    _assert_nothing_outside(tmp_path, box, outside)
    if how == "layer":
        # the symlink and the files of one layer collide: the files win, the symlink is skipped
        assert any("symlink over an existing path" in s for s in res.skipped)
        assert (box / "out" / "s").is_dir() and not (box / "out" / "s").is_symlink()
    if how == "merged":
        assert any("puts files under it" in w for w in tree.warnings)


def test_hardlink_to_etc_passwd(tmp_path, sandbox):
    box, outside = sandbox
    layer = Layer(
        [
            RawMember(name="hl-abs", type=tarfile.LNKTYPE, linkname=str(outside / "passwd")),
            RawMember(name="hl-rel", type=tarfile.LNKTYPE, linkname="../../../../etc/passwd"),
            Hardlink("hl-missing", "etc/passwd"),
            Dir("etc"),
        ]
    )
    a, _layers, tree = _open(build(Image([layer]), tmp_path / "img.tar", "docker-legacy"))
    res = export(a, tree, merged_items(tree), box / "out")
    _assert_nothing_outside(tmp_path, box, outside)
    assert not (box / "out" / "hl-rel").exists()
    assert len(res.skipped) == 2  # both in-image targets are missing: nothing to link or copy
    for name in ("hl-abs", "hl-missing"):
        p = box / "out" / name
        assert not p.exists() or os.stat(p).st_ino != os.stat(outside / "passwd").st_ino


def test_100k_empty_files_memory_bounded(tmp_path):
    files = [Dir("many")] + [File(f"many/{i:06d}") for i in range(100_000)]
    path = build(Image([Layer(files)]), tmp_path / "img.tar", "docker-legacy")
    code = (
        "import sys, tracemalloc\n"
        "tracemalloc.start()\n"
        "from pathlib import Path\n"
        "from layerscope.core.archive.open import open_archive\n"
        "from layerscope.core.layers.index import load_image\n"
        "from layerscope.core.merge import merge\n"
        "from layerscope.core.export.items import merged_items\n"
        "from layerscope.core.export.write import export\n"
        "a = open_archive(sys.argv[1]); ls = load_image(a, a.images[0]); t = merge(ls, archive=a)\n"
        "r = export(a, t, merged_items(t), Path(sys.argv[2]))\n"
        "print(r.files, tracemalloc.get_traced_memory()[1] // (1 << 20))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(path), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    files, peak_mb = map(int, r.stdout.split())
    assert files == 100_000
    # the heap's peak (73 MB here): the process's peak RSS also counts the mapped archive's pages,
    # which vary with the page cache (243-414 MB for the same run), not with what LayerScope keeps
    assert peak_mb < 200, peak_mb


def test_4096_deep_path(tmp_path):
    deep = "/".join(["d"] * 4096) + "/leaf.txt"
    layer = Layer([File(deep, b"deep"), File("shallow.txt", b"s")])
    a, _layers, tree = _open(build(Image([layer]), tmp_path / "img.tar", "docker-legacy"))
    assert deep in tree.nodes
    res = export(a, tree, merged_items(tree), tmp_path / "out")
    assert (tmp_path / "out" / "shallow.txt").read_bytes() == b"s"
    assert any("path too long" in s for s in res.skipped)
    remove_tree(tmp_path / "out")  # ~2000 levels deep: pytest's own cleanup would recurse too far
    res = export(a, tree, merged_items(tree), tmp_path / "out.tar")  # a tar has no such limit
    with tarfile.open(tmp_path / "out.tar") as t:
        assert t.extractfile(deep).read() == b"deep"


def _claiming_layer(claim: int) -> bytes:
    ti = tarfile.TarInfo("huge.bin")
    ti.size = claim
    return ti.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 512


def test_header_claiming_1tb_in_a_1kb_archive(tmp_path):
    # an outer archive whose member claims 1 TB
    (tmp_path / "outer.tar").write_bytes(_claiming_layer(10**12))
    with pytest.raises(LayerScopeError, match="claims 1000000000000 bytes"):
        open_archive(tmp_path / "outer.tar")
    # a layer whose member claims 1 TB: build a docker archive around it by hand
    good = build(Image([Layer([File("x", b"x")])]), tmp_path / "img.tar", "docker-legacy")
    bad = tmp_path / "bad.tar"
    with tarfile.open(good) as src, tarfile.open(bad, "w") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read() if m.isfile() else None
            if m.name.endswith("layer.tar"):
                data = _claiming_layer(10**12)
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
    with open_archive(bad) as a, pytest.raises(CorruptArchive, match="claims 1000000000000 bytes"):
        load_image(a, a.images[0])
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "layerscope.core.cli",
            "export",
            str(bad),
            "--merged",
            "--to",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "claims" in r.stderr
    assert not (tmp_path / "o").exists()


def test_disk_full_removes_partial_output(tmp_path, monkeypatch):
    layer = Layer([Dir("d")] + [File(f"d/f{i}", b"x" * 5000) for i in range(20)])
    a, _l, tree = _open(build(Image([layer]), tmp_path / "img.tar", "docker-legacy"))
    real_fdopen = os.fdopen
    written = {"n": 0}

    class Full(io.RawIOBase):
        def __init__(self, f):
            self.f = f

        def write(self, b):
            written["n"] += 1
            if written["n"] > 5:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(b)

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    with pytest.raises(ExportError, match="disk full"):
        export(a, tree, merged_items(tree), tmp_path / "out")
    assert sorted(os.listdir(tmp_path)) == ["img.tar"]


def test_cancel_leaves_nothing(tmp_path):
    layer = Layer([Dir("d")] + [File(f"d/f{i}", b"x" * 100) for i in range(50)])
    a, _l, tree = _open(build(Image([layer]), tmp_path / "img.tar", "docker-legacy"))
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 10

    seen = []
    with pytest.raises(Cancelled):
        export(
            a,
            tree,
            merged_items(tree),
            tmp_path / "out",
            progress=lambda d, t: seen.append((d, t)),
            cancelled=cancelled,
        )
    assert sorted(os.listdir(tmp_path)) == ["img.tar"]
    assert seen and seen[-1][1] == 50 * 100
