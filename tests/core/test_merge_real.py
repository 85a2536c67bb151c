"""The merged filesystem equals what `umoci unpack` produced (shared/corpus/real/trees/*.tsv), and the
dive-compatible figures equal dive 0.13.1's own output, float for float."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.dive_figures import dive_figures
from layerscope.core.layers.content import iter_contents, read_content
from layerscope.core.layers.index import load_image
from layerscope.core.merge import ImageTree, merge
from layerscope.core.resolve import hardlink_target
from layerscope.core.waste import layerscope_figures
from tests.conftest import PEER, REAL, need_shared, need_tool
from tests.expected import TreeRow, read_tree

TREES = sorted((REAL / "trees").glob("*.tsv")) if (REAL / "trees").is_dir() else []
_KIND = {"file": "f", "dir": "d", "symlink": "l", "fifo": "p", "char": "c", "block": "b"}


def merged_rows(archive, tree: ImageTree, layers) -> dict[str, tuple]:
    """Our merged tree in the oracle's terms (hardlinks resolved to their target file); file contents
    are read in one pass per layer (iter_contents), as an export reads them."""
    by_index = {li.index: li for li in layers}
    rows = {}
    wanted: dict[int, list] = {}  # layer -> the file entries whose digests the rows need
    for p, n in tree.nodes.items():
        e = n.entry
        if e is None:
            rows[p] = ("d", None, None, None, "")
            continue
        target = tree.nodes.get(hardlink_target(tree, p)) if e.type == "hardlink" else n
        te = target.entry if target is not None else None
        kind = _KIND.get(te.type if te else "dir", "?")
        extra: object = ""
        size = None
        if kind == "l":
            extra = te.link
        elif kind == "f":
            size = te.size
            wanted.setdefault(target.layer, []).append(te)
            extra = (target.layer, te.offset)  # the member's digest, filled in below
        xattrs = ",".join(sorted(k for k in te.xattrs if not k.startswith("security.")))
        rows[p] = (
            kind,
            e.mode if e.type != "hardlink" else te.mode,
            f"{te.uid}:{te.gid}",
            size,
            extra,
            xattrs,
        )
    digest: dict[tuple[int, int], str] = {}  # (layer, member offset) -> SHA-256 of the file's bytes
    for layer, entries in wanted.items():
        desc = by_index[layer].desc
        for e, chunks in iter_contents(archive, desc, [e for e in entries if e.sparse is None]):
            h = hashlib.sha256()
            for c in chunks:
                h.update(c)
            digest[layer, e.offset] = h.hexdigest()
        for e in entries:
            if e.sparse is not None:  # holes filled: read_content's
                digest[layer, e.offset] = hashlib.sha256(read_content(archive, desc, e)).hexdigest()
    return {p: (*r[:4], digest[r[4]], *r[5:]) if r[0] == "f" else r for p, r in rows.items()}


@pytest.mark.parametrize("tsv", [t.name for t in TREES] or ["(corpus absent)"])
def test_merged_tree_equals_umoci_unpack(tsv):
    need_shared()
    name, n = tsv.removesuffix(".tsv").rsplit("@", 1)
    assert_merged_tree_equals(REAL / name, int(n), REAL / "trees" / tsv)


def assert_merged_tree_equals(path: Path, n: int, tsv: Path) -> None:
    """Image ``n`` of archive ``path`` merges to the tree ``umoci unpack`` made (``tsv``): the same
    paths, kinds, modes, owners, sizes, contents (SHA-256), link targets and xattrs."""
    oracle: dict[str, TreeRow] = read_tree(tsv)
    with open_archive(path) as a:
        im = a.images[n]
        layers = load_image(a, im)
        tree = merge(layers, archive=a)
        ours = merged_rows(a, tree, layers)
        assert sorted(ours) == sorted(oracle)
        for p, row in oracle.items():
            kind, mode, ug, size, extra, xattrs = (ours[p] + ("",))[:6]
            assert kind == row.type, p
            if mode is not None:
                assert mode == row.mode, p
                assert ug == f"{row.uid}:{row.gid}", p
            if row.type == "f":
                assert (size, extra) == (row.size, row.digest_or_target), p
            if row.type == "l":
                assert extra == row.digest_or_target, p
            assert xattrs == row.xattrs, p


def _dive_json(path: Path, tmp: Path) -> dict | None:
    dive = need_tool("dive")
    out = tmp / "dive.json"
    subprocess.run(
        [dive, "--source", "docker-archive", str(path), "-j", str(out)], capture_output=True, timeout=300
    )
    return json.loads(out.read_text()) if out.exists() else None


def _docker_archives() -> list[Path]:
    """Archives in the docker-archive layout (manifest.json): the ones dive reads in layer order.

    dive 0.13.1 also opens OCI archives through `--source docker-archive`, but takes their layer blobs in
    archive order, not manifest order, so its figures for them describe a different image."""
    if not REAL.is_dir():
        return []
    peer = [
        PEER / "wagoodman__dive/.data/test-docker-image.tar",
        PEER / "wagoodman__dive/.data/test-kaniko-image.tar",
    ]
    peer += sorted((PEER / "google__go-containerregistry/pkg/v1/mutate/testdata").glob("*.tar"))
    peer += [PEER / "containers__image/docker/archive/fixtures/almostempty.tar"]
    return [p for p in sorted(REAL.glob("*.tar")) if ".oci." not in p.name] + peer


@pytest.mark.realtool
@pytest.mark.parametrize("path", _docker_archives() or [Path("(corpus absent)")], ids=lambda p: p.name)
def test_dive_figures_equal_dive(path, tmp_path):
    need_shared()
    assert_dive_figures_equal(path, tmp_path)


def assert_dive_figures_equal(path: Path, tmp_path: Path) -> None:
    """dive 0.13.1's JSON for ``path`` (a docker-archive) equals our dive-compatible figures."""
    dj = _dive_json(path, tmp_path)
    assert dj is not None, f"dive could not read {path}"
    with open_archive(path) as a:
        f = dive_figures(load_image(a, a.images[0]))
    assert f.efficiency == dj["image"]["efficiencyScore"]
    assert f.wasted_bytes == dj["image"]["inefficientBytes"]
    assert f.size_bytes == dj["image"]["sizeBytes"]
    assert f.layer_sizes == [ly["sizeBytes"] for ly in dj["layer"]]
    theirs = sorted((r["file"], r["count"], r["sizeBytes"]) for r in dj["image"]["fileReference"])
    assert sorted(f.inefficient_files) == theirs


