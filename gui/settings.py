"""Every persistent setting, declared once with its type and default (QSettings underneath)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    key: str
    default: T

    def get(self) -> T:
        v: Any = _store().value(self.key, self.default)
        if isinstance(self.default, list):
            if v is None:
                return list(self.default)  # type: ignore[return-value]
            return list(v) if isinstance(v, (list, tuple)) else [v]  # type: ignore[return-value]
        if isinstance(self.default, bool):
            return (v in (True, "true", "1", 1)) if not isinstance(v, bool) else v  # type: ignore[return-value]
        return v  # type: ignore[no-any-return]

    def set(self, value: T) -> None:
        _store().setValue(self.key, value)


def _store() -> QSettings:
    # tests point LAYERSCOPE_SETTINGS at a temporary file so they never touch the user's settings
    path = os.environ.get("LAYERSCOPE_SETTINGS")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("LayerScope", "LayerScope")


RECENT_FILES: Setting[list[str]] = Setting("files/recent", [])
WINDOW_GEOMETRY: Setting[QByteArray | None] = Setting("window/geometry", None)
SPLITTER_STATE: Setting[QByteArray | None] = Setting("window/splitter", None)  # timeline | tree
PANELS_STATE: Setting[QByteArray | None] = Setting("window/panels", None)  # top | tabs
MAX_RECENT = 10


def recent_files() -> list[str]:
    """Recent files that still exist (missing ones are pruned from the setting)."""
    files = [f for f in RECENT_FILES.get() if f]
    alive = [f for f in files if os.path.exists(f)]
    if alive != files:
        RECENT_FILES.set(alive)
    return alive


def add_recent(path: str) -> None:
    path = os.path.abspath(path)
    files = [f for f in RECENT_FILES.get() if f and f != path]
    RECENT_FILES.set([path, *files][:MAX_RECENT])
