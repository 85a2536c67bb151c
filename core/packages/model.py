"""The values of the package view: a package, what one layer did to the packages, the whole story."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from .os_release import OsRelease


class Ecosystem(StrEnum):
    """Which package manager a package belongs to; the value is the word the CLI and JSON use."""

    DEB = "deb"
    APK = "apk"
    RPM = "rpm"
    PYTHON = "python"
    NPM = "npm"
    GO = "go"


class Found(NamedTuple):
    """A package as one database lists it at one layer, before the layer that installed it is known.

    ``key`` tells installations apart within the ecosystem (a name and architecture, a site folder
    and a name, a node_modules folder): the same key at two layers is the same installation, whose
    version may have changed.
    """

    key: str
    name: str
    version: str
    size: int | None
    files: tuple[str, ...]
    arch: str | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Package:
    """One installed package: which layer installed its current version, its size and its files.

    ``layer`` is the index of the lowest layer from which on the package has had this version.
    ``size`` is in bytes (dpkg's Installed-Size is KiB, times 1024), None when the database gives
    none. ``files`` are image paths (no leading ``/``) of the files the database says the package
    owns, folders left out; for npm, whose package.json lists no files, it is the package's folder.
    ``source`` is the database or folder it was read from; ``key`` tells installations of one name
    apart (e.g. two site-packages folders).
    """

    ecosystem: Ecosystem
    name: str
    version: str
    layer: int
    size: int | None
    files: tuple[str, ...] = ()
    arch: str | None = None
    source: str = ""
    key: str = ""


@dataclass(frozen=True, slots=True)
class Upgrade:
    """A package whose version a layer changed (up or down): the package before and after."""

    before: Package
    after: Package


@dataclass(frozen=True, slots=True)
class LayerPackages:
    """What one layer did to the packages: installed, removed, changed version."""

    layer: int
    added: tuple[Package, ...] = ()
    removed: tuple[Package, ...] = ()
    changed: tuple[Upgrade, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the layer changed no package."""
        return not (self.added or self.removed or self.changed)

    def summary(self) -> str:
        """A short line per ecosystem, e.g. ``+3 deb, ~1 deb, -1 python`` ("" when nothing changed)."""
        parts: list[str] = []
        for sign, items in (
            ("+", [p.ecosystem for p in self.added]),
            ("~", [u.after.ecosystem for u in self.changed]),
            ("-", [p.ecosystem for p in self.removed]),
        ):
            for eco in Ecosystem:
                n = items.count(eco)
                if n:
                    parts.append(f"{sign}{n} {eco}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class PackageHistory:
    """The packages of an image at its top layer (or the layer asked for), per-layer changes, the OS.

    ``packages`` are sorted by ecosystem and name; ``layers`` has one record per layer up to the top
    one read; ``unsupported`` names databases found but not read (BerkeleyDB and ndb RPM databases).
    """

    packages: tuple[Package, ...]
    layers: tuple[LayerPackages, ...]
    os: OsRelease | None
    warnings: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    _by_file: dict[str, Package] = field(default_factory=dict, repr=False, compare=False)

    def at(self, layer: int) -> list[Package]:
        """The packages installed after layer ``layer`` (replaying the per-layer changes)."""
        now: dict[tuple[Ecosystem, str], Package] = {}
        for lp in self.layers[: layer + 1]:
            for p in lp.removed:
                now.pop((p.ecosystem, p.key), None)
            for p in lp.added:
                now[(p.ecosystem, p.key)] = p
            for u in lp.changed:
                now[(u.after.ecosystem, u.after.key)] = u.after
        return sorted(now.values(), key=sort_key)

    def owner_of(self, path: str) -> Package | None:
        """The package whose file list names ``path`` (no leading ``/``), if any."""
        if not self._by_file:
            for p in self.packages:
                for f in p.files:
                    self._by_file.setdefault(f, p)
        return self._by_file.get(path.strip("/"))


def sort_key(p: Package) -> tuple[str, str, str]:
    """How package lists are ordered: ecosystem, name, then where they come from."""
    return (p.ecosystem.value, p.name.lower(), p.key)
