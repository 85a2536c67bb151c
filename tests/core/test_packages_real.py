"""Package databases written by the real tools, read back layer by layer and compared with what the
tools themselves report on the same trees: dpkg (the host's own database, then ``dpkg -i`` / ``-r``
of packages built by dpkg-deb), pip (``--root`` and a venv upgrade), npm (``install --prefix``).

One image is built per session (tests/core/package_images.py); its rootfs after every layer is
kept, and each layer's packages must equal what ``dpkg-query --admindir``, ``pip list --path`` and
``npm ls --prefix`` say of that layer's rootfs.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.cli import main
from layerscope.core.packages import Ecosystem, PackageHistory, package_history, parse_os_release
from layerscope.core.packages.dpkg import DpkgCatalog
from layerscope.core.packages.python_dist import normalise
from layerscope.core.session import LoadedImage, load
from tests.conftest import need_tool
from tests.core import package_images as pi

SITES = (pi.PY_SITE, pi.PIP_SITE, pi.VENV_SITE)


@pytest.fixture(scope="session")
def built() -> Iterator[pi.Built]:
    for tool in ("umoci", "skopeo", "dpkg", "dpkg-deb", "dpkg-query", "npm"):
        need_tool(tool)
    with tempfile.TemporaryDirectory(prefix="ls-packages-") as tmp:
        w = Path(tmp)
        deb1 = pi.make_deb(w, "ls-hello", "1.0", {"usr/share/ls-hello/a.txt": b"a\n" * 600})
        deb2 = pi.make_deb(
            w, "ls-hello", "2.0", {"usr/share/ls-hello/a.txt": b"b\n" * 700, "usr/share/ls-hello/b.txt": b"c"}
        )
        gone = pi.make_deb(w, "ls-gone", "0.1", {"usr/share/ls-gone/x": b"x"})
        alpha1 = pi.make_wheel(w, "alpha-pkg", "1.0", {"alpha/__init__.py": b"X = 1\n"})
        alpha2 = pi.make_wheel(
            w, "alpha-pkg", "2.0", {"alpha/__init__.py": b"X = 2\n", "alpha/more.py": b"Y = 1\n"}
        )
        beta = pi.make_wheel(w, "Beta.Thing", "0.3", {"beta.py": b"B = 1\n"})
        left = pi.make_npm_tarball(w, "left-thing", "1.2.3")
        right = pi.make_npm_tarball(w, "@scope/right", "0.0.1")
        yield pi.build_image(
            w,
            "packages",
            [
                ("host dpkg database", pi.host_dpkg),
                ("dpkg -i ls-hello 1.0 ls-gone 0.1", lambda r: pi.dpkg_in(r, "-i", str(deb1), str(gone))),
                (
                    "dpkg -i ls-hello 2.0 && dpkg -r ls-gone",
                    lambda r: (pi.dpkg_in(r, "-i", str(deb2)), pi.dpkg_in(r, "-r", "ls-gone")),
                ),
                ("host Debian Python metadata", pi.host_python_metadata),
                ("pip install --root alpha-pkg 1.0 Beta.Thing", lambda r: pi.pip_install(r, alpha1, beta)),
                ("venv: pip install alpha-pkg 1.0", lambda r: pi.venv_install(r, alpha1)),
                (
                    "venv: pip install --upgrade alpha-pkg 2.0",
                    lambda r: pi.venv_install(r, alpha2, upgrade=True),
                ),
                ("npm install --prefix /srv/app", lambda r: pi.npm_install(r, "srv/app", left, right)),
            ],
        )


@pytest.fixture(scope="session")
def loaded(built: pi.Built) -> Iterator[LoadedImage]:
    with open_archive(built.archive) as a:
        yield load(a, a.images[0])


@pytest.fixture(scope="session")
def history(loaded: LoadedImage) -> PackageHistory:
    return package_history(loaded)


def _of(packages: list, eco: Ecosystem) -> dict[str, str]:  # type: ignore[type-arg]
    return {p.name: p.version for p in packages if p.ecosystem is eco}


def test_every_layer_matches_dpkg_query(built, history):
    for n, root in enumerate(built.roots):
        assert _of(history.at(n), Ecosystem.DEB) == pi.dpkg_query(root), f"layer {n}: {built.steps[n]}"
    assert len(_of(history.packages, Ecosystem.DEB)) > 100  # the host's real database


def test_dpkg_layers_sizes_and_files(built, history):
    by_name = {p.name: p for p in history.packages if p.ecosystem is Ecosystem.DEB}
    hello = by_name["ls-hello"]
    assert (hello.version, hello.layer) == ("2.0", 2)
    assert hello.size == 1024  # Installed-Size 1 (KiB)
    listed = pi.run([need_tool("dpkg-query"), f"--admindir={built.roots[-1]}/var/lib/dpkg", "-L", "ls-hello"])
    files = {p.strip("/") for p in listed.splitlines() if (built.roots[-1] / p.strip("/")).is_file()}
    assert set(hello.files) == files == {"usr/share/ls-hello/a.txt", "usr/share/ls-hello/b.txt"}
    assert history.owner_of("/usr/share/ls-hello/b.txt") == hello
    assert "ls-gone" not in by_name
    assert all(p.layer == 0 for p in by_name.values() if not p.name.startswith("ls-"))
    l1, l2 = history.layers[1], history.layers[2]
    assert sorted(p.name for p in l1.added) == ["ls-gone", "ls-hello"]
    assert [(u.before.version, u.after.version) for u in l2.changed] == [("1.0", "2.0")]
    assert [p.name for p in l2.removed] == ["ls-gone"]
    assert l2.summary() == "~1 deb, -1 deb"


def _python_at(history: PackageHistory, layer: int, site: str) -> dict[str, str]:
    return {
        normalise(p.name): p.version
        for p in history.at(layer)
        if p.ecosystem is Ecosystem.PYTHON and p.key.rsplit("/", 1)[0] == site
    }


def test_every_layer_matches_pip_list(built, history):
    for n, root in enumerate(built.roots):
        for site in SITES:
            want = pi.pip_list(root / site) if (root / site).is_dir() else {}
            assert _python_at(history, n, site) == want, f"layer {n} {site}"
    assert len(_python_at(history, len(built.roots) - 1, pi.PY_SITE)) > 5  # Debian's egg-info and dist-info


def test_python_upgrade_record_and_layers(built, history):
    venv = [p for p in history.packages if p.ecosystem is Ecosystem.PYTHON and p.key.startswith(pi.VENV_SITE)]
    (alpha,) = venv
    assert (alpha.name, alpha.version, alpha.layer) == ("alpha-pkg", "2.0", 6)
    assert f"{pi.VENV_SITE}/alpha/more.py" in alpha.files
    assert alpha.size is not None and alpha.size > 0
    (u,) = history.layers[6].changed
    assert (u.before.version, u.after.version) == ("1.0", "2.0")
    root_pip = {p.name: p.layer for p in history.packages if p.key.startswith(pi.PIP_SITE)}
    assert root_pip == {"alpha-pkg": 4, "Beta.Thing": 4}


def test_npm_matches_npm_ls(built, history):
    prefix = built.roots[-1] / "srv/app"
    want = {f"srv/app/{k}": v for k, v in pi.npm_ls(prefix).items()}
    got = {p.key: p.version for p in history.packages if p.ecosystem is Ecosystem.NPM}
    assert got == want and len(got) == 2
    assert {p.layer for p in history.packages if p.ecosystem is Ecosystem.NPM} == {7}


def test_os_identity_is_the_images_os_release(history):
    want = parse_os_release(Path("/usr/lib/os-release").read_text())
    assert history.os is not None
    assert (history.os.id, history.os.version_id, history.os.pretty_name) == (
        want.get("ID"),
        want.get("VERSION_ID"),
        want.get("PRETTY_NAME"),
    )
    assert history.os.source == "etc/os-release"  # through its symlink to usr/lib/os-release


def test_databases_are_read_only_in_layers_that_changed_them(loaded, monkeypatch):
    calls: list[set[str]] = []
    real = DpkgCatalog.update

    def counting(self, changed, files, reader):  # type: ignore[no-untyped-def]
        calls.append(changed)
        return real(self, changed, files, reader)

    monkeypatch.setattr(DpkgCatalog, "update", counting)
    package_history(loaded)
    assert len(calls) == 3  # layers 0, 1, 2: the later layers leave dpkg's files alone


def test_upto_layer_and_cli_json(built, history):
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["packages", str(built.archive), "--json", "--layer", "1"]) == 0
    doc = json.loads(out.getvalue())
    assert set(doc) >= {"os", "packages", "layers"}
    assert set(doc["os"]) == {"id", "version_id", "pretty_name"}
    assert len(doc["layers"]) == 2
    hello = [p for p in doc["packages"] if p["name"] == "ls-hello"]
    assert hello == [{"ecosystem": "deb", "name": "ls-hello", "version": "1.0", "layer": 1, "size": 1024}]
    assert set(doc["layers"][1]) == {"layer", "added", "removed", "changed"}
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["packages", str(built.archive), "--json"]) == 0
    doc = json.loads(out.getvalue())
    assert {"ecosystem": "deb", "name": "ls-hello", "from": "1.0", "to": "2.0"} in doc["layers"][2]["changed"]
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["packages", str(built.archive)]) == 0
    assert "layer 2: ~1 deb, -1 deb" in out.getvalue()
