"""Desktop integration for the current user: ``layerscope install-desktop`` and ``uninstall-desktop``.

Install copies three bundled trees into the XDG data folder ($XDG_DATA_HOME, else ~/.local/share),
each to the same path it has under resources/:

    applications/layerscope.desktop   the entry (Exec= rewritten to this installation's launcher)
    mime/packages/layerscope.xml      the MIME types of docker and OCI image archives
    icons/hicolor/...                 the application icon, every size (names: gui/icons.py)

then refreshes the caches (update-mime-database, update-desktop-database, gtk-update-icon-cache)
and makes LayerScope the default application for its own types with ``xdg-mime default`` (with
``--default-for-tar`` also for tars). Uninstall removes exactly those files, takes LayerScope out
of mimeapps.list again (a default it displaced comes back), refreshes or removes the caches and
removes the folders it leaves empty. Both print one line per file or command and may be run again.

No Qt here: these subcommands run without a display.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from importlib.abc import Traversable
from pathlib import Path

from layerscope.core.resources import resource

DESKTOP_ID = "layerscope.desktop"
DESKTOP_FILE = f"applications/{DESKTOP_ID}"
MIME_PACKAGE = "mime/packages/layerscope.xml"
ICON_THEME = "icons/hicolor"
"""Resource paths, which are also the paths under the XDG data folder."""

TAR_TYPES = ("application/x-tar", "application/x-compressed-tar", "application/x-zstd-compressed-tar")
"""What ``--default-for-tar`` adds: tars, compressed or not (never plain gzip or zstd files)."""

MIME_DB_FILES = (
    "XMLnamespaces",
    "aliases",
    "generic-icons",
    "globs",
    "globs2",
    "icons",
    "magic",
    "mime.cache",
    "subclasses",
    "treemagic",
    "types",
    "version",
)
"""What update-mime-database generates beside packages/ (removed when no package is left)."""

_MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
_DEFAULTS = "Default Applications"
_ADDED = "Added Associations"

Out = Callable[[str], None]


# ---- where things go ------------------------------------------------------------------------------
def _xdg_dir(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "")
    if value and os.path.isabs(value):  # the spec: relative values are invalid and ignored
        return Path(value)
    return Path.home() / fallback


def data_home() -> Path:
    """$XDG_DATA_HOME, else ~/.local/share."""
    return _xdg_dir("XDG_DATA_HOME", ".local/share")


def config_home() -> Path:
    """$XDG_CONFIG_HOME, else ~/.config (where ``xdg-mime default`` writes mimeapps.list)."""
    return _xdg_dir("XDG_CONFIG_HOME", ".config")


def _walk(node: Traversable, prefix: str) -> Iterator[str]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        name = f"{prefix}/{child.name}"
        if child.is_dir():
            yield from _walk(child, name)
        elif child.is_file():
            yield name


def bundled_files() -> list[str]:
    """Resource names of every file install-desktop writes (also their paths under data_home())."""
    return [DESKTOP_FILE, MIME_PACKAGE, *_walk(resource(ICON_THEME), ICON_THEME)]


def our_mime_types() -> list[str]:
    """The types the bundled MIME package defines."""
    root = ET.fromstring(resource(MIME_PACKAGE).read_bytes())
    return [t.attrib["type"] for t in root.iter(f"{_MIME_NS}mime-type")]


# ---- the Exec line --------------------------------------------------------------------------------
def launcher_command() -> list[str]:
    """The command that starts this installation of LayerScope, with absolute paths.

    The running ``layerscope`` script (sys.argv[0]) first, then the one beside this interpreter
    (a venv's bin/), then the first on PATH; failing all, ``python -m layerscope.gui.launcher``.
    """
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 and Path(argv0).name == "layerscope" and Path(argv0).is_file():
        return [str(Path(argv0).resolve())]
    beside = Path(sys.executable).parent / "layerscope"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside.absolute())]
    found = shutil.which("layerscope")
    if found:
        return [str(Path(found).resolve())]
    return [str(Path(sys.executable).absolute()), "-m", "layerscope.gui.launcher"]


_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def _string_escape(value: str) -> str:
    """The desktop entry escapes of a string value."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def exec_value(argv: list[str]) -> str:
    """An ``Exec=`` value running ``argv`` with the files (%F), quoted as the desktop entry spec says:
    an argument with a reserved character goes in double quotes with ``" ` $ \\`` backslashed,
    ``%`` is doubled, then the string escapes apply on top (so a literal backslash becomes four)."""
    parts = []
    for a in argv:
        a = a.replace("%", "%%")
        if any(c in _RESERVED for c in a):
            a = '"' + re.sub(r'(["`$\\])', r"\\\1", a) + '"'
        parts.append(_string_escape(a))
    return " ".join([*parts, "%F"])


def desktop_entry(argv: list[str]) -> str:
    """The bundled entry with Exec= running ``argv`` and TryExec= naming its program (a menu hides
    the entry, rather than showing a broken one, once that program is gone)."""
    out = []
    for line in resource(DESKTOP_FILE).read_text(encoding="utf-8").splitlines():
        if line.startswith("TryExec="):
            continue
        if line.startswith("Exec="):
            out.append(f"Exec={exec_value(argv)}")
            out.append(f"TryExec={_string_escape(argv[0])}")
            continue
        out.append(line)
    return "\n".join(out) + "\n"


# ---- small helpers ---------------------------------------------------------------------------------
def _write(dest: Path, data: bytes, out: Out) -> None:
    if dest.is_file() and dest.read_bytes() == data:
        out(f"unchanged {dest}")
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    os.replace(tmp, dest)
    out(f"wrote {dest}")


def _run(argv: list[str], out: Out) -> bool:
    """Run a desktop tool; one line says what happened. False when it is missing or failed."""
    if shutil.which(argv[0]) is None:
        out(f"skipped {argv[0]} (not installed)")
        return False
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        out(f"failed {shlex.join(argv)}: {exc}")
        return False
    if r.returncode != 0:
        why = (r.stderr.strip() or r.stdout.strip()).splitlines()
        out(f"failed {shlex.join(argv)} (exit {r.returncode}{': ' + why[0] if why else ''})")
        return False
    out(f"ran {shlex.join(argv)}")
    return True


def _prune(folder: Path, stop: Path) -> int:
    """Remove ``folder`` and its parents up to (not including) ``stop`` while they are empty;
    returns how many were removed."""
    n = 0
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            break
        n += 1
        folder = folder.parent
    return n


def _icon_cache(theme: Path, out: Out) -> None:
    """Refresh the per-user icon cache, where one is kept: gtk-update-icon-cache refuses a theme
    folder without index.theme, and a missing cache costs nothing (GTK then reads the folders)."""
    if (theme / "index.theme").is_file():
        _run(["gtk-update-icon-cache", "-f", "-q", str(theme)], out)
    elif (theme / "icon-theme.cache").is_file():
        _run(["gtk-update-icon-cache", "-f", "-q", "-t", str(theme)], out)
    else:
        out(f"skipped gtk-update-icon-cache ({theme} keeps no icon cache)")


# ---- mimeapps.list ---------------------------------------------------------------------------------
def _entries(value: str) -> list[str]:
    return [e for e in value.strip().split(";") if e]


def read_defaults(path: Path) -> dict[str, str]:
    """The [Default Applications] group of a mimeapps.list (empty when there is none)."""
    found: dict[str, str] = {}
    group = ""
    if not path.is_file():
        return found
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        s = line.strip()
        if s.startswith("["):
            group = s.strip("[]")
        elif group == _DEFAULTS and "=" in s and not s.startswith("#"):
            k, v = s.split("=", 1)
            found.setdefault(k.strip(), v.strip())
    return found


def edit_mimeapps(path: Path, edit: Callable[[str, str, str], str | None]) -> int:
    """Rewrite the ``key=value`` lines of a mimeapps.list through ``edit(group, key, value)`` (None
    drops the line); returns how many lines changed. Comments, other lines and order are kept."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    group = ""
    changed = 0
    kept = []
    for line in lines:
        s = line.strip()
        if s.startswith("["):
            group = s.strip("[]")
        elif "=" in s and not s.startswith("#"):
            k, v = s.split("=", 1)
            new = edit(group, k.strip(), v.strip())
            if new is None:
                changed += 1
                continue
            if new != v.strip():
                changed += 1
                line = f"{k.strip()}={new}"
        kept.append(line)
    if changed:
        path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return changed


def _has_entries(path: Path) -> bool:
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        s = line.strip()
        if s and not s.startswith(("#", "[")):
            return True
    return False


def _set_defaults(types: list[str], out: Out) -> None:
    """``xdg-mime default layerscope.desktop TYPES``, then put back after LayerScope whatever was the
    default before (mimeapps.list allows a list: the first installed one wins), so that uninstalling
    restores it."""
    mimeapps = config_home() / "mimeapps.list"
    before = read_defaults(mimeapps)
    if not _run(["xdg-mime", "default", DESKTOP_ID, *types], out):
        return
    rest = {t: [e for e in _entries(before.get(t, "")) if e != DESKTOP_ID] for t in types}
    if any(rest.values()) and mimeapps.is_file():

        def keep_previous(group: str, key: str, value: str) -> str | None:
            if group == _DEFAULTS and rest.get(key):
                return ";".join([DESKTOP_ID, *rest[key]]) + ";"
            return value

        if edit_mimeapps(mimeapps, keep_previous):
            kept = ", ".join(f"{t}: {';'.join(rest[t])}" for t in types if rest[t])
            out(f"edited {mimeapps} (previous defaults kept after LayerScope: {kept})")


def _unset_defaults(out: Out) -> None:
    """Take layerscope.desktop out of every mimeapps.list the install (through xdg-mime) may have
    touched; a file left without entries is removed."""
    for mimeapps in (config_home() / "mimeapps.list", data_home() / "applications" / "mimeapps.list"):
        if not mimeapps.is_file():
            continue

        def drop_ours(group: str, key: str, value: str) -> str | None:
            if group not in (_DEFAULTS, _ADDED) or DESKTOP_ID not in _entries(value):
                return value
            rest = [e for e in _entries(value) if e != DESKTOP_ID]
            return ";".join(rest) + ";" if rest else None

        n = edit_mimeapps(mimeapps, drop_ours)
        if n and not _has_entries(mimeapps):
            mimeapps.unlink()
            out(f"removed {mimeapps} (no entries left)")
        elif n:
            out(f"edited {mimeapps} ({DESKTOP_ID} taken out of {n} entries)")


# ---- install and uninstall -------------------------------------------------------------------------
def install(default_for_tar: bool = False, out: Out = print) -> int:
    """Install the entry, the MIME package and the icons for the current user; 0 on success."""
    home = data_home()
    argv = launcher_command()
    for name in bundled_files():
        dest = home / name
        if name == DESKTOP_FILE:
            _write(dest, desktop_entry(argv).encode("utf-8"), out)
        else:
            _write(dest, resource(name).read_bytes(), out)
    status = 0
    mime = home / "mime"
    _run(["update-mime-database", str(mime)], out)
    types = our_mime_types()
    if shutil.which("update-mime-database") and not _types_registered(mime, types):
        out(f"error: {mime} does not list {', '.join(types)} after update-mime-database")
        status = 1
    _run(["update-desktop-database", "-q", str(home / "applications")], out)
    _icon_cache(home / ICON_THEME, out)
    _set_defaults(types + (list(TAR_TYPES) if default_for_tar else []), out)
    return status


def _types_registered(mime: Path, types: list[str]) -> bool:
    try:
        listed = set((mime / "types").read_text(encoding="utf-8").split())
    except OSError:
        return False
    return all(t in listed for t in types)


def uninstall(out: Out = print) -> int:
    """Remove what install() wrote and refresh the caches; 0 on success (also when nothing was there)."""
    home = data_home()
    removed = 0
    for name in bundled_files():
        dest = home / name
        if dest.is_file() or dest.is_symlink():
            dest.unlink()
            out(f"removed {dest}")
            removed += 1
    if not removed:
        out(f"nothing of LayerScope's in {home}")
    _unset_defaults(out)

    mime = home / "mime"
    if mime.is_dir():
        # regenerating also drops the per-type files generated from our package
        _run(["update-mime-database", str(mime)], out)
        if not any((mime / "packages").glob("*.xml")):
            # no package left: the generated database describes nothing (install made it)
            for f in MIME_DB_FILES:
                if (mime / f).is_file():
                    (mime / f).unlink()
            out(f"removed the empty MIME database in {mime} (no package left)")

    apps = home / "applications"
    if apps.is_dir() and any(apps.rglob("*.desktop")):
        _run(["update-desktop-database", "-q", str(apps)], out)
    elif (apps / "mimeinfo.cache").is_file():
        (apps / "mimeinfo.cache").unlink()
        out(f"removed {apps / 'mimeinfo.cache'} (no entry left)")

    theme = home / ICON_THEME
    folders = {(home / name).parent for name in bundled_files()}
    if mime.is_dir():
        folders |= {d for d in mime.iterdir() if d.is_dir()}
    pruned = sum(_prune(d, home) for d in sorted(folders, key=lambda d: -len(d.parts)))
    if pruned:
        out(f"removed {pruned} empty folder(s) under {home}")
    if theme.is_dir():
        _icon_cache(theme, out)
    return 0
