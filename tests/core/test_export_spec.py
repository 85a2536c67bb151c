"""The one export decision (ExportSpec -> run) and the one plan both sinks write: which layers are
merged, which items are chosen, the name of the list of deletions, the modes of what is created."""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.errors import LayerScopeError
from layerscope.core.export.items import layer_items
from layerscope.core.export.plan import plan_export
from layerscope.core.export.spec import ExportSpec, LayerStack, What, run
from layerscope.core.layers.index import load_image
from layerscope.core.merge import merge
from tests.imagebuilder import File, Hardlink, Image, Layer, Symlink, Whiteout, build

# layer 0: a, gone, x (0o750); layer 1: b, deletes gone, hardlink h to x; layer 2: c, replaces a
STACK = Image(
    [
        Layer([File("a", b"a0"), File("gone", b"g"), File("x", b"data", mode=0o750)]),
        Layer([File("b", b"b1"), Whiteout("gone"), Hardlink("h", "x")]),
        Layer([File("c", b"c2"), File("a", b"a2")]),
    ]
)


@pytest.fixture
def stack(tmp_path):
    with open_archive(build(STACK, tmp_path / "img.tar", "docker-legacy")) as a:
        yield LayerStack(a, load_image(a, a.images[0]))


def _folder(root: Path) -> dict[str, bytes | str]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize(
    ("what", "layer", "path", "want"),
    [
        (What.MERGED, None, "", {"a": b"a2", "b": b"b1", "c": b"c2", "h": b"data", "x": b"data"}),
        (What.MERGED, 0, "", {"a": b"a0", "gone": b"g", "x": b"data"}),
        (What.MERGED, 1, "/b", {"b": b"b1"}),
        (What.LAYER, 1, "", {"b": b"b1", "h": b"data", "WHITEOUTS.txt": b"/gone\n"}),
        (What.LAYER, 2, "", {"a": b"a2", "c": b"c2", "WHITEOUTS.txt": b""}),
        (What.LAYER, None, "/c", {"c": b"c2", "WHITEOUTS.txt": b""}),
    ],
)
def test_the_spec_decides_layers_items_and_deletions(stack, tmp_path, what, layer, path, want):
    res = run(ExportSpec(what, tmp_path / "out", layer=layer, path=path), stack)
    assert _folder(tmp_path / "out") == want
    assert res.files + res.links == len(want) - ("WHITEOUTS.txt" in want)


def test_the_spec_for_a_layer_as_stored(stack, tmp_path):
    res = run(ExportSpec(What.STORED, tmp_path / "l1.tar", layer=1), stack)
    with tarfile.open(tmp_path / "l1.tar") as t:
        assert t.getnames() == ["b", ".wh.gone", "h"]
    assert res.files == 1 and res.bytes == (tmp_path / "l1.tar").stat().st_size


@pytest.mark.parametrize("layer", [3, -1])
def test_a_layer_out_of_range_is_refused(stack, tmp_path, layer):
    with pytest.raises(LayerScopeError, match=r"out of range \(0\.\.2\)"):
        run(ExportSpec(What.LAYER, tmp_path / "out", layer=layer), stack)
    assert not (tmp_path / "out").exists()


def test_the_cli_goes_through_the_same_decision(stack, tmp_path, monkeypatch, capsys):
    """``layerscope export`` builds a spec and calls ``run``: the items and deletions come from it."""
    from layerscope.core import cli
    from layerscope.core.export import spec

    seen: list[tuple[list[str], list[str] | None]] = []
    real = spec.export

    def recording(archive, tree, items, dest, **kw):  # type: ignore[no-untyped-def]
        seen.append(([it.path for it in items], kw["deletes"]))
        return real(archive, tree, items, dest, **kw)

    monkeypatch.setattr(spec, "export", recording)
    src = str(stack.archive.path)
    assert cli.main(["export", src, "--layer", "1", "--path", "/b", "--to", str(tmp_path / "o")]) == 0
    assert cli.main(["export", src, "--merged", "--upto", "0", "--to", str(tmp_path / "m")]) == 0
    assert seen == [(["b"], []), (["a", "gone", "x"], None)]
    assert "wrote 1 file, " in capsys.readouterr().out  # not "1 files"


