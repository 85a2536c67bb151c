"""Open an archive and pick the image the user named; check the layer number they gave."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from ..archive.open import open_archive
from ..archive.records import Archive, ImageRecord
from ..errors import LayerScopeError


@contextlib.contextmanager
def open_image(
    path: str | os.PathLike[str], image: str | None = None, platform: str | None = None
) -> Iterator[tuple[Archive, ImageRecord]]:
    """The archive at ``path`` and its image chosen by tag or position and platform (the first when
    neither is given). Raises LayerScopeError (unreadable archive, no such image)."""
    with open_archive(path) as archive:
        yield archive, archive.select(image, platform)


def chosen_images(archive: Archive, image: str | None, platform: str | None) -> list[ImageRecord]:
    """The one image the user chose, or every image of the archive when they chose none.

    Raises LayerScopeError when the choice matches nothing or several images."""
    if image is None and platform is None:
        return list(archive.images)
    return [archive.select(image, platform)]


def check_layer(archive: Archive, image: ImageRecord, layer: int) -> int:
    """``layer`` itself when ``image`` has it. Raises LayerScopeError naming the valid range."""
    n = len(image.layers)
    if not 0 <= layer < n:
        raise LayerScopeError(f"layer {layer} is out of range (0..{n - 1})", archive.path)
    return layer
