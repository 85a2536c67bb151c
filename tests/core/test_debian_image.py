"""The corpus's Debian image (debootstrap minbase bookworm; `apt-get install jq && apt-get clean`;
`rm -rf /usr/share/doc`: one layer each), checked against tools nobody here wrote: the merged tree
`umoci unpack` made (its trees/*.tsv), dive 0.13.1's figures, GNU tar's listing of each layer, and
`dpkg-query` over the package database GNU tar takes out of the layer that wrote it.

The image comes from ../shared/corpus/real when the shared corpus was built with it, else from
.ci/debian-image (the shared corpus's own script, into .corpus/); without either these tests skip
(and fail under CI)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.audit.rules import Rule
from layerscope.core.cli import main
from layerscope.core.kinds import ChangeKind
from layerscope.core.session import load
from layerscope.core.views import LayerView
from tests.conftest import DEBIAN_NAME, need_debian, need_tool
from tests.core.test_merge_real import assert_dive_figures_equal, assert_merged_tree_equals
from tests.expected import read_tree

KINDS = ["docker", "oci"]
NOT_SECRETS = {Rule.SETUID, Rule.SETGID, Rule.WORLD_WRITABLE, Rule.DEVICE_OUTSIDE_DEV, Rule.RUNNING_AS_ROOT}
SECRET_RULES = {r.value for r in Rule if r not in NOT_SECRETS}  # by content, name, config, history


def archive(kind: str) -> Path:
    return need_debian() / "debian" / f"{DEBIAN_NAME}.{kind}.tar"


def oracle_tree(kind: str) -> Path:
    return need_debian() / "trees" / f"debian_{DEBIAN_NAME}.{kind}.tar@0.tsv"


def gnu_tar_layer(index: int) -> bytes:
    """Layer ``index`` of the docker-archive as GNU tar takes it out (the layer's path from manifest.json)."""
    tar = need_tool("tar")
    outer = archive("docker")
    manifest = json.loads(
        subprocess.run([tar, "-xOf", outer, "manifest.json"], capture_output=True, check=True).stdout
    )
    member = manifest[0]["Layers"][index]
    return subprocess.run([tar, "-xOf", outer, member], capture_output=True, check=True).stdout


def gnu_tar_listing(layer: bytes) -> dict[str, tuple[str, int]]:
    """path -> (type letter, size) as ``tar -tv`` lists one layer (folders without their slash)."""
    out = subprocess.run(
        [need_tool("tar"), "-tv", "--numeric-owner", "--quoting-style=literal", "-f", "-"],
        input=layer,
        capture_output=True,
        check=True,
    ).stdout.decode()
    rows: dict[str, tuple[str, int]] = {}
    for line in out.splitlines():
        perms, _owner, size, _day, _time, name = line.split(maxsplit=5)
        if perms[0] == "h":
            name = name.split(" link to ", 1)[0]
        elif perms[0] == "l":
            name = name.split(" -> ", 1)[0]
        rows[name.removeprefix("./").rstrip("/")] = (
            perms[0],
            0 if "," in size else int(size),
        )  # a device: "5,1"
    return rows


@pytest.mark.parametrize("kind", KINDS)
def test_the_merged_tree_equals_umoci_unpack(kind):
    assert_merged_tree_equals(archive(kind), 0, oracle_tree(kind))


@pytest.mark.realtool
def test_dive_figures_equal_dive(tmp_path):
    assert_dive_figures_equal(archive("docker"), tmp_path)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("all_files", [False, True], ids=["candidates", "all-files"])
def test_the_audit_finds_no_secret_and_the_setuid_files_find_lists(kind, all_files, capsys):
    """No secret (by content, name, config or history), with or without reading every text file; the
    setuid and setgid programs are what ``find -perm -4000`` / ``-2000 -type f`` lists on umoci's
    unpacked tree; no world-writable path without its sticky bit, no device outside /dev."""
    args = ["audit", str(archive(kind)), "--json"] + (["--all-files"] if all_files else [])
    assert main(args) == 0  # nothing at or above "high"
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f for f in findings if f["rule"] in SECRET_RULES] == []
    tree = read_tree(oracle_tree(kind))
    files = [r for r in tree.values() if r.type == "f"]
    setuid = {"/" + r.path for r in files if r.mode & 0o4000}
    setgid = {"/" + r.path for r in files if r.mode & 0o2000}
    assert len(setuid) == 8 and len(setgid) == 3  # a check of the oracle itself (chfn, su, ...; chage, ...)
    assert {f["path"] for f in findings if f["rule"] == "setuid"} == setuid
    assert {f["path"] for f in findings if f["rule"] == "setgid"} == setgid
    assert {f["layer"] for f in findings if f["rule"] in ("setuid", "setgid")} == {0}
    assert not [f for f in findings if f["rule"] in ("world-writable", "device-outside-dev")]
    assert [f["rule"] for f in findings if f["path"] is None or not f["path"].startswith("/usr/")] == [
        "running-as-root"
    ]


