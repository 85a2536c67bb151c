"""Desktop integration: the entry validates, install-desktop makes double-click work for docker and
OCI archives (as xdg-mime sees it), is idempotent, and uninstall-desktop leaves nothing behind.

xdg-mime is run with a clean environment and XDG_CURRENT_DESKTOP empty, so it takes its generic
backend: `mimetype` (libfile-mimeinfo-perl) for file types, which reads the user's MIME database
and checks magic of priority 80 before globs, as the shared-mime-info spec orders it;
`file --mime-type`, its fallback, knows nothing of per-user types. Defaults come from
$XDG_CONFIG_HOME/mimeapps.list.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerscope.core.resources import resource_path
from layerscope.gui import desktop
from tests.conftest import PEER, REAL, need_shared, need_tool

DOCKER_TYPE = "application/vnd.layerscope.docker-archive"
OCI_TYPE = "application/vnd.oci.image.layout.v1+tar"

NO_QT_INSTALL = (
    "import sys\n"
    "from layerscope.gui.launcher import main\n"
    "rc = main(sys.argv[1:])\n"
    "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt imported'\n"
    "sys.exit(rc)\n"
)


def desktop_env(home: Path) -> dict[str, str]:
    """A user with nothing installed: its own HOME and XDG folders, no desktop session."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_DIRS": "/usr/local/share:/usr/share",
        "XDG_CURRENT_DESKTOP": "",
        "LANG": "C.UTF-8",
    }


