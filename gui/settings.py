"""Every persistent setting, declared once with its type and default (QSettings underneath)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from layerscope.core.sources.reference import parse_reference

T = TypeVar("T")


def as_list(v: Any) -> list[str]:
    """A list as QSettings hands it back: an INI file stores a one-item list as a plain string."""
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


def as_bool(v: Any) -> bool:
    """A flag as QSettings hands it back: an INI file stores it as the string ``true``."""
    return v if isinstance(v, bool) else v in (True, "true", "1", 1)


def as_bytes(v: Any) -> QByteArray | None:
    """Saved geometry or splitter state; None when there is none (or the file holds something else)."""
    return v if isinstance(v, QByteArray) else None


@dataclass(frozen=True)
class Setting(Generic[T]):
    key: str
    default: T
    convert: Callable[[Any], T]
    """Turns what QSettings returns (types are lost in an INI file) into a T."""

    def get(self) -> T:
        return self.convert(_store().value(self.key, self.default))

    def set(self, value: T) -> None:
        _store().setValue(self.key, value)


def _store() -> QSettings:
    # tests point LAYERSCOPE_SETTINGS at a temporary file so they never touch the user's settings
    path = os.environ.get("LAYERSCOPE_SETTINGS")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("LayerScope", "LayerScope")


RECENT_FILES: Setting[list[str]] = Setting("files/recent", [], as_list)  # files and references
WINDOW_GEOMETRY: Setting[QByteArray | None] = Setting("window/geometry", None, as_bytes)
SPLITTER_STATE: Setting[QByteArray | None] = Setting("window/splitter", None, as_bytes)  # timeline | tree
PANELS_STATE: Setting[QByteArray | None] = Setting("window/panels", None, as_bytes)  # top | tabs
CACHE_MAX: Setting[str] = Setting("cache/max_size", "", str)
"""The persistent cache's size limit, e.g. ``2G`` (core.cache.settings.parse_size); empty: the
LAYERSCOPE_CACHE_MAX variable, else 2 GiB. Applied with core.cache.settings.set_max_size."""
THEMES = ("system", "light", "dark")


def as_theme(v: Any) -> str:
    """The theme choice: "system" (follow the desktop), "light" or "dark"; anything else is "system"."""
    return v if v in THEMES else "system"


THEME: Setting[str] = Setting("view/theme", "system", as_theme)
LEGEND_VISIBLE: Setting[bool] = Setting("view/legend", True, as_bool)
TREE_HIDDEN_COLUMNS: Setting[list[str]] = Setting("tree/hidden_columns", [], as_list)  # by header title
MAX_RECENT = 10


def recent_files() -> list[str]:
    """Recent files that still exist (missing ones are pruned from the setting) and recent references
    (``docker://...``, ``docker-daemon:...``, ``podman:...``), newest first."""
    entries = [f for f in RECENT_FILES.get() if f]
    alive = [f for f in entries if not parse_reference(f).kind.is_file or os.path.exists(f)]
    if alive != entries:
        RECENT_FILES.set(alive)
    return alive


def recent_references() -> list[str]:
    """The recent entries that are references to engines or registries (the Open dialogs' completion)."""
    return [f for f in recent_files() if not parse_reference(f).kind.is_file]


def add_recent(entry: str) -> None:
    """Put a file (made absolute) or a reference first in the recent list."""
    if parse_reference(entry).kind.is_file:
        entry = os.path.abspath(entry)
    entries = [f for f in RECENT_FILES.get() if f and f != entry]
    RECENT_FILES.set([entry, *entries][:MAX_RECENT])