@pytest.mark.parametrize("dest", ["out", "out.tar", "out.tar.gz"])
def test_an_image_with_its_own_whiteouts_txt_gets_the_list_under_another_name(tmp_path, dest):
    """Both sinks name the list the same way; a tar export used to hold two members WHITEOUTS.txt."""
    img = Image([Layer([File("gone", b"x")]), Layer([File("WHITEOUTS.txt", b"mine\n"), Whiteout("gone")])])
    with open_archive(build(img, tmp_path / "img.tar", "docker-legacy")) as a:
        res = run(ExportSpec(What.LAYER, tmp_path / dest, layer=1), LayerStack(a, load_image(a, a.images[0])))
    if dest == "out":
        got = _folder(tmp_path / "out")
    else:
        with tarfile.open(tmp_path / dest) as t:
            names = t.getnames()
            assert len(names) == len(set(names))
            got = {m.name: t.extractfile(m).read() for m in t.getmembers()}  # type: ignore[union-attr]
    assert got == {"WHITEOUTS.txt": b"mine\n", "WHITEOUTS-1.txt": b"/gone\n"}
    assert res.warnings == [
        "the image has its own /WHITEOUTS.txt; the list of deletions is in /WHITEOUTS-1.txt"
    ]


def test_a_folder_below_the_name_takes_it_too(tmp_path):
    """A layer holding WHITEOUTS.txt/inner (no folder entry) takes the name as well."""
    img = Image([Layer([File("WHITEOUTS.txt/inner", b"i"), Whiteout("gone")])])
    with open_archive(build(img, tmp_path / "img.tar", "docker-legacy")) as a:
        tree = merge(load_image(a, a.images[0]), archive=a)
        items, deletes = layer_items(tree, 0)
        plan = plan_export(tree, items, deletes)
    assert plan.deletions is not None and plan.deletions.name == "WHITEOUTS-1.txt"


@pytest.mark.parametrize("dest", ["out", "out.tar", "out.tar.gz", "stored.tar"])
def test_created_output_gets_the_umask_mode(stack, tmp_path, dest):
    """Not the 0600 of a private temporary file (a .tar.gz used to be created 0600)."""
    old = os.umask(0o027)
    try:
        what = What.STORED if dest == "stored.tar" else What.MERGED
        run(ExportSpec(what, tmp_path / dest, layer=1), stack)
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / dest).stat().st_mode)
    assert mode == (0o750 if dest == "out" else 0o640)


def test_a_hardlink_written_as_a_file_gets_its_targets_attributes(stack, tmp_path):
    """A layer's hardlink to a lower file becomes a copy of that file with its mode and time, in a
    folder as in a tar (the folder copy used to stay 0600 with the time of the export)."""
    run(ExportSpec(What.LAYER, tmp_path / "out", layer=1), stack)
    run(ExportSpec(What.LAYER, tmp_path / "out.tar", layer=1), stack)
    st = (tmp_path / "out" / "h").stat()
    x = stack.layers[0].entries[2]
    assert x.path == "x" and stat.S_IMODE(st.st_mode) == 0o750 and st.st_mtime == x.mtime
    with tarfile.open(tmp_path / "out.tar") as t:
        h = t.getmember("h")
        assert h.isreg() and h.mode == 0o750 and h.mtime == x.mtime


def test_hardlinks_in_a_circle_are_skipped(tmp_path):
    img = Image([Layer([Hardlink("p", "q"), Hardlink("q", "p"), File("ok", b"ok"), Symlink("s", "ok")])])
    with open_archive(build(img, tmp_path / "img.tar", "docker-legacy")) as a:
        res = run(ExportSpec(What.MERGED, tmp_path / "out"), LayerStack(a, load_image(a, a.images[0])))
    assert sorted(res.skipped) == [
        "/p: hardlink to /q, which is not a file",
        "/q: hardlink to /p, which is not a file",
    ]
    assert (tmp_path / "out" / "ok").read_bytes() == b"ok" and os.readlink(tmp_path / "out" / "s") == "ok"