def test_dive_reference_fixture_numbers():
    need_shared()
    with open_archive(PEER / "wagoodman__dive/.data/test-docker-image.tar") as a:
        f = dive_figures(load_image(a, a.images[0]))
    assert f.efficiency == 0.9844212134184309
    assert f.wasted_bytes == 32025
    assert round(f.user_wasted_percent * 100, 2) == 48.35


def test_layerscope_waste_counts_deleted_dirs_and_not_kept_copies():
    need_shared()
    with open_archive(REAL / "umoci-edge.docker.tar") as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
    figs = layerscope_figures(layers, tree)
    by_path = {w.path: w for w in figs.wasted}
    # /srv was deleted whole by layer 7: its blob counts (dive never lists deleted directories)
    assert by_path["srv/blob.bin"].size == 300000 and by_path["srv/blob.bin"].deleted
    # config.ini: 3 copies, the kept one (layer 6, chmod only) does not count
    assert by_path["opt/app/config.ini"].size == 4 + 4
    assert by_path["opt/app/config.ini"].layers == [0, 2, 6]
    assert figs.wasted_bytes == sum(w.size for w in figs.wasted)
    no_base = layerscope_figures(layers, tree, base_layers=1)
    assert no_base.wasted_bytes <= figs.wasted_bytes


