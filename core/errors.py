"""One exception hierarchy for everything the engine refuses.

Every error carries the file it concerns and says what is wrong in one line, so the CLI and the GUI
can show ``str(error)`` as is.
"""

from __future__ import annotations

import os


class LayerScopeError(Exception):
    """Base class: a problem with the user's input that LayerScope reports instead of crashing."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None) -> None:
        self.message = message
        self.path = os.fspath(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)


class NotAnImage(LayerScopeError):
    """The file is readable but holds no container image (e.g. a plain filesystem tar)."""


class UnsupportedFormat(LayerScopeError):
    """An image layout or media type LayerScope recognises but cannot read."""


class InvalidJSON(LayerScopeError):
    """A manifest, index or config is not valid JSON or lacks required fields."""


class MissingBlob(LayerScopeError):
    """A manifest names a blob that the archive does not contain."""


class CorruptArchive(LayerScopeError):
    """The archive or one of its layers is damaged: truncated, bad checksum, broken compression."""


class UnsafePath(LayerScopeError):
    """A path in the archive would escape the place it is written to."""


class Cancelled(LayerScopeError):
    """The user cancelled a long operation."""

    def __init__(self, message: str = "cancelled", path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message, path)


class ExportError(LayerScopeError):
    """An export could not be completed (destination exists, disk full, ...)."""


class LinkLoop(LayerScopeError):
    """Following links inside the image went round in a circle (or further than a system would go)."""
