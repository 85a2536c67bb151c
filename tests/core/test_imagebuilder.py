"""The test-image builder writes archives that look like the real tools' output, and real tools agree.

Archives are read back here by sniffing content (magic bytes, JSON shapes), never by trusting names.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import posixpath
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import zstandard

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
    blob_bytes,
    build,
    layer_tar_bytes,
)

TAR_LAYOUTS = [lay for lay in LAYOUTS if lay != "oci-dir"]
HEX = re.compile(r"[0-9a-f]{64}")


# --- reading archives back, by content ---------------------------------------------------------------


def sniff(data: bytes) -> str:
    if data[:2] == b"\x1f\x8b":
        return "gzip"
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    if data[257:262] == b"ustar" or data[:1024] == bytes(1024):
        return "none"
    return "unknown"


def plain(data: bytes) -> bytes:
    kind = sniff(data)
    if kind == "gzip":
        return gzip.decompress(data)
    if kind == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


Members = dict[str, tuple[tarfile.TarInfo | None, bytes]]


def load(path: Path) -> Members:
    """name -> (TarInfo or None for a folder's file, data), in archive order."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return {p.relative_to(path).as_posix(): (None, p.read_bytes()) for p in files}
    with tarfile.open(fileobj=io.BytesIO(plain(path.read_bytes()))) as tf:
        out: Members = {}
        for m in tf:
            f = tf.extractfile(m) if m.isfile() else None
            out[m.name] = (m, f.read() if f else b"")
        return out


def resolve(members: Members, name: str) -> bytes:
    """The bytes of `name`, following tar symlinks inside the archive (podman, shared docker layers)."""
    for _ in range(8):
        info, data = members[name]
        if info is None or not info.issym():
            return data
        name = posixpath.normpath(posixpath.join(posixpath.dirname(name), info.linkname))
    raise AssertionError(f"symlink loop at {name}")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar_names(layer_tar: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(layer_tar)) as tf:
        return tf.getnames()


def images_of(members: Members) -> list[dict[str, Any]]:
    """Each image: config, layer blobs as stored, tags; from manifest.json (docker) or index.json (OCI)."""
    manifest = json.loads(members["manifest.json"][1]) if "manifest.json" in members else None
    if isinstance(manifest, list):
        return [
            {
                "config": json.loads(resolve(members, e["Config"])),
                "blobs": [resolve(members, p) for p in e["Layers"]],
                "tags": e["RepoTags"] or [],
            }
            for e in manifest
        ]
    index = json.loads(members["index.json"][1])
    out = []
    for desc in index["manifests"]:
        blob = members[f"blobs/sha256/{desc['digest'].removeprefix('sha256:')}"][1]
        assert sha(blob) == desc["digest"].removeprefix("sha256:") and len(blob) == desc["size"]
        man = json.loads(blob)
        layers = [members[f"blobs/sha256/{d['digest'][7:]}"][1] for d in man["layers"]]
        for d, data in zip(man["layers"], layers, strict=True):
            assert sha(data) == d["digest"][7:] and len(data) == d["size"]
        out.append(
            {
                "config": json.loads(members[f"blobs/sha256/{man['config']['digest'][7:]}"][1]),
                "blobs": layers,
                "tags": [desc.get("annotations", {}).get("org.opencontainers.image.ref.name")],
                "manifest": man,
            }
        )
    return out


# --- a small image, in every layout ------------------------------------------------------------------

SMALL = Image(
    [
        Layer(
            [Dir("etc"), File("etc/os-release", b"ID=test\n"), Symlink("etc/alias", "os-release")], "ADD /"
        ),
        Layer([Whiteout("etc/alias"), File("etc/new", b"new\n")], "RUN change", comment="second"),
    ],
    tags=["example.com/test/img:1"],
    empty_steps=[(1, '/bin/sh -c #(nop) ENV A="1"')],
    config_extra={"Env": ["A=1"]},
)
SMALL_NAMES = [["etc", "etc/os-release", "etc/alias"], ["etc/.wh.alias", "etc/new"]]


def check_layout_shape(layout: str, members: Members) -> None:
    names = list(members)
    files = {n: info for n, (info, _) in members.items() if info is None or info.isreg()}
    if layout == "docker-legacy":
        assert "oci-layout" not in names and "index.json" not in names
        assert names[-2:] == ["manifest.json", "repositories"]
        (entry,) = json.loads(members["manifest.json"][1])
        assert re.fullmatch(r"[0-9a-f]{64}\.json", entry["Config"])
        assert sha(members[entry["Config"]][1]) == entry["Config"][:64]
        parent = None
        for path in entry["Layers"]:
            v1 = path.removesuffix("/layer.tar")
            assert HEX.fullmatch(v1) and path in files
            assert members[f"{v1}/VERSION"][1] == b"1.0"
            legacy = json.loads(members[f"{v1}/json"][1])
            assert legacy["id"] == v1 and legacy.get("parent") == parent
            parent = v1
        assert json.loads(members["repositories"][1]) == {"example.com/test/img": {"1": parent}}
    elif layout == "docker25":
        assert names[-4:] == ["index.json", "manifest.json", "oci-layout", "repositories"]
        assert all(n.split("/")[0] == "blobs" for n in names[:-4])
        for name in files:
            if name.startswith("blobs/sha256/"):
                assert sha(members[name][1]) == name.removeprefix("blobs/sha256/")
        index = json.loads(members["index.json"][1])
        assert [d["annotations"] for d in index["manifests"]] == [
            {"io.containerd.image.name": "example.com/test/img:1", "org.opencontainers.image.ref.name": "1"}
        ]
        (entry,) = json.loads(members["manifest.json"][1])
        config = json.loads(members[entry["Config"]][1])
        assert sorted(entry["LayerSources"]) == sorted(config["rootfs"]["diff_ids"])
        oci = images_of({n: m for n, m in members.items() if n != "manifest.json"})
        assert [f"blobs/sha256/{d['digest'][7:]}" for d in oci[0]["manifest"]["layers"]] == entry["Layers"]
    elif layout == "podman":
        (entry,) = json.loads(members["manifest.json"][1])
        assert all(re.fullmatch(r"[0-9a-f]{64}\.tar", p) for p in entry["Layers"])
        links = {n: info for n, (info, _) in members.items() if n.endswith("/layer.tar")}
        assert len(links) == 2
        for info in links.values():
            assert info is not None and info.issym()
            assert re.fullmatch(r"\.\./[0-9a-f]{64}\.tar", info.linkname)
        for info in files.values():
            assert info is not None and info.mode == 0o444 and info.mtime == 0
    else:
        assert "manifest.json" not in names and "repositories" not in names
        assert json.loads(members["oci-layout"][1]) == {"imageLayoutVersion": "1.0.0"}
        for name in files:
            if name.startswith("blobs/sha256/"):
                assert sha(members[name][1]) == name.removeprefix("blobs/sha256/")
        index = json.loads(members["index.json"][1])
        assert index["schemaVersion"] == 2
        assert [d["mediaType"] for d in index["manifests"]] == ["application/vnd.oci.image.manifest.v1+json"]


CASES = [(lay, c, o) for lay in LAYOUTS for c in COMPRESSIONS for o in ("none", "gzip", "zstd")]


@pytest.mark.parametrize(
    ("layout", "compression", "outer"), [c for c in CASES if c[0] != "oci-dir" or c[2] == "none"]
)
def test_every_layout_has_the_expected_members(tmp_path: Path, layout: str, compression: str, outer: str):
    path = build(SMALL, tmp_path / "img.tar", layout, compression, outer)
    if layout == "oci-dir":
        assert path.is_dir()
    else:
        assert path.is_file() and sniff(path.read_bytes()) == outer
        assert path.name == "img.tar" + {"none": "", "gzip": ".gz", "zstd": ".zst"}[outer]
    members = load(path)
    check_layout_shape(layout, members)

    (image,) = images_of(members)
    config = image["config"]
    assert image["tags"] in (["example.com/test/img:1"], ["1"])
    assert (config["architecture"], config["os"], config["config"]) == (
        "amd64",
        "linux",
        {"Cmd": ["/bin/sh"], "Env": ["A=1"]},
    )
    assert [(h.get("created_by"), h.get("empty_layer", False)) for h in config["history"]] == [
        ("ADD /", False),
        ('/bin/sh -c #(nop) ENV A="1"', True),
        ("RUN change", False),
    ]
    assert config["history"][2]["comment"] == "second"
    for blob, diff_id, names in zip(image["blobs"], config["rootfs"]["diff_ids"], SMALL_NAMES, strict=True):
        assert sniff(blob) == compression
        layer_tar = plain(blob)
        assert "sha256:" + sha(layer_tar) == diff_id
        assert tar_names(layer_tar) == names
    if "manifest" in image:
        suffix = {"none": "tar", "gzip": "tar+gzip", "zstd": "tar+zstd"}[compression]
        media = {d["mediaType"] for d in image["manifest"]["layers"]}
        assert media == {f"application/vnd.oci.image.layer.v1.{suffix}"}


# --- several images sharing layers -------------------------------------------------------------------

BASE = Layer([Dir("bin"), File("bin/sh", b"#!shell\n", mode=0o755)], "ADD base")
TOP_A = Layer([File("a.txt", b"a\n")], "ADD a")
TOP_B = Layer([File("b.txt", b"b\n")], "ADD b")
MULTI = [
    Image([BASE, TOP_A], tags=["example.com/multi/a:1"]),
    Image([BASE, TOP_B], tags=["example.com/multi/b:2"]),
    Image([TOP_B], tags=["example.com/multi/c:3"]),  # TOP_B again, at another chain position
]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_several_images_store_shared_layers_once(tmp_path: Path, layout: str):
    members = load(build(MULTI, tmp_path / "multi.tar", layout))
    images = images_of(members)
    assert len(images) == 3
    assert [len(im["blobs"]) for im in images] == [2, 2, 1]
    stored = [data for info, data in members.values() if info is None or info.isreg()]
    for layer in (BASE, TOP_A, TOP_B):
        assert stored.count(layer_tar_bytes(layer)) == 1
    if layout == "docker-legacy":
        links = [info for info, _ in members.values() if info is not None and info.issym()]
        assert len(links) == 1 and re.fullmatch(r"\.\./[0-9a-f]{64}/layer\.tar", links[0].linkname)


# --- layer tar details -------------------------------------------------------------------------------


def test_layer_tar_is_exactly_what_was_listed():
    layer = Layer(
        [
            File("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n", uname="root", gname="root"),
            Whiteout("usr/lib/gone"),
            Opaque("/var/cache"),
            Device("dev/sda", kind="block", major=8, minor=0),
            Fifo("run/fifo"),
            Hardlink("etc/passwd-", "/etc/passwd"),
            RawMember(name="../escape", data=b"x"),
            RawMember(name="/abs/link", type=tarfile.SYMTYPE, linkname="/etc/shadow"),
        ],
        name_prefix="./",
    )
    data = layer_tar_bytes(layer)
    assert len(data) % 512 == 0 and data.endswith(bytes(1024)) and data[-1536:-1024] != bytes(512)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        got = [(m.name, m.type, m.linkname, m.devmajor, m.devminor) for m in tf]
    assert got == [
        ("./etc/passwd", tarfile.REGTYPE, "", 0, 0),
        ("./usr/lib/.wh.gone", tarfile.REGTYPE, "", 0, 0),
        ("./var/cache/.wh..wh..opq", tarfile.REGTYPE, "", 0, 0),
        ("./dev/sda", tarfile.BLKTYPE, "", 8, 0),
        ("./run/fifo", tarfile.FIFOTYPE, "", 0, 0),
        ("./etc/passwd-", tarfile.LNKTYPE, "./etc/passwd", 0, 0),
        ("../escape", tarfile.REGTYPE, "", 0, 0),
        ("/abs/link", tarfile.SYMTYPE, "/etc/shadow", 0, 0),
    ]
    assert layer_tar_bytes(Layer([])) == bytes(1024)


def test_layer_without_eof_stops_right_after_the_last_byte():
    data = layer_tar_bytes(Layer([Dir("d"), File("d/a", b"abc")], eof=False))
    assert len(data) == 3 * 512 + 3 - 512  # two headers and three bytes: no padding, no zero blocks
    assert data.endswith(b"abc")
    assert layer_tar_bytes(Layer([Dir("d")], eof=False)) == layer_tar_bytes(Layer([Dir("d")]))[:512]


def test_blob_bytes_round_trip():
    data = layer_tar_bytes(SMALL.layers[0])
    for compression in COMPRESSIONS:
        blob = blob_bytes(data, compression)
        assert sniff(blob) == compression and plain(blob) == data
    assert blob_bytes(data, "gzip")[4:8] == bytes(4)  # gzip mtime 0


def test_bad_arguments_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="layout"):
        build(SMALL, tmp_path / "x", "docker-save")
    with pytest.raises(ValueError, match="compression"):
        build(SMALL, tmp_path / "x", "podman", compression="bzip2")
    with pytest.raises(ValueError, match="oci-dir"):
        build(SMALL, tmp_path / "x", "oci-dir", outer="gzip")


