"""Which operating system an image holds: ``/etc/os-release`` and the older release files after it.

os-release (freedesktop.org) is lines of ``KEY=value`` with shell quoting; ``/etc/os-release`` is
read first, then ``/usr/lib/os-release`` (the file it usually links to). Images without either say
it another way: ``/etc/lsb-release``, ``/etc/alpine-release``, ``/etc/debian_version`` (distroless
images without base-files), ``/etc/redhat-release``; a busybox image only by its ``/bin/busybox``,
whose banner names the version.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

OS_RELEASE_FILES = ("etc/os-release", "usr/lib/os-release")
MAX_RELEASE_BYTES = 64 << 10
"""Bytes of a release file read (real ones are under 1 KB)."""
MAX_BUSYBOX_SCAN = 4 << 20
"""Bytes of /bin/busybox searched for its version banner (a static busybox is about 1-2 MB)."""

_BUSYBOX = re.compile(rb"BusyBox v(\d+(?:\.\d+)+)")


@dataclass(frozen=True, slots=True)
class OsRelease:
    """The OS of an image: ``id`` (``debian``, ``alpine``, ...), ``version_id``, ``pretty_name``.

    ``source`` is the file it was read from; ``fields`` every key of an os-release file.
    """

    id: str | None
    version_id: str | None
    pretty_name: str | None
    source: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for a status bar: the pretty name, else id and version."""
        if self.pretty_name:
            return self.pretty_name
        return " ".join(p for p in (self.id, self.version_id) if p) or "unknown"


def parse_os_release(text: str) -> dict[str, str]:
    """The ``KEY=value`` pairs of an os-release file (shell quoting undone; bad lines skipped)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        key = key.strip()
        if not key.isidentifier():
            continue
        try:
            words = shlex.split(raw, posix=True)
        except ValueError:  # an unbalanced quote: take the text as it stands
            words = [raw.strip().strip("\"'")]
        out[key] = " ".join(words)
    return out


ReadFile = Callable[[str, int], bytes | None]
"""Reads an image path (symlinks followed) up to a number of bytes; None when there is no such file."""


def identify_os(read: ReadFile) -> OsRelease | None:
    """The OS that the image's files name, through ``read``; None when nothing names one."""
    for path in OS_RELEASE_FILES:
        raw = read(path, MAX_RELEASE_BYTES)
        if raw is not None:
            f = parse_os_release(raw.decode("utf-8", "replace"))
            if f:
                return OsRelease(f.get("ID"), f.get("VERSION_ID"), f.get("PRETTY_NAME"), path, f)
    raw = read("etc/lsb-release", MAX_RELEASE_BYTES)
    if raw is not None:
        f = parse_os_release(raw.decode("utf-8", "replace"))
        if f.get("DISTRIB_ID"):
            return OsRelease(
                f["DISTRIB_ID"].lower(),
                f.get("DISTRIB_RELEASE"),
                f.get("DISTRIB_DESCRIPTION"),
                "etc/lsb-release",
                f,
            )
    for path, os_id, name in (
        ("etc/alpine-release", "alpine", "Alpine Linux"),
        ("etc/debian_version", "debian", "Debian GNU/Linux"),
    ):
        raw = read(path, MAX_RELEASE_BYTES)
        if raw is not None:
            version = raw.decode("utf-8", "replace").strip().splitlines()[0:1]
            v = version[0].strip() if version else None
            return OsRelease(os_id, v, f"{name} {v}" if v else name, path)
    for path in ("etc/redhat-release", "etc/centos-release", "etc/fedora-release"):
        raw = read(path, MAX_RELEASE_BYTES)
        if raw is not None:
            line = raw.decode("utf-8", "replace").strip().split("\n", 1)[0].strip()
            m = re.search(r"release\s+(\S+)", line)
            word = line.split(" ", 1)[0].lower() if line else None
            return OsRelease(word, m.group(1) if m else None, line or None, path)
    raw = read("bin/busybox", MAX_BUSYBOX_SCAN)
    if raw is not None:
        banner = _BUSYBOX.search(raw)
        v = banner.group(1).decode() if banner else None
        return OsRelease("busybox", v, f"BusyBox {v}" if v else "BusyBox", "bin/busybox")
    return None
