"""The one vocabulary for progress reports and cancellation across the engine.

Long steps take ``progress`` and ``cancelled`` keyword arguments of these types; none of them
knows who listens (the CLI prints nothing, the GUI posts to its thread).
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import Cancelled

CancelCheck = Callable[[], bool]
"""Returns True once the user asked to stop; checked between steps."""
StageProgress = Callable[[str, int, int], None]
"""(stage in the user's words, done, total) for a whole job such as a load."""
CountProgress = Callable[[int, int], None]
"""(done, total) of one step such as an export."""
BytesProgress = Callable[[int], None]
"""Bytes of one stream read so far."""


PAUSE_EVERY = 4096
"""Items a long loop handles between two ``pause_point`` calls (a few milliseconds at most)."""

_pause: Callable[[], None] | None = None


def set_pause_point(pause: Callable[[], None] | None) -> None:
    """What ``pause_point`` calls from now on: the window's workers give way to its GUI thread there
    (gui/worker.py); nothing is installed in the CLI."""
    global _pause
    _pause = pause


def pause_point() -> None:
    """Called by the engine's long loops every PAUSE_EVERY items, where no cancel check is at hand:
    a moment this thread may leave the interpreter lock to another (the window's GUI thread)."""
    pause = _pause
    if pause is not None:
        pause()


def check_cancelled(cancelled: CancelCheck | None) -> None:
    """Raise Cancelled when ``cancelled`` says so; nothing when it is None."""
    if cancelled is not None and cancelled():
        raise Cancelled()