# --- determinism -------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_two_builds_are_byte_identical(tmp_path: Path, layout: str, compression: str):
    outer = "none" if layout == "oci-dir" else "gzip"
    one = build(MULTI, tmp_path / "one" / "img.tar", layout, compression, outer)
    two = build(MULTI, tmp_path / "two" / "img.tar", layout, compression, outer)
    if layout == "oci-dir":
        assert load(one) == load(two)
    else:
        assert one.read_bytes() == two.read_bytes()


# --- real tools --------------------------------------------------------------------------------------

LONG_DIR = "usr/share/" + "a-rather-long-directory-name-" * 2
LONG_FILE = LONG_DIR + "/" + "f" * 60 + ".txt"
UNICODE = "usr/share/café-ü-名前.txt"

# Three layers exercising the overlay rules; RICH_TREE is the merged filesystem they imply.
RICH = Image(
    [
        Layer(
            [
                Dir("etc"),
                File("etc/base.txt", b"base\n"),
                Hardlink("etc/base-hard", "etc/base.txt"),
                Symlink("etc/link", "base.txt"),
                Dir("opt"),
                Dir("opt/app"),
                File("opt/app/old1", b"old1\n"),
                Dir("opt/app/sub"),
                File("opt/app/sub/old2", b"old2\n"),
                Dir("data"),
                File("data/gone.txt", b"bye\n"),
                File("data/keep.txt", b"keep\n"),
                Dir("var"),
                Dir("var/cache"),
                File("var/cache/x", b"x\n"),
            ],
            "ADD rootfs /",
        ),
        Layer(
            [
                Opaque("opt/app"),
                File("opt/app/new", b"new\n"),
                Whiteout("data/gone.txt"),
                Dir("usr"),
                Dir("usr/share"),
                Dir(LONG_DIR),
                File(LONG_FILE, b"long\n"),
                File(UNICODE, "unicode ✓\n".encode()),
                File("etc/attr.txt", b"attr\n", xattrs={"user.layerscope": b"yes"}),
                File("etc/run.sh", b"#!/bin/sh\n", mode=0o755),
            ],
            "RUN change",
        ),
        Layer(
            [
                Hardlink("etc/base-hard2", "etc/base.txt"),  # into the first layer
                Whiteout("var/cache"),  # a whole subtree
                Symlink("bin-sh", "/bin/busybox"),  # absolute and dangling
                File("data/keep.txt", b"kept, v2\n"),
            ],
            "RUN more",
        ),
    ],
    tags=["example.com/test/rich:1"],
    empty_steps=[(3, '/bin/sh -c #(nop) CMD ["/bin/sh"]')],
)
RICH_TREE: dict[str, tuple[str, bytes | str | None]] = {
    "etc": ("dir", None),
    "etc/base.txt": ("file", b"base\n"),
    "etc/base-hard": ("file", b"base\n"),
    "etc/base-hard2": ("file", b"base\n"),
    "etc/link": ("symlink", "base.txt"),
    "etc/attr.txt": ("file", b"attr\n"),
    "etc/run.sh": ("file", b"#!/bin/sh\n"),
    "opt": ("dir", None),
    "opt/app": ("dir", None),
    "opt/app/new": ("file", b"new\n"),
    "data": ("dir", None),
    "data/keep.txt": ("file", b"kept, v2\n"),
    "var": ("dir", None),
    "usr": ("dir", None),
    "usr/share": ("dir", None),
    LONG_DIR: ("dir", None),
    LONG_FILE: ("file", b"long\n"),
    UNICODE: ("file", "unicode ✓\n".encode()),
    "bin-sh": ("symlink", "/bin/busybox"),
}


