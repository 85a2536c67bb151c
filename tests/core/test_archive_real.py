"""Every real archive opens, with the images, tags, layers and compression EXPECTED.md lists."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.layers.index import load_image
from layerscope.core.layers.verify import verify_image
from tests.conftest import REAL, need_shared, real_archives
from tests.expected import parse_expected

ARCHIVES = [p.name for p in real_archives()] or ["(corpus absent)"]


@pytest.fixture(scope="module")
def expected():
    need_shared()
    return parse_expected(REAL / "EXPECTED.md")


@pytest.mark.parametrize("name", ARCHIVES)
def test_real_archive_matches_expected(name, expected):
    exp = expected[name]
    with open_archive(REAL / name) as a:
        assert len(a.images) == len(exp)
        for im, e in zip(a.images, exp, strict=True):
            # tags: EXPECTED lists the archive's own spelling; we fold docker.io/ duplicates
            assert {t.removeprefix("docker.io/") for t in im.tags} == {
                t.removeprefix("docker.io/") for t in e.tags
            }
            idx = load_image(a, im)
            assert len(idx) == len(e.layers)
            for li, el in zip(idx, e.layers, strict=True):
                assert li.desc.compression == el.compression
                assert li.uncompressed_size == el.tar_bytes
                assert li.members == el.entries
                text = li.desc.history.text if li.desc.history else ""
                assert text.startswith(
                    el.created_by.removesuffix("...").replace("(comment) ", "(").strip()[:60]
                )
            assert verify_image(a, im) == []


def test_umoci_insert_reads_layer_without_end_marker(corpus):
    with open_archive(REAL / "umoci-insert.docker.tar") as a:
        idx = load_image(a, a.images[0])
    assert [e.path for e in idx[1].entries if e.type != "dir"] == ["opt/app/data", "opt/app/data/z.txt"]
    assert idx[1].entries[0].type == "opaque"
    assert any("end-of-archive" in w for w in idx[1].warnings)


def test_docker25_tags_merge_index_and_manifest_json(corpus):
    with open_archive(REAL / "docker26-multi.save.tar") as a:
        assert a.format == "docker-oci"
        assert [im.tags for im in a.images] == [("corpus/docker26-edge:1",), ("corpus/bbase:1",)]
        # a repeated layer is stored once and both images point at it
        assert a.images[0].layers[0].blob_name == a.images[1].layers[0].blob_name


def test_select_image_by_tag_and_index(corpus):
    with open_archive(REAL / "podman-multi.docker.tar") as a:
        assert a.select("localhost/corpus/bbase:1") is a.images[2]
        assert a.select("corpus/bbase:1") is a.images[2]
        assert a.select("1") is a.images[1]


def test_inspect_json_cli(corpus):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "layerscope.core.cli",
            "inspect",
            "--json",
            str(REAL / "umoci-edge.zstd.oci.tar"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["format"] == "oci-archive"
    (im,) = doc["images"]
    assert im["tags"] == ["corpus/umoci-edge:1"]
    assert [ly["compression"] for ly in im["layers"]] == ["zstd"] * 8
    keys = {
        "index",
        "digest",
        "diff_id",
        "media_type",
        "compression",
        "size",
        "uncompressed_size",
        "entries",
        "created_by",
        "created",
        "empty",
    }
    assert all(set(ly) == keys for ly in im["layers"])
    assert [h["created_by"] for h in im["history"] if h["empty"]] == ['CMD ["/bin/hello"]']
    assert doc["warnings"] == []


def test_inspect_human_cli(corpus):
    r = subprocess.run(
        [sys.executable, "-m", "layerscope.core.cli", "inspect", str(REAL / "docker20-multi.save.tar")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "Image #1: corpus/bbase:1" in r.stdout
    assert "RUN rm /opt/app/data/a.txt" in r.stdout