def test_rm_rf_usr_share_doc_is_told_as_layer_2_s_deletion_of_what_layers_0_and_1_stored():
    """The removed folder is numbered with the layer that deleted it, and says what it held: the
    entries and file bytes GNU tar lists below it in layers 0 and 1 (jq's install added its docs)."""
    held: dict[str, tuple[str, int]] = {}
    listed = [gnu_tar_listing(gnu_tar_layer(index)) for index in (0, 1)]
    for rows in listed:
        held.update((p, row) for p, row in rows.items() if p.startswith("usr/share/doc/"))
    assert listed[1]["usr/share/doc"][0] == "d"  # layer 1 wrote the folder again (jq's docs went in)
    assert not [p for p in held if "/.wh." in p]
    assert any(p.startswith("usr/share/doc/jq/") for p in held)  # layer 1's
    file_bytes = sum(size for t, size in held.values() if t == "-")
    with open_archive(archive("oci")) as a:
        s = load(a, a.images[0])
        row = LayerView(s.tree, 2).row("usr/share/doc")
        assert row.change is ChangeKind.REMOVED and row.removed
        assert row.layer == 2 and row.stored_in == 1  # removed by #2; its last entry was #1's
        assert (row.size, row.held) == (file_bytes, len(held))
        assert s.tree.changes[2]["usr/share/doc"] is ChangeKind.REMOVED
        assert "usr/share/doc" not in s.tree.nodes


def test_the_deb_packages_are_what_dpkg_query_reads_in_the_layer_that_wrote_them(tmp_path, capsys):
    """Name, version and layer of every installed package equal ``dpkg-query`` over the status file
    GNU tar takes out of each layer: the base's packages in layer 0, jq and its libraries in layer 1."""
    dpkg_query = need_tool("dpkg-query")
    tar = need_tool("tar")

    def installed(index: int) -> dict[str, str]:
        admin = tmp_path / f"admin{index}"
        admin.mkdir()
        subprocess.run(
            [tar, "-xf", "-", "-C", admin, "--strip-components=3", "var/lib/dpkg/status"],
            input=gnu_tar_layer(index),
            check=True,
        )
        out = subprocess.run(
            [dpkg_query, f"--admindir={admin}", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\n"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return {n: v for st, n, v in (line.split("\t") for line in out.splitlines()) if st.strip() == "ii"}

    base, top = installed(0), installed(1)
    expected = {name: (version, 0 if base.get(name) == version else 1) for name, version in top.items()}
    assert {"jq", "libjq1", "libonig5"} <= {n for n, (_v, layer) in expected.items() if layer == 1}
    assert main(["packages", str(archive("docker")), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["os"]["id"] == "debian" and got["os"]["version_id"] == "12"
    debs = {p["name"]: (p["version"], p["layer"]) for p in got["packages"] if p["ecosystem"] == "deb"}
    assert debs == expected