def run(*args: str) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}: {proc.stderr}"
    return proc.stdout


def skopeo_inspect(ref: str) -> dict[str, Any]:
    return json.loads(run(need_tool("skopeo"), "inspect", ref))


def disk_tree(root: Path) -> dict[str, tuple[str, bytes | str | None]]:
    tree: dict[str, tuple[str, bytes | str | None]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                tree[rel] = ("symlink", os.readlink(path))
            elif path.is_dir():
                tree[rel] = ("dir", None)
            else:
                tree[rel] = ("file", path.read_bytes())
    return tree


def test_long_and_unicode_names_need_pax():
    data = layer_tar_bytes(RICH.layers[1])
    assert len(LONG_FILE) > 100
    assert tar_names(data)[6:8] == [LONG_FILE, UNICODE]
    for name in (LONG_FILE, UNICODE):
        assert f" path={name}\n".encode() in data
    assert b" SCHILY.xattr.user.layerscope=yes\n" in data


@pytest.mark.realtool
def test_umoci_unpacks_the_merged_tree_the_description_implies(tmp_path: Path):
    skopeo, umoci = need_tool("skopeo"), need_tool("umoci")
    archive = build(RICH, tmp_path / "rich.tar", "oci-archive", "gzip")
    info = skopeo_inspect(f"oci-archive:{archive}")
    assert len(info["Layers"]) == 3
    run(skopeo, "--insecure-policy", "copy", "-q", f"oci-archive:{archive}", f"oci:{tmp_path / 'oci'}:x")
    rootless = [] if os.geteuid() == 0 else ["--rootless"]
    run(umoci, "unpack", *rootless, "--image", f"{tmp_path / 'oci'}:x", str(tmp_path / "bundle"))
    rootfs = tmp_path / "bundle" / "rootfs"

    assert disk_tree(rootfs) == RICH_TREE
    inodes = {os.stat(rootfs / p).st_ino for p in ("etc/base.txt", "etc/base-hard", "etc/base-hard2")}
    assert len(inodes) == 1
    assert os.getxattr(rootfs / "etc/attr.txt", "user.layerscope") == b"yes"
    assert os.stat(rootfs / "etc/run.sh").st_mode & 0o777 == 0o755


@pytest.mark.realtool
def test_gnu_tar_reads_the_layer_names_and_xattrs(tmp_path: Path):
    gnu_tar = need_tool("tar")
    layer = tmp_path / "layer.tar"
    layer.write_bytes(layer_tar_bytes(RICH.layers[1]))
    listed = run(gnu_tar, "--list", "--file", str(layer)).splitlines()
    assert [n.rstrip("/") for n in listed] == tar_names(layer.read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    run(gnu_tar, "--extract", "--xattrs", "--xattrs-include=user.*", "-f", str(layer), "-C", str(out))
    assert os.getxattr(out / "etc/attr.txt", "user.layerscope") == b"yes"
    assert (out / UNICODE).read_bytes() == "unicode ✓\n".encode()


@pytest.mark.realtool
@pytest.mark.parametrize("compression", ["none", "gzip"])
@pytest.mark.parametrize("layout", ["docker-legacy", "docker25", "podman"])
def test_skopeo_reads_docker_archives(tmp_path: Path, layout: str, compression: str):
    archive = build(RICH, tmp_path / "rich.tar", layout, compression)
    info = skopeo_inspect(f"docker-archive:{archive}")
    assert len(info["Layers"]) == 3
    assert info["Architecture"] == "amd64"


@pytest.mark.realtool
@pytest.mark.parametrize("layout", ["oci-archive", "oci-dir"])
def test_skopeo_reads_zstd_oci_layers(tmp_path: Path, layout: str):
    path = build(RICH, tmp_path / "rich.tar", layout, "zstd")
    transport = "oci-archive" if layout == "oci-archive" else "oci"
    assert len(skopeo_inspect(f"{transport}:{path}")["Layers"]) == 3
    raw = json.loads(run(need_tool("skopeo"), "inspect", "--raw", f"{transport}:{path}"))
    assert {d["mediaType"] for d in raw["layers"]} == {"application/vnd.oci.image.layer.v1.tar+zstd"}


@pytest.mark.realtool
@pytest.mark.parametrize("layout", ["oci-archive", "docker-legacy", "docker25", "podman"])
def test_skopeo_finds_each_image_of_a_multi_image_archive(tmp_path: Path, layout: str):
    archive = build(MULTI, tmp_path / "multi.tar", layout, "gzip")
    for n, (image, tag) in enumerate(zip(MULTI, ["1", "2", "3"], strict=True)):
        ref = f"oci-archive:{archive}:{tag}" if layout == "oci-archive" else f"docker-archive:{archive}:@{n}"
        assert len(skopeo_inspect(ref)["Layers"]) == len(image.layers)
