"""An RPM sqlite database written by Debian's rpm (packages built by rpmbuild, installed, upgraded and
erased with ``rpm --root``), read layer by layer and compared with ``rpm --root -qa`` / ``-ql``."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.packages import Ecosystem, PackageHistory, package_history
from layerscope.core.session import load
from tests.conftest import need_tool
from tests.core import package_images as pi


@pytest.fixture(scope="session")
def rpm_image() -> Iterator[tuple[pi.Built, PackageHistory]]:
    for tool in ("umoci", "skopeo", "rpm", "rpmbuild"):
        need_tool(tool)
    with tempfile.TemporaryDirectory(prefix="ls-rpm-") as tmp:
        w = Path(tmp)
        a1 = pi.make_rpm(w, "ls-alpha", "1.0", {"usr/share/ls-alpha/one": b"one"})
        a2 = pi.make_rpm(
            w, "ls-alpha", "2.0", {"usr/share/ls-alpha/one": b"uno", "usr/share/ls-alpha/two": b"two"}
        )
        b1 = pi.make_rpm(w, "ls-beta", "0.5", {"usr/share/ls-beta/b": b"b"})
        built = pi.build_image(
            w,
            "rpm",
            [
                (
                    "rpm --initdb && rpm -i ls-alpha-1.0 ls-beta-0.5",
                    lambda r: (pi.rpm_in(r, "--initdb"), pi.rpm_in(r, "-i", "--nodeps", str(a1), str(b1))),
                ),
                (
                    "rpm -U ls-alpha-2.0 && rpm -e ls-beta",
                    lambda r: (pi.rpm_in(r, "-U", "--nodeps", str(a2)), pi.rpm_in(r, "-e", "ls-beta")),
                ),
            ],
        )
        with open_archive(built.archive) as a:
            yield built, package_history(load(a, a.images[0]))


def test_every_layer_matches_rpm_qa(rpm_image):
    built, history = rpm_image
    for n, root in enumerate(built.roots):
        got = {p.name: p.version for p in history.at(n) if p.ecosystem is Ecosystem.RPM}
        assert got == pi.rpm_qa(root), built.steps[n]
    assert not history.warnings and not history.unsupported


def test_rpm_layers_sizes_and_files(rpm_image):
    built, history = rpm_image
    (alpha,) = [p for p in history.packages if p.name == "ls-alpha"]
    assert (alpha.version, alpha.layer, alpha.arch) == ("2.0-1", 1, "noarch")
    root = built.roots[-1]
    size = pi.run(
        [
            need_tool("rpm"),
            "--root",
            str(root),
            "--dbpath",
            pi.RPM_DBPATH,
            "-q",
            "--qf",
            "%{SIZE}",
            "ls-alpha",
        ]
    )
    assert alpha.size == int(size) == 6
    listed = pi.run([need_tool("rpm"), "--root", str(root), "--dbpath", pi.RPM_DBPATH, "-ql", "ls-alpha"])
    assert set(alpha.files) == {p.strip("/") for p in listed.split()}
    assert [p.name for p in history.layers[1].removed] == ["ls-beta"]
    assert [(u.before.version, u.after.version) for u in history.layers[1].changed] == [("1.0-1", "2.0-1")]
