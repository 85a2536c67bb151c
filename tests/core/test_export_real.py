"""Exports of real images: the merged filesystem equals `umoci unpack`'s tree, a layer as stored is
byte-identical to its decompressed blob, a layer's files are its entries minus whiteouts."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import tarfile

import pytest

from layerscope.core.archive.compression import decompressed_reader
from layerscope.core.archive.open import open_archive
from layerscope.core.errors import ExportError
from layerscope.core.export.items import layer_items, merged_items
from layerscope.core.export.stored import export_as_stored
from layerscope.core.export.write import export
from layerscope.core.layers.index import load_image
from layerscope.core.merge import merge
from tests.conftest import REAL, need_shared
from tests.expected import read_tree

TREES = sorted((REAL / "trees").glob("*.tsv")) if (REAL / "trees").is_dir() else []


def _walk(root):
    rows = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            m = st.st_mode
            kind = (
                "d"
                if stat.S_ISDIR(m)
                else "l"
                if stat.S_ISLNK(m)
                else "f"
                if stat.S_ISREG(m)
                else ("p" if stat.S_ISFIFO(m) else "?")
            )
            extra = ""
            if kind == "l":
                extra = os.readlink(p)
            elif kind == "f":
                with open(p, "rb") as f:
                    extra = hashlib.sha256(f.read()).hexdigest()
            rows[rel] = (
                kind,
                stat.S_IMODE(m),
                st.st_size if kind == "f" else None,
                extra,
                f"{st.st_uid}:{st.st_gid}",
            )
    return rows


@pytest.mark.parametrize("tsv", [t.name for t in TREES] or ["(corpus absent)"])
def test_merged_export_to_folder_equals_umoci_unpack(tsv, tmp_path):
    need_shared()
    name, n = tsv.removesuffix(".tsv").rsplit("@", 1)
    oracle = read_tree(REAL / "trees" / tsv)
    with open_archive(REAL / name) as a:
        layers = load_image(a, a.images[int(n)])
        tree = merge(layers, archive=a)
        res = export(a, tree, merged_items(tree), tmp_path / "out", keep_special_bits=True)
    got = _walk(tmp_path / "out")
    assert sorted(got) == sorted(oracle), res.skipped
    for p, row in oracle.items():
        kind, mode, size, extra, ug = got[p]
        assert kind == row.type, p
        assert mode == row.mode, p
        if os.geteuid() == 0:
            assert ug == f"{row.uid}:{row.gid}", p
        if kind == "f":
            assert (size, extra) == (row.size, row.digest_or_target), p
        if kind == "l":
            assert extra == row.digest_or_target, p


@pytest.mark.parametrize("name", ["umoci-edge.oci.tar", "umoci-edge.zstd.oci.tar", "docker26-edge.save.tar"])
def test_layer_as_stored_is_the_decompressed_blob(name, tmp_path):
    need_shared()
    with open_archive(REAL / name) as a:
        layers = load_image(a, a.images[0])
        for li in layers:
            out = tmp_path / f"l{li.index}.tar"
            export_as_stored(a, li, out)
            blob = a.container.blob(li.desc.blob_name)
            expect = decompressed_reader(blob.open(), li.desc.compression)(-1)
            assert out.read_bytes() == expect
            raw = tmp_path / f"l{li.index}.blob"
            export_as_stored(a, li, raw, decompress=False)
            assert raw.read_bytes() == bytes(blob.buf)


@pytest.mark.parametrize("name", ["docker20-edge.save.tar", "umoci-edge.oci.tar", "buildah-run.docker.tar"])
def test_layer_files_only_are_its_entries_minus_whiteouts(name, tmp_path):
    need_shared()
    with open_archive(REAL / name) as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        for li in layers:
            items, deletes = layer_items(tree, li.index)
            out = tmp_path / f"layer{li.index}.tar"
            export(a, tree, items, out, deletes=deletes)
            with tarfile.open(out) as t:
                names = {m.name.rstrip("/") for m in t.getmembers()} - {"WHITEOUTS.txt"}
                listed = t.extractfile("WHITEOUTS.txt").read().decode().splitlines()
            expect = {e.path for e in li.entries if e.type not in ("whiteout", "opaque")}
            assert names == expect
            assert len(listed) == sum(e.type in ("whiteout", "opaque") for e in li.entries)


def test_existing_destination_is_refused_without_force(tmp_path):
    need_shared()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with open_archive(REAL / "umoci-edge.oci.tar") as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
        with pytest.raises(ExportError, match="not empty"):
            export(a, tree, merged_items(tree), dest)
        assert (dest / "keep.txt").read_text() == "mine"
        export(a, tree, merged_items(tree, "/opt/app"), dest, force=True)
    assert sorted(os.listdir(dest)) == ["app"]
    assert not [p for p in os.listdir(tmp_path) if "layerscope" in p]  # no temporary left behind


def test_export_folder_of_the_merged_tree_as_tar_gz(tmp_path):
    need_shared()
    out = tmp_path / "app.tar.gz"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "layerscope.core.cli",
            "export",
            str(REAL / "docker20-edge.save.tar"),
            "--merged",
            "--path",
            "/opt/app",
            "--to",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    with tarfile.open(out) as t:
        names = set(t.getnames())
        hl = [m for m in t.getmembers() if m.islnk()]
        assert "app/config.ini" in names and "app/cache/c2" in names and "app/data/a.txt" not in names
        assert len(hl) == 1 and hl[0].linkname in ("app/hard-src", "app/hard-link")


def test_cat_cli(corpus):
    exe = [sys.executable, "-m", "layerscope.core.cli", "cat", str(REAL / "umoci-edge.oci.tar")]
    r = subprocess.run([*exe, "/opt/app/config.ini"], capture_output=True)
    assert r.returncode == 0 and r.stdout == b"v=2\n"
    r = subprocess.run([*exe, "/opt/app/config.ini", "--layer", "0"], capture_output=True)
    assert r.stdout == b"v=1\n"
    r = subprocess.run([*exe, "/etc/app.ini"], capture_output=True)  # symlink -> /srv/www/index.html, deleted
    assert r.returncode == 2 and b"no such file" in r.stderr
    r = subprocess.run([*exe, "/opt"], capture_output=True)
    assert r.returncode == 2 and b"is a directory" in r.stderr