def layerscope(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``layerscope ARGS`` through the launcher, asserting that the subcommand never loads Qt."""
    r = subprocess.run(
        [sys.executable, "-c", NO_QT_INSTALL, *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def xdg_mime(env: dict[str, str], *args: str) -> str:
    r = subprocess.run(["xdg-mime", *args], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# ---- no tools needed ------------------------------------------------------------------------------
def test_bundled_files_and_types():
    names = desktop.bundled_files()
    assert names[:2] == [desktop.DESKTOP_FILE, desktop.MIME_PACKAGE]
    icons = [n for n in names if n.startswith("icons/hicolor/")]
    assert "icons/hicolor/scalable/apps/layerscope.svg" in icons
    for size in (16, 24, 32, 48, 64, 128, 256):
        assert f"icons/hicolor/{size}x{size}/apps/layerscope.png" in icons
    assert desktop.our_mime_types() == [DOCKER_TYPE, OCI_TYPE]
    with resource_path(desktop.DESKTOP_FILE) as p:
        text = p.read_text()
    mime_line = next(line for line in text.splitlines() if line.startswith("MimeType="))
    listed = mime_line.split("=", 1)[1].split(";")
    assert {
        DOCKER_TYPE,
        OCI_TYPE,
        "application/x-tar",
        "application/x-compressed-tar",
        "application/gzip",
    } <= set(listed)
    with resource_path(desktop.MIME_PACKAGE) as p:
        xml = p.read_text()
    assert 'pattern="*.tar"' not in xml  # plain tars are never claimed by name


def test_exec_line_quoting(monkeypatch):
    assert desktop.exec_value(["/opt/ls/bin/layerscope"]) == "/opt/ls/bin/layerscope %F"
    # a reserved character: double quotes, with " ` $ \ backslashed, then string-escaped (\ -> \\)
    assert desktop.exec_value(["/home/a b/$x/layerscope"]) == '"/home/a b/\\\\$x/layerscope" %F'
    assert desktop.exec_value(["/p/100%/layerscope"]) == "/p/100%%/layerscope %F"
    entry = desktop.desktop_entry(["/venv/bin/python", "-m", "layerscope.gui.launcher"])
    assert "\nExec=/venv/bin/python -m layerscope.gui.launcher %F\n" in entry
    assert "\nTryExec=/venv/bin/python\n" in entry


def test_launcher_command_is_the_running_script(monkeypatch, tmp_path):
    script = tmp_path / "venv" / "bin" / "layerscope"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["venv/bin/layerscope", "install-desktop"])
    assert desktop.launcher_command() == [str(script.resolve())]
    monkeypatch.setattr(sys, "argv", ["-c"])
    cmd = desktop.launcher_command()
    assert Path(cmd[0]).is_absolute()


def test_mimeapps_edit_keeps_everything_else(tmp_path):
    f = tmp_path / "mimeapps.list"
    f.write_text(
        "# mine\n[Added Associations]\ntext/plain=a.desktop;layerscope.desktop;\n\n"
        "[Default Applications]\napplication/x-tar=layerscope.desktop;b.desktop;\n"
        "image/png=c.desktop\n"
    )
    assert desktop.read_defaults(f)["application/x-tar"] == "layerscope.desktop;b.desktop;"

    def drop(group, key, value):
        if "layerscope.desktop" not in value:
            return value
        rest = [e for e in value.split(";") if e and e != "layerscope.desktop"]
        return ";".join(rest) + ";" if rest else None

    assert desktop.edit_mimeapps(f, drop) == 2
    assert f.read_text() == (
        "# mine\n[Added Associations]\ntext/plain=a.desktop;\n\n"
        "[Default Applications]\napplication/x-tar=b.desktop;\nimage/png=c.desktop\n"
    )


# ---- with the real tools --------------------------------------------------------------------------
@pytest.mark.realtool
def test_desktop_entry_validates():
    validate = need_tool("desktop-file-validate")
    with resource_path(desktop.DESKTOP_FILE) as p:
        r = subprocess.run([validate, str(p)], capture_output=True, text=True)
    assert (r.returncode, r.stdout + r.stderr) == (0, "")


@pytest.mark.realtool
def test_mime_package_compiles():
    umd = need_tool("update-mime-database")
    with resource_path(desktop.MIME_PACKAGE) as p:
        xml = p.read_bytes()
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        pkgs = Path(d) / "mime" / "packages"
        pkgs.mkdir(parents=True)
        (pkgs / "layerscope.xml").write_bytes(xml)
        r = subprocess.run([umd, str(pkgs.parent)], capture_output=True, text=True)
        assert r.returncode == 0 and "Failed" not in r.stderr, r.stderr
        types = (pkgs.parent / "types").read_text().split()
        assert DOCKER_TYPE in types and OCI_TYPE in types
        subclasses = (pkgs.parent / "subclasses").read_text()
        assert f"{DOCKER_TYPE} application/x-tar" in subclasses
        assert f"{OCI_TYPE} application/x-tar" in subclasses


@pytest.mark.realtool
def test_install_opens_archives_on_double_click_and_uninstall_leaves_nothing(tmp_path):
    need_shared()
    for tool in ("update-mime-database", "update-desktop-database", "xdg-mime", "desktop-file-validate"):
        need_tool(tool)
    need_tool("mimetype")  # xdg-mime's generic backend; without it xdg-mime falls back to `file`
    env = desktop_env(tmp_path)
    data = tmp_path / "data"

    out = layerscope(env, "install-desktop").stdout.splitlines()
    entry = data / "applications" / "layerscope.desktop"
    for name in desktop.bundled_files():
        assert f"wrote {data / name}" in out
    assert f"ran update-mime-database {data / 'mime'}" in out
    assert any(line.startswith("ran update-desktop-database") for line in out)
    assert any(
        line.startswith(f"ran xdg-mime default layerscope.desktop {DOCKER_TYPE} {OCI_TYPE}") for line in out
    )
    assert all(line.split()[0] in ("wrote", "ran", "skipped") for line in out), out  # no failure

    # the installed entry runs this installation's launcher, by absolute path, and still validates
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    program = exec_line.split("=", 1)[1].split()[0]
    assert Path(program).is_absolute() and os.access(program, os.X_OK), exec_line
    r = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert (r.returncode, r.stdout + r.stderr) == (0, "")

    # what a file manager using xdg-mime sees
    assert xdg_mime(env, "query", "filetype", str(REAL / "docker20-edge.save.tar")) == DOCKER_TYPE
    assert xdg_mime(env, "query", "filetype", str(REAL / "podman-multi.docker.tar")) == DOCKER_TYPE
    assert xdg_mime(env, "query", "filetype", str(REAL / "umoci-edge.oci.tar")) == OCI_TYPE
    plain = PEER / "regclient__regclient" / "testdata" / "layer.tar"
    assert xdg_mime(env, "query", "filetype", str(plain)) == "application/x-tar"
    assert xdg_mime(env, "query", "default", DOCKER_TYPE) == "layerscope.desktop"
    assert xdg_mime(env, "query", "default", OCI_TYPE) == "layerscope.desktop"
    # offered for tars (the user's mimeinfo.cache), not made their default (mimeapps.list)
    assert "application/x-tar=layerscope.desktop" in (data / "applications" / "mimeinfo.cache").read_text()
    assert set(desktop.read_defaults(tmp_path / "config" / "mimeapps.list")) == {DOCKER_TYPE, OCI_TYPE}

    # idempotent
    before = tree(data)
    again = layerscope(env, "install-desktop").stdout.splitlines()
    for name in desktop.bundled_files():
        assert f"unchanged {data / name}" in again
    assert not [line for line in again if line.startswith("wrote")]
    assert tree(data) == before

    out = layerscope(env, "uninstall-desktop").stdout.splitlines()
    for name in desktop.bundled_files():
        assert f"removed {data / name}" in out
    assert tree(data) == []  # caches of nothing and emptied folders went too
    assert tree(tmp_path / "config") == []  # mimeapps.list held only our defaults
    assert xdg_mime(env, "query", "filetype", str(REAL / "docker20-edge.save.tar")) == "application/x-tar"


@pytest.mark.realtool
def test_uninstall_keeps_other_applications_and_restores_tar_default(tmp_path):
    for tool in ("update-mime-database", "update-desktop-database", "xdg-mime"):
        need_tool(tool)
    env = desktop_env(tmp_path)
    data = tmp_path / "data"
    # another application, installed for this user, and a default the user chose for tars
    (data / "mime" / "packages").mkdir(parents=True)
    (data / "mime" / "packages" / "other.xml").write_text(
        '<?xml version="1.0"?>\n<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">'
        '<mime-type type="application/x-other-thing"><glob pattern="*.otherthing"/></mime-type></mime-info>\n'
    )
    (data / "applications").mkdir(parents=True)
    (data / "applications" / "other.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Other\nExec=true %f\nMimeType=application/x-other-thing;\n"
    )
    (tmp_path / "config").mkdir()
    mimeapps = tmp_path / "config" / "mimeapps.list"
    mimeapps.write_text("[Default Applications]\napplication/x-tar=other.desktop\n")

    layerscope(env, "install-desktop")
    assert xdg_mime(env, "query", "default", "application/x-tar") == "other.desktop"
    assert xdg_mime(env, "query", "default", DOCKER_TYPE) == "layerscope.desktop"

    out = layerscope(env, "install-desktop", "--default-for-tar").stdout
    assert "previous defaults kept after LayerScope: application/x-tar: other.desktop" in out
    defaults = desktop.read_defaults(mimeapps)
    assert defaults["application/x-tar"] == "layerscope.desktop;other.desktop;"
    assert defaults["application/x-compressed-tar"] == "layerscope.desktop"
    assert defaults[DOCKER_TYPE] == "layerscope.desktop"
    assert "application/gzip" not in defaults  # only tars, never every gzip file
    assert xdg_mime(env, "query", "default", "application/x-tar") == "layerscope.desktop"

    layerscope(env, "uninstall-desktop")
    assert desktop.read_defaults(mimeapps) == {"application/x-tar": "other.desktop;"}
    assert xdg_mime(env, "query", "default", "application/x-tar") == "other.desktop"
    left = tree(data)
    assert not [p for p in left if "layerscope" in p], left
    # the caches were regenerated: the other application's type and entry are still known, ours not
    types = (data / "mime" / "types").read_text().split()
    assert "application/x-other-thing" in types and DOCKER_TYPE not in types
    assert b"layerscope" not in (data / "mime" / "mime.cache").read_bytes()
    cache = (data / "applications" / "mimeinfo.cache").read_text()
    assert "other.desktop" in cache and "layerscope" not in cache
    assert "icons" not in left
