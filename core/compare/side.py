"""One side of a comparison: an image's filesystem merged up to a layer, and where its bytes are."""

from __future__ import annotations

from dataclasses import dataclass

from ..archive.records import Archive, ImageRecord
from ..layers.index import LayerIndex
from ..merge import ImageTree
from ..progress import CancelCheck
from ..session import LoadedImage


@dataclass(frozen=True, slots=True)
class Side:
    """What one side of a comparison shows: ``tree`` is the image's filesystem merged up to layer
    ``tree.upto``; ``archive`` is where file bytes are read from; ``label`` names the side for
    people (``A``/``B`` headers, unified-diff file names)."""

    archive: Archive
    image: ImageRecord
    tree: ImageTree
    label: str

    @property
    def top(self) -> int:
        """The topmost layer merged into ``tree``."""
        return self.tree.upto

    @property
    def layers(self) -> list[LayerIndex]:
        """The layers merged into ``tree``, bottom to top."""
        return self.tree.layers[: self.tree.upto + 1]

    @property
    def whole(self) -> bool:
        """True when every layer of the image is merged (not a point part way up)."""
        return self.tree.upto >= len(self.image.layers) - 1


def side_of(
    image: LoadedImage,
    layer: int | None = None,
    label: str | None = None,
    cancelled: CancelCheck | None = None,
) -> Side:
    """The side of ``image`` merged up to ``layer`` (default: all of it). Raises Cancelled,
    LayerScopeError (reading the archive)."""
    top = len(image.layers) - 1 if layer is None else layer
    tree = image.merged_upto(top, cancelled)
    if label is None:
        where = image.archive.source or image.archive.path.name
        label = f"{where} {image.image.name}"
        if top < len(image.layers) - 1:
            label += f" up to layer {top}"
    return Side(image.archive, image.image, tree, label)
