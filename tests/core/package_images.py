"""Images whose package databases real tools wrote, for tests/core/test_packages*.py.

Each image is built once per test session: a rootfs folder changed step by step by the real tool
(dpkg, pip, npm, rpm), each step packed as one layer by ``umoci repack`` (as
../shared/corpus/build-corpus.sh does), the layout copied to a docker-archive by skopeo. The rootfs
of every step is kept, so that a test can ask the tool itself what it sees there
(``dpkg-query --admindir``, ``pip list --path``, ``npm ls --prefix``, ``rpm --root -qa``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import need_tool

CREATED = "2024-01-02T03:04:05Z"
PY_SITE = "usr/lib/python3/dist-packages"
PIP_SITE = "usr/local/lib/python3.11/site-packages"


@dataclass
class Built:
    """An image archive and a copy of its rootfs after each layer."""

    archive: Path
    roots: list[Path] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


def run(cmd: list[str], **kw: object) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload]
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    out: str = r.stdout
    return out


def build_image(work: Path, name: str, steps: list[tuple[str, Callable[[Path], None]]]) -> Built:
    """Apply each step to a fresh rootfs and pack it as one layer with umoci; a docker-archive."""
    umoci, skopeo = need_tool("umoci"), need_tool("skopeo")
    layout, bundle = work / f"{name}.oci", work / f"{name}.bundle"
    run([umoci, "init", "--layout", str(layout)])
    run([umoci, "new", "--image", f"{layout}:t"])
    run([umoci, "config", "--image", f"{layout}:t", "--no-history", "--created", CREATED, "--os", "linux",
         "--architecture", "amd64"])  # fmt: skip
    run([umoci, "unpack", "--image", f"{layout}:t", str(bundle)])
    root = bundle / "rootfs"
    built = Built(work / f"{name}.docker.tar")
    for n, (label, step) in enumerate(steps):
        step(root)
        run([umoci, "repack", "--refresh-bundle", "--image", f"{layout}:t", "--history.created", CREATED,
             "--history.created_by", label, str(bundle)])  # fmt: skip
        keep = work / f"{name}.root{n}"
        shutil.copytree(root, keep, symlinks=True)
        built.roots.append(keep)
        built.steps.append(label)
    run([skopeo, "copy", "-q", f"oci:{layout}:t", f"docker-archive:{built.archive}:corpus/{name}:1"])
    return built


# ---- dpkg -------------------------------------------------------------------------------------------


def host_dpkg(root: Path) -> None:
    """The host's own dpkg database (status and the .list files, written by its dpkg and apt) and its
    os-release: a real Debian database of hundreds of packages."""
    admin = root / "var/lib/dpkg"
    (admin / "info").mkdir(parents=True, exist_ok=True)
    (admin / "updates").mkdir(exist_ok=True)
    shutil.copy2("/var/lib/dpkg/status", admin / "status")
    (admin / "available").touch()
    for f in Path("/var/lib/dpkg/info").glob("*.list"):
        shutil.copy2(f, admin / "info" / f.name)
    (root / "etc").mkdir(exist_ok=True)
    (root / "usr/lib").mkdir(parents=True, exist_ok=True)
    shutil.copy2("/usr/lib/os-release", root / "usr/lib/os-release")
    os.symlink("../usr/lib/os-release", root / "etc/os-release")


def make_deb(work: Path, name: str, version: str, payload: dict[str, bytes]) -> Path:
    """A tiny .deb built by dpkg-deb."""
    src = work / f"deb-{name}-{version}"
    (src / "DEBIAN").mkdir(parents=True)
    for rel, data in payload.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (src / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: t <t@example.org>\n"
        f"Installed-Size: {max(1, sum(len(d) for d in payload.values()) // 1024)}\nDescription: test\n"
    )
    out = work / f"{name}_{version}_all.deb"
    run([need_tool("dpkg-deb"), "--root-owner-group", "-Zgzip", "--build", str(src), str(out)])
    return out


def dpkg_in(root: Path, *args: str) -> None:
    """Real dpkg acting on the rootfs (no chroot: the test packages have no maintainer scripts)."""
    run([need_tool("dpkg"), f"--admindir={root}/var/lib/dpkg", f"--instdir={root}", "--force-not-root",
         "--force-script-chrootless", "--force-depends", "--log=/dev/null", *args])  # fmt: skip


def dpkg_query(root: Path) -> dict[str, str]:
    """name -> version of the installed packages, as dpkg-query reads the rootfs's database."""
    out = run([need_tool("dpkg-query"), f"--admindir={root}/var/lib/dpkg", "-W", "-f",
               "${Package}\t${Version}\t${db:Status-Status}\n"])  # fmt: skip
    got = {}
    for line in out.splitlines():
        name, version, status = line.split("\t")
        if status not in ("not-installed", "config-files"):
            got[name] = version
    return got


