"""What an image is at a glance, shown when it opens: its OS, sizes, layers and files, the
biggest folders and the biggest wasted items (each a path a window can go to)."""

from __future__ import annotations

from dataclasses import dataclass

from ..progress import CancelCheck
from ..session import LoadedImage
from .usage import FolderUsage, SpaceUsage, usage_of_tree
from .waste_groups import ExplainedWaste, WasteExplained, WasteHeadline, explain_waste, waste_headline

BIGGEST = 5
"""Folders and wasted items an overview lists."""
FOLDER_DEPTH = 2
"""The biggest folders are taken this many levels down (``/usr/lib``, ``/var/cache``), and from
the levels above where a folder holds no folder with bytes (``/app`` holding only files)."""


@dataclass(frozen=True, slots=True)
class ImageOverview:
    """One image's overview.

    ``os`` is the OS its files name (None when none does, or when not asked for); ``file_bytes``
    the regular files' bytes a container sees, ``stored_bytes`` those the layers store,
    ``uncompressed_bytes`` the layer tars' and ``compressed_bytes`` the layer blobs' sizes (as
    pulled); ``files`` the non-folder paths of the final filesystem (``LoadedImage.files``).
    """

    os: str | None
    file_bytes: int
    stored_bytes: int
    uncompressed_bytes: int
    compressed_bytes: int
    layers: int
    files: int
    biggest_folders: tuple[FolderUsage, ...]
    biggest_waste: tuple[ExplainedWaste, ...]
    headline: WasteHeadline


def biggest_folders(usage: SpaceUsage, count: int = BIGGEST, depth: int = FOLDER_DEPTH) -> list[FolderUsage]:
    """The ``count`` biggest folders ``depth`` levels down, and above it those holding no folder
    with bytes; biggest first, by path among equals. Work: the folders down to ``depth``."""
    picked: list[FolderUsage] = []
    for f in usage.folders(depth):
        if not f.bytes or not f.path:
            continue
        level = f.path.count("/") + 1
        if level < depth and any(usage.sized_children(f.path).folders):
            continue
        picked.append(f)
    picked.sort(key=lambda f: (-f.bytes, f.path))
    return picked[:count]


def image_overview(
    image: LoadedImage,
    usage: SpaceUsage | None = None,
    waste: WasteExplained | None = None,
    with_os: bool = True,
    cancelled: CancelCheck | None = None,
) -> ImageOverview:
    """The overview of a loaded image; ``usage`` (of its top tree) and ``waste`` are made when not
    given. ``with_os`` reads the OS files (a few small reads from the archive). Raises Cancelled."""
    if usage is None:
        usage = usage_of_tree(image.tree, cancelled)
    if waste is None:
        waste = explain_waste(image.tree, image.figures.base_layers, cancelled)
    os_name = None
    if with_os:
        from ..packages import image_os  # its readers are only needed here

        found = image_os(image)
        os_name = found.describe() if found is not None else None
    figs = image.figures
    return ImageOverview(
        os=os_name,
        file_bytes=usage.bytes(""),
        stored_bytes=figs.stored_bytes,
        uncompressed_bytes=sum(li.uncompressed_size for li in image.layers),
        compressed_bytes=sum(d.size for d in image.image.layers),
        layers=len(image.layers),
        files=image.files,
        biggest_folders=tuple(biggest_folders(usage)),
        biggest_waste=waste.items[:BIGGEST],
        headline=waste_headline(image.dive, figs),
    )
