"""Package databases that are broken or hostile give warnings, never a failed load; the small formats
without a tool on this machine (apk, distroless status.d), whiteouts of databases, the OS fallbacks.

Images are written by tests/imagebuilder.py (tars laid out as real tools lay them out)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.layers.content import read_content
from layerscope.core.packages import Ecosystem, PackageHistory, image_os, package_history
from layerscope.core.session import load
from tests.conftest import REAL, need_shared
from tests.imagebuilder import Dir, File, Image, Layer, Opaque, Symlink, Whiteout, build

STATUS = (
    b"Package: good\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\nInstalled-Size: 10\n"
    b"Description: fine\n more\n .\n end\n\n"
    b"Package: old\nStatus: deinstall ok config-files\nVersion: 0.9\nArchitecture: all\n\n"
)
APK = (
    b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nS:383152\nI:622592\nT:the C library\n"
    b"F:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\n"
    b"P:busybox\nV:1.36.1-r5\nA:x86_64\nI:946176\nF:bin\nR:busybox\nF:etc\nR:securetty\n\n"
)


def _scan(tmp_path: Path, *layers: Layer) -> PackageHistory:
    path = build(Image(layers=list(layers)), tmp_path / "img.tar", "docker25")
    with open_archive(path) as a:
        return package_history(load(a, a.images[0]))


def _dpkg_dirs() -> list[Dir | File]:
    return [Dir("var"), Dir("var/lib"), Dir("var/lib/dpkg"), Dir("var/lib/dpkg/info")]


def test_truncated_status_keeps_the_whole_paragraphs(tmp_path):
    cut = STATUS + b"Package: cut\nStatus: install ok installed\nVers"
    h = _scan(tmp_path, Layer([*_dpkg_dirs(), File("var/lib/dpkg/status", cut)]))
    assert [(p.name, p.version, p.size, p.arch) for p in h.packages] == [("good", "1.0", 10240, "amd64")]
    assert any("cut" in w and "no Version" in w for w in h.warnings)


def test_binary_junk_in_status_costs_one_paragraph(tmp_path):
    junk = STATUS + bytes(range(256)) * 40 + b"\n\nPackage: after\nStatus: install ok installed\nVersion: 2\n"
    h = _scan(tmp_path, Layer([*_dpkg_dirs(), File("var/lib/dpkg/status", junk)]))
    assert [p.name for p in h.packages] == ["after", "good"]
    assert h.warnings


def test_whiteout_and_opaque_remove_databases(tmp_path):
    h = _scan(
        tmp_path,
        Layer(
            [
                *_dpkg_dirs(),
                File("var/lib/dpkg/status", STATUS),
                File("var/lib/dpkg/info/good.list", b"/.\n/usr\n/usr/bin/good\n"),
            ]
        ),
        Layer([Dir("var"), Dir("var/lib"), Dir("var/lib/dpkg"), Opaque("var/lib/dpkg")]),
        Layer([Dir("var"), Dir("var/lib"), Dir("var/lib/dpkg"), File("var/lib/dpkg/status", STATUS)]),
        Layer([Dir("var"), Whiteout("var/lib")]),
    )
    assert [[p.name for p in lp.added] for lp in h.layers] == [["good"], [], ["good"], []]
    assert [[p.name for p in lp.removed] for lp in h.layers] == [[], ["good"], [], ["good"]]
    assert h.layers[0].added[0].files == ("usr", "usr/bin/good")  # folders are only known to the tree
    assert h.packages == ()


def test_distroless_status_d_with_md5sums(tmp_path):
    d = "var/lib/dpkg/status.d"
    h = _scan(
        tmp_path,
        Layer(
            [
                *_dpkg_dirs(),
                Dir(d),
                File(
                    f"{d}/base-files",
                    b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\nInstalled-Size: 341\n",
                ),
                File(f"{d}/base-files.md5sums", b"0123456789abcdef0123456789abcdef  etc/debian_version\n"),
                Dir("etc"),
                File("etc/debian_version", b"12.5\n"),
            ]
        ),
    )
    (p,) = h.packages
    assert (p.ecosystem, p.name, p.version, p.size, p.files) == (
        Ecosystem.DEB,
        "base-files",
        "12.4+deb12u5",
        341 * 1024,
        ("etc/debian_version",),
    )
    assert h.os is not None and (h.os.id, h.os.version_id) == ("debian", "12.5")


def test_apk_database_and_upgrade(tmp_path):
    apk_dirs = [Dir("lib"), Dir("lib/apk"), Dir("lib/apk/db")]
    h = _scan(
        tmp_path,
        Layer(
            [
                *apk_dirs,
                File("lib/apk/db/installed", APK),
                Dir("etc"),
                File("etc/alpine-release", b"3.19.1\n"),
            ]
        ),
        Layer([*apk_dirs, File("lib/apk/db/installed", APK.replace(b"V:1.36.1-r5", b"V:1.36.1-r6"))]),
    )
    got = {p.name: (p.version, p.layer, p.size, p.arch) for p in h.packages}
    assert got == {"musl": ("1.2.4-r2", 0, 622592, "x86_64"), "busybox": ("1.36.1-r6", 1, 946176, "x86_64")}
    musl = next(p for p in h.packages if p.name == "musl")
    assert musl.files == ("lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1")
    assert h.layers[1].summary() == "~1 apk"
    assert h.os is not None and (h.os.id, h.os.version_id) == ("alpine", "3.19.1")


def test_broken_apk_paragraph_is_a_warning(tmp_path):
    bad = APK + b"V:only-a-version\n\n" + b"\x00\xff" * 500
    h = _scan(
        tmp_path, Layer([Dir("lib"), Dir("lib/apk"), Dir("lib/apk/db"), File("lib/apk/db/installed", bad)])
    )
    assert {p.name for p in h.packages} == {"musl", "busybox"}
    assert h.warnings


def test_huge_package_json_is_skipped_with_a_warning(tmp_path):
    nm = [Dir("srv"), Dir("srv/node_modules"), Dir("srv/node_modules/big"), Dir("srv/node_modules/ok")]
    h = _scan(
        tmp_path,
        Layer(
            [
                *nm,
                File(
                    "srv/node_modules/big/package.json",
                    b'{"name": "big", "version": "1", "x": "' + b" " * (100 << 20) + b'"}',
                ),
                File("srv/node_modules/ok/package.json", b'{"name": "ok", "version": "2.0.0"}'),
                File("srv/node_modules/ok/lib/package.json", b'{"name": "not-a-package", "version": "9"}'),
            ]
        ),
    )
    assert [(p.name, p.version, p.files) for p in h.packages] == [("ok", "2.0.0", ("srv/node_modules/ok",))]
    assert any("big/package.json" in w and "skipped" in w for w in h.warnings)


def test_invalid_package_json_is_a_warning(tmp_path):
    nm = [Dir("node_modules"), Dir("node_modules/x"), Dir("node_modules/y")]
    h = _scan(
        tmp_path,
        Layer(
            [
                *nm,
                File("node_modules/x/package.json", b"{not json"),
                File("node_modules/y/package.json", b"[" * 5000 + b"]" * 5000),
            ]
        ),
    )
    assert h.packages == () and len(h.warnings) == 2


def test_rpm_file_that_is_not_sqlite_is_a_warning(tmp_path):
    rpm_dirs = [Dir("var"), Dir("var/lib"), Dir("var/lib/rpm")]
    h = _scan(
        tmp_path,
        Layer([*rpm_dirs, File("var/lib/rpm/rpmdb.sqlite", b"SQLite format 3\x00" + b"\xde\xad" * 3000)]),
    )
    assert h.packages == ()
    assert any("rpmdb.sqlite" in w and "not a readable" in w for w in h.warnings)


def test_berkeleydb_and_ndb_are_said_unsupported(tmp_path):
    h = _scan(
        tmp_path,
        Layer(
            [
                Dir("var"),
                Dir("var/lib"),
                Dir("var/lib/rpm"),
                File("var/lib/rpm/Packages", b"\x00\x06\x15\x61" * 100),
            ]
        ),
        Layer(
            [
                Dir("usr"),
                Dir("usr/lib"),
                Dir("usr/lib/sysimage"),
                Dir("usr/lib/sysimage/rpm"),
                File("usr/lib/sysimage/rpm/Packages.db", b"RpmP"),
            ]
        ),
    )
    assert h.packages == ()
    assert len(h.unsupported) == 2
    assert any("BerkeleyDB" in u for u in h.unsupported) and any("ndb" in u for u in h.unsupported)


def test_binary_junk_metadata_is_a_warning(tmp_path):
    site = "usr/lib/python3/site-packages"
    dirs = [
        Dir("usr"),
        Dir("usr/lib"),
        Dir("usr/lib/python3"),
        Dir(site),
        Dir(f"{site}/junk-1.dist-info"),
        Dir(f"{site}/fine-2.dist-info"),
    ]
    h = _scan(
        tmp_path,
        Layer(
            [
                *dirs,
                File(f"{site}/junk-1.dist-info/METADATA", bytes(range(256)) * 64),
                File(f"{site}/junk-1.dist-info/RECORD", b"\x00\x01,\xff\n" * 10),
                File(
                    f"{site}/fine-2.dist-info/METADATA",
                    b"Metadata-Version: 2.1\nName: fine\nVersion: 2\n\nbody",
                ),
                File(
                    f"{site}/fine-2.dist-info/RECORD",
                    b"fine.py,sha256=x,12\n../../../bin/fine,,\nfine-2.dist-info/RECORD,,\n",
                ),
                File(f"{site}/Legacy.egg-info", b"Metadata-Version: 1.1\nName: Legacy\nVersion: 0.1\n"),
            ]
        ),
    )
    got = {p.name: (p.version, p.size, p.files) for p in h.packages}
    assert got == {
        "fine": ("2", 12, (f"{site}/fine.py", "usr/bin/fine", f"{site}/fine-2.dist-info/RECORD")),
        "Legacy": ("0.1", None, ()),
    }
    assert any("junk-1.dist-info/METADATA" in w for w in h.warnings)


def test_os_release_symlink_and_fallbacks(tmp_path):
    h = _scan(
        tmp_path,
        Layer(
            [
                Dir("etc"),
                Dir("usr"),
                Dir("usr/lib"),
                File(
                    "usr/lib/os-release",
                    b'NAME="Wolfi"\nID=wolfi\nVERSION_ID=20230201\nPRETTY_NAME="Wolfi"\n# c\nBAD LINE\n',
                ),
                Symlink("etc/os-release", "../usr/lib/os-release"),
            ]
        ),
    )
    assert h.os is not None and (h.os.id, h.os.version_id, h.os.pretty_name) == ("wolfi", "20230201", "Wolfi")
    assert (
        _scan(
            tmp_path / "b",
            Layer([Dir("etc"), File("etc/lsb-release", b"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n")]),
        ).os.id
        == "ubuntu"
    )  # type: ignore[union-attr]
    assert _scan(tmp_path / "c", Layer([Dir("etc"), File("etc/hosts", b"")])).os is None


def test_busybox_version_is_what_the_binary_says(tmp_path):
    """The corpus's busybox image names no OS in a file: the binary's banner gives the version, the
    same one the binary prints when run."""
    need_shared()
    with open_archive(REAL / "docker20-edge.save.tar") as a:
        loaded = load(a, a.images[0])
        found = image_os(loaded)
        node = loaded.tree.nodes["bin/busybox"]
        assert node.entry is not None
        exe = tmp_path / "busybox"
        exe.write_bytes(read_content(a, loaded.layers[node.layer].desc, node.entry))
    assert found is not None and found.id == "busybox"
    exe.chmod(0o755)
    if shutil.which("busybox") is None and not exe.exists():
        pytest.skip("cannot run busybox")
    banner = subprocess.run([str(exe)], capture_output=True, text=True, timeout=10).stdout.splitlines()[0]
    assert banner.startswith(f"BusyBox v{found.version_id} ")


def test_a_cancel_stops_the_package_scan_inside_a_big_layer(tmp_path):
    """The watch over a layer's entries checks for cancel as it goes: a new image need not wait for
    a layer of thousands of entries to be looked through."""
    from layerscope.core.errors import Cancelled
    from layerscope.core.packages.watch import CHECK_EVERY

    many = [Dir("srv")] + [File(f"srv/f{i}", b"") for i in range(3 * CHECK_EVERY)]
    path = build(Image(layers=[Layer(many)]), tmp_path / "img.tar", "docker25")
    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 2  # the layer's own check, then the first inside the layer, then stop

    with open_archive(path) as a:
        s = load(a, a.images[0])
        with pytest.raises(Cancelled):
            package_history(s, cancelled=cancelled)
    assert len(asked) == 3