def test_layer_changes_on_docker_image():
    need_shared()
    with open_archive(REAL / "docker20-edge.save.tar") as a:
        layers = load_image(a, a.images[0])
        tree = merge(layers, archive=a)
    kinds = dict(enumerate(tree.changes))
    assert kinds[2]["opt/app/config.ini"] == "modified"
    assert kinds[3]["opt/app/data/a.txt"] == "removed"
    # opaque: c1 and sub removed, the dir itself recreated in the same layer
    assert kinds[4]["opt/app/cache/c1"] == "removed" and kinds[4]["opt/app/cache/sub"] == "removed"
    assert kinds[4]["opt/app/cache/c2"] == "added"
    assert kinds[5]["var/log"] == "removed"
    # docker repeats parent directories in every layer: unchanged ones are not "modified"
    assert kinds[2]["opt/app"] == "modified"  # because config.ini under it changed
    pair = {"opt/app/hard-link", "opt/app/hard-src"}
    (link,) = [p for p in pair if tree.nodes[p].entry.type == "hardlink"]
    (target,) = pair - {link}
    assert tree.nodes[hardlink_target(tree, link)] is tree.nodes[target]


def test_ls_and_ci_cli():
    need_shared()
    exe = [sys.executable, "-m", "layerscope.core.cli"]
    r = subprocess.run(
        [*exe, "ls", "--json", str(REAL / "umoci-edge.oci.tar")], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {
        "path": "/etc/app.ini",
        "type": "symlink",
        "size": 0,
        "mode": 0o777,
        "uid": 0,
        "gid": 0,
        "link": "/srv/www/index.html",
        "layer": 6,
        "change": "modified",
    } in rows
    assert all(
        set(x) == {"path", "type", "size", "mode", "uid", "gid", "link", "layer", "change"} for x in rows
    )
    r = subprocess.run(
        [*exe, "ls", "--json", "--view", "layer", "--layer", "7", str(REAL / "umoci-edge.oci.tar")],
        capture_output=True,
        text=True,
    )
    assert [(x["path"], x["change"]) for x in json.loads(r.stdout)] == [("/srv", "removed")]
    r = subprocess.run(
        [*exe, "ci", "--json", str(REAL / "umoci-edge.docker.tar")], capture_output=True, text=True
    )
    assert r.returncode == 1  # dive's default highestUserWastedPercent 0.1 fails, as `dive --ci` does
    doc = json.loads(r.stdout)
    assert doc["passed"] is False
    assert [x["status"] for x in doc["rules"]] == ["fail", "skip", "pass"]
    assert doc["dive"]["wasted_bytes"] == 21
    r = subprocess.run(
        [*exe, "ci", str(REAL / "umoci-edge.docker.tar"), "--highest-user-wasted-percent", "disabled"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "Result:PASS" in r.stdout


@pytest.mark.realtool
@pytest.mark.parametrize(
    "config",
    ["wagoodman__dive/.data/.dive-ci", "wagoodman__dive/cmd/dive/cli/testdata/default-ci-config/.dive-ci"],
)
@pytest.mark.parametrize(
    "image", ["wagoodman__dive/.data/test-docker-image.tar", "../real/umoci-edge.docker.tar"]
)
def test_ci_exit_status_matches_dive(config, image, tmp_path):
    need_shared()
    dive = need_tool("dive")
    d = subprocess.run(
        [dive, "--source", "docker-archive", str(PEER / image), "--ci", "--ci-config", str(PEER / config)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    ours = subprocess.run(
        [
            sys.executable,
            "-m",
            "layerscope.core.cli",
            "ci",
            str(PEER / image),
            "--ci-config",
            str(PEER / config),
        ],
        capture_output=True,
        text=True,
    )
    assert ours.returncode == d.returncode


def test_loaded_image_owns_the_layer_cache():
    """A second load given the first one's cache reads no layer again; without it, it does."""
    need_shared()
    from layerscope.core.session import load

    with open_archive(REAL / "umoci-edge.docker.tar") as a:
        first = load(a, a.images[0])
        again = load(a, a.images[0], cache=first.cache)
        fresh = load(a, a.images[0])
    assert again.cache is first.cache
    assert all(x.entries is y.entries for x, y in zip(first.layers, again.layers, strict=True))
    assert not any(
        x.entries is y.entries for x, y in zip(first.layers, fresh.layers, strict=True) if x.entries
    )
    assert again.dive == first.dive and again.tree.changes == first.tree.changes
