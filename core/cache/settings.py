"""Where the cache lives and how large it may grow: XDG_CACHE_HOME, LAYERSCOPE_CACHE_MAX, --no-cache."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

DEFAULT_MAX = 2 << 30
"""The cache's size limit unless LAYERSCOPE_CACHE_MAX says otherwise: 2 GiB."""
MAX_ENV = "LAYERSCOPE_CACHE_MAX"
"""A size (``2G``, ``500MB``, ``1.5GiB``, bytes); 0 turns the cache off."""

LOGGER = "layerscope.cache"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_state = {"enabled": True}
_limit: list[int | None] = [None]


def warn(message: str, *args: object) -> None:
    """Log a warning of the cache (logging is imported here, when a warning comes: most commands never
    warn; where it cannot be imported, e.g. in a chrooted process, the line goes to stderr)."""
    try:
        import logging
    except ImportError:
        print(message % args, file=sys.stderr)
        return
    logging.getLogger(LOGGER).warning(message, *args)


def parse_size(text: str) -> int:
    """Bytes of a size such as ``2G``, ``500MB``, ``1.5GiB`` or ``1048576``. Raises ValueError."""
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a size (e.g. 2G, 500MB, 1048576)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/layerscope, or ~/.cache/layerscope (XDG base directory spec)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "layerscope"


def set_max_size(limit: int | None) -> None:
    """Use ``limit`` bytes as the size limit in this process (the GUI's setting); None: the default."""
    _limit[0] = limit


def max_size() -> int:
    """The size limit in bytes: set_max_size's, else LAYERSCOPE_CACHE_MAX, else DEFAULT_MAX (a bad
    value warns once)."""
    if _limit[0] is not None:
        return _limit[0]
    text = os.environ.get(MAX_ENV)
    if text is None:
        return DEFAULT_MAX
    try:
        return parse_size(text)
    except ValueError as exc:
        if _state.setdefault("warned_max", False) is False:
            _state["warned_max"] = True
            warn("layerscope: %s=%s: %s; using %d bytes", MAX_ENV, text, exc, DEFAULT_MAX)
        return DEFAULT_MAX


def set_enabled(enabled: bool) -> None:
    """Use the cache in this process or not (``--no-cache``)."""
    _state["enabled"] = enabled


def enabled() -> bool:
    """Whether this process reads and writes the cache (not after ``--no-cache``, nor with a limit of 0)."""
    return bool(_state["enabled"]) and max_size() > 0