# ---- pip --------------------------------------------------------------------------------------------


def make_wheel(work: Path, name: str, version: str, modules: dict[str, bytes]) -> Path:
    """A pure-Python wheel (the format's three metadata files around the modules): pip installs it."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {**modules}
    files[f"{dist}.dist-info/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{dist}.dist-info/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = io.StringIO()
    for rel, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{rel},sha256={digest},{len(data)}\n")
    record.write(f"{dist}.dist-info/RECORD,,\n")
    files[f"{dist}.dist-info/RECORD"] = record.getvalue().encode()
    out = work / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w") as z:
        for rel, data in files.items():
            z.writestr(rel, data)
    return out


def pip_install(root: Path, *wheels: Path) -> None:
    """Real pip installing into the rootfs, under /usr/local (``--root`` and ``--prefix``)."""
    run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
         "--no-deps", "--no-compile", "--no-warn-script-location", "--root", str(root),
         "--prefix", "/usr/local", *map(str, wheels)])  # fmt: skip


VENV = "opt/venv"
VENV_SITE = f"{VENV}/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"


def venv_install(root: Path, *wheels: Path, upgrade: bool = False) -> None:
    """Real pip (``--python``) installing into a venv of the rootfs, made by ``python -m venv`` when
    absent; with ``upgrade``, pip uninstalls the older version first, as an upgrade does."""
    venv = root / VENV
    if not venv.exists():
        run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    run([sys.executable, "-m", "pip", "--python", str(venv / "bin/python"), "install", "-q",
         "--disable-pip-version-check", "--no-index", "--no-deps", "--no-compile",
         *(["--upgrade"] if upgrade else []), *map(str, wheels)])  # fmt: skip


def host_python_metadata(root: Path) -> None:
    """The dist-info and egg-info metadata of the host's Debian Python packages (written by Debian's
    packaging tools), without the code."""
    src = Path("/") / PY_SITE
    dst = root / PY_SITE
    dst.mkdir(parents=True, exist_ok=True)
    for d in src.iterdir():
        if d.name.endswith((".dist-info", ".egg-info")):
            if d.is_dir():
                shutil.copytree(d, dst / d.name, symlinks=True)
            else:
                shutil.copy2(d, dst / d.name)


def pip_list(site: Path) -> dict[str, str]:
    """name (normalised) -> version as ``pip list --path`` reports the folder."""
    import json

    out = run([sys.executable, "-m", "pip", "list", "--disable-pip-version-check", "--format", "json",
               "--path", str(site)])  # fmt: skip
    from layerscope.core.packages.python_dist import normalise

    return {normalise(d["name"]): d["version"] for d in json.loads(out)}


# ---- npm --------------------------------------------------------------------------------------------


def make_npm_tarball(work: Path, name: str, version: str, deps: dict[str, str] | None = None) -> Path:
    """A package tarball made by ``npm pack``."""
    import json

    src = work / f"npm-{name.replace('/', '_')}-{version}"
    src.mkdir(parents=True)
    doc: dict[str, object] = {"name": name, "version": version, "main": "index.js"}
    if deps:
        doc["dependencies"] = deps
    (src / "package.json").write_text(json.dumps(doc))
    (src / "index.js").write_text(f"module.exports = {version!r};\n")
    out = run([need_tool("npm"), "pack", "--silent", "--pack-destination", str(work), str(src)], cwd=work)
    return work / out.strip().splitlines()[-1]


def npm_install(root: Path, prefix: str, *tarballs: Path) -> None:
    """Real npm installing local tarballs under ``root/prefix`` (nothing fetched)."""
    (root / prefix).mkdir(parents=True, exist_ok=True)
    run([need_tool("npm"), "install", "--prefix", str(root / prefix), "--offline", "--no-audit", "--no-fund",
         "--no-package-lock", "--ignore-scripts", *map(str, tarballs)], cwd=root / prefix)  # fmt: skip


def npm_ls(prefix: Path) -> dict[str, str]:
    """folder (relative to the prefix) -> version of every package ``npm ls --all`` reports."""
    import json

    r = subprocess.run([need_tool("npm"), "ls", "--prefix", str(prefix), "--all", "--json", "--long"],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    doc = json.loads(r.stdout)
    got: dict[str, str] = {}

    def walk(deps: dict[str, dict[str, object]]) -> None:
        for _name, d in deps.items():
            path = d.get("path")
            if isinstance(path, str) and isinstance(d.get("version"), str):
                got[os.path.relpath(path, prefix)] = str(d["version"])
            sub = d.get("dependencies")
            if isinstance(sub, dict):
                walk(sub)

    walk(doc.get("dependencies", {}))
    return got


# ---- rpm --------------------------------------------------------------------------------------------


def make_rpm(work: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A tiny noarch RPM built by rpmbuild."""
    top = work / f"rpmbuild-{name}-{version}"
    for d in ("SPECS", "RPMS", "BUILD", "BUILDROOT", "SOURCES", "SRPMS"):
        (top / d).mkdir(parents=True, exist_ok=True)
    install = "\n".join(
        f"mkdir -p %{{buildroot}}/{os.path.dirname(p)} && printf %s {data.decode()!r} > %{{buildroot}}/{p}"
        for p, data in files.items()
    )
    listed = "\n".join(f"/{p}" for p in files)
    spec = top / "SPECS" / f"{name}.spec"
    spec.write_text(
        f"Name: {name}\nVersion: {version}\nRelease: 1\nSummary: test\nLicense: MIT\nBuildArch: noarch\n"
        f"%description\ntest\n%install\n{install}\n%files\n{listed}\n"
    )
    run([need_tool("rpmbuild"), "-bb", "--quiet", "--define", f"_topdir {top}",
         "--define", "_binary_payload w9.gzdio", "--define", "__os_install_post %{nil}",
         "--define", "debug_package %{nil}", str(spec)])  # fmt: skip
    (rpm,) = (top / "RPMS" / "noarch").glob(f"{name}-{version}-1*.rpm")
    return rpm


RPM_DBPATH = "/var/lib/rpm"


def rpm_in(root: Path, *args: str) -> None:
    """Real rpm acting on the rootfs's database (sqlite, Debian's rpm default backend)."""
    run([need_tool("rpm"), "--root", str(root), "--dbpath", RPM_DBPATH, *args])


def rpm_qa(root: Path) -> dict[str, str]:
    """name -> [epoch:]version-release as ``rpm --root -qa`` reports them."""
    out = run([need_tool("rpm"), "--root", str(root), "--dbpath", RPM_DBPATH, "-qa", "--qf",
               "%{NAME}\t%{EVR}\t%{SIZE}\n"])  # fmt: skip
    return {line.split("\t")[0]: line.split("\t")[1] for line in out.splitlines()}
