"""One export as the user asks for it, and the one decision that turns it into an export.

The CLI (``layerscope export``) and the window's export dialog both build an ``ExportSpec`` and
call ``run``: which layers are merged, which items are chosen and whether deletions are listed is
decided here only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from ..archive.records import Archive
from ..errors import LayerScopeError
from ..layers.index import LayerIndex
from ..merge import ImageTree, merge
from ..progress import CancelCheck, CountProgress
from .items import layer_items, merged_items
from .result import ExportResult
from .stored import export_as_stored
from .write import export


class What(StrEnum):
    """What an export writes."""

    MERGED = "merged"
    """The filesystem merged up to a layer."""
    LAYER = "layer"
    """One layer's own files, with the paths it deletes listed in WHITEOUTS.txt."""
    STORED = "stored"
    """One layer's tar as stored, byte for byte."""


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """An export request: what, from which layer, which part, where, and how."""

    what: What
    dest: Path
    layer: int | None = None
    """The layer exported (LAYER, STORED) or the top layer merged (MERGED); None: the top layer."""
    path: str = ""
    """Only this file or folder (a path in the image; "" for everything). Not for STORED."""
    force: bool = False
    """Replace an existing destination."""
    keep_setuid: bool = False
    """Keep setuid/setgid/sticky bits in a folder export."""
    compressed: bool = False
    """STORED: keep the blob's compression instead of writing the plain tar."""


class ImageLayers(Protocol):
    """An image's indexed layers and merged trees up to any of them (``LoadedImage`` is one)."""

    @property
    def archive(self) -> Archive: ...

    @property
    def layers(self) -> list[LayerIndex]: ...

    def merged_upto(self, layer: int, cancelled: CancelCheck | None = None) -> ImageTree: ...


@dataclass(slots=True)
class LayerStack:
    """Indexed layers without the figures of a full load: what the CLI needs to export."""

    archive: Archive
    layers: list[LayerIndex]
    _trees: dict[int, ImageTree] = field(default_factory=dict, repr=False)

    def merged_upto(self, layer: int, cancelled: CancelCheck | None = None) -> ImageTree:
        """The merged tree of layers 0..layer (cached). Raises Cancelled."""
        tree = self._trees.get(layer)
        if tree is None:
            tree = merge(self.layers, upto=layer, archive=self.archive, cancelled=cancelled)
            self._trees[layer] = tree
        return tree


def export_layer(spec: ExportSpec, layer_count: int, source: str | os.PathLike[str] | None = None) -> int:
    """The layer ``spec`` is about: its own, or the top one. Raises LayerScopeError when out of range."""
    layer = layer_count - 1 if spec.layer is None else spec.layer
    if not 0 <= layer < layer_count:
        raise LayerScopeError(f"layer {layer} is out of range (0..{layer_count - 1})", source)
    return layer


def run(
    spec: ExportSpec,
    image: ImageLayers,
    progress: CountProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> ExportResult:
    """Do the export ``spec`` asks for. Raises LayerScopeError (layer out of range, path not in the
    export), ExportError (destination exists, disk full, ...), Cancelled, CorruptArchive."""
    archive = image.archive
    layer = export_layer(spec, len(image.layers), archive.label)
    if spec.what is What.STORED:
        return export_as_stored(
            archive,
            image.layers[layer],
            spec.dest,
            decompress=not spec.compressed,
            force=spec.force,
            progress=progress,
            cancelled=cancelled,
        )
    tree = image.merged_upto(layer, cancelled)
    if spec.what is What.MERGED:
        items, deletes = merged_items(tree, spec.path), None
    else:
        items, deletes = layer_items(tree, layer, spec.path)
    return export(
        archive,
        tree,
        items,
        spec.dest,
        deletes=deletes,
        force=spec.force,
        keep_special_bits=spec.keep_setuid,
        progress=progress,
        cancelled=cancelled,
    )
