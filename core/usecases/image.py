"""Open what a reference names and pick the image the user named; check the layer number they gave."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator

from ..archive.records import Archive, ImageRecord
from ..errors import LayerScopeError
from ..sources.open import SourceOptions, open_source
from ..sources.reference import Reference, parse_reference


@contextlib.contextmanager
def open_image(
    ref: str | os.PathLike[str],
    image: str | None = None,
    platform: str | None = None,
    options: SourceOptions | None = None,
) -> Iterator[tuple[Archive, ImageRecord]]:
    """The archive a reference names (a path, ``docker://...``, ``docker-daemon:...``, ...; see
    core/sources/reference.py) and its image chosen by tag or position and platform (the first when
    neither is given). Raises LayerScopeError (unreadable archive or source, no such image)."""
    with open_reference(ref, platform, options) as (archive, r):
        yield archive, archive.select(image if image is not None else r.image, platform)


@contextlib.contextmanager
def open_reference(
    ref: str | os.PathLike[str], platform: str | None = None, options: SourceOptions | None = None
) -> Iterator[tuple[Archive, Reference]]:
    """The archive a reference names, and the reference as parsed; closed on leaving."""
    r = parse_reference(os.fspath(ref))
    opts = options or SourceOptions()
    if platform is not None:
        opts = dataclasses.replace(opts, platform=platform)
    with open_source(r, opts) as archive:
        yield archive, r


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
        raise LayerScopeError(f"layer {layer} is out of range (0..{n - 1})", archive.label)
    return layer
