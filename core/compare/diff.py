"""The comparison itself: two loaded images, or two points of one image (merged up to layer i
against merged up to layer j), as one ``ImageDiff``."""

from __future__ import annotations

from dataclasses import dataclass

from ..archive.records import HistoryStep, ImageRecord
from ..errors import LayerScopeError
from ..paths import normalize
from ..progress import CancelCheck
from ..session import LoadedImage
from ..usecases.image import check_layer
from .config import ConfigDiff, compare_config
from .files import FilesDiff, compare_files
from .layers import LayersDiff, compare_layers
from .side import Side, side_of
from .verdict import Verdict, judge


@dataclass(frozen=True, slots=True)
class ImageDiff:
    """Everything that differs from A to B: layers, files, config, and the verdict on them.

    With a ``scope`` (one folder compared) the verdict is on the files below it alone."""

    a: Side
    b: Side
    layers: LayersDiff
    files: FilesDiff
    config: ConfigDiff
    verdict: Verdict
    strict: bool
    scope: str


def folder_scope(path: str | None, *sides: Side) -> str:
    """``/some/dir`` as the normalised folder to compare ("" for everything). Raises LayerScopeError
    when it climbs above the root or names nothing on any side."""
    if path is None:
        return ""
    scope = normalize(path)
    if scope is None:
        raise LayerScopeError(f"{path}: not a path inside the image")
    if scope and not any(scope in s.tree.nodes for s in sides):
        raise LayerScopeError(f"/{scope}: no such path in either image")
    return scope


def diff_sides(
    a: Side,
    b: Side,
    strict: bool = False,
    path: str | None = None,
    cancelled: CancelCheck | None = None,
    history: tuple[list[HistoryStep], list[HistoryStep]] | None = None,
) -> ImageDiff:
    """Compare two sides (``path``: one folder of them; ``history``: the steps to compare instead
    of the images' whole histories). Raises LayerScopeError (bad path; reading file bytes),
    Cancelled."""
    scope = folder_scope(path, a, b)
    layers = compare_layers(a.layers, b.layers)
    files = compare_files(a, b, strict, scope, cancelled)
    ha, hb = history if history is not None else (None, None)
    config = compare_config(a.image, b.image, strict, ha, hb)
    verdict = judge(files) if scope else judge(files, layers, config)
    return ImageDiff(a, b, layers, files, config, verdict, strict, scope)


def diff_images(
    a: LoadedImage,
    b: LoadedImage,
    strict: bool = False,
    path: str | None = None,
    cancelled: CancelCheck | None = None,
) -> ImageDiff:
    """Compare two whole images. Raises LayerScopeError, Cancelled."""
    return diff_sides(side_of(a, label="A"), side_of(b, label="B"), strict, path, cancelled)


def steps_upto(image: ImageRecord, layer: int) -> list[HistoryStep]:
    """The history steps that built layers 0..``layer``: every step before the one that made the
    next layer (the empty steps after the last layer belong to the top)."""
    out: list[HistoryStep] = []
    for s in image.history:
        if s.layer is not None and s.layer > layer:
            break
        out.append(s)
    return out


def range_sides(
    image: LoadedImage, i: int, j: int, cancelled: CancelCheck | None = None
) -> tuple[Side, Side]:
    """Image ``image`` merged up to layer ``i`` (A) and up to layer ``j`` (B). Raises
    LayerScopeError naming the valid range, Cancelled."""
    check_layer(image.archive, image.image, i)
    check_layer(image.archive, image.image, j)
    return (
        side_of(image, i, f"layer {i}", cancelled),
        side_of(image, j, f"layer {j}", cancelled),
    )


def diff_layer_range(
    image: LoadedImage,
    i: int,
    j: int,
    strict: bool = False,
    path: str | None = None,
    cancelled: CancelCheck | None = None,
) -> ImageDiff:
    """Compare one image merged up to layer ``i`` with itself merged up to layer ``j`` (the history
    compared is the steps that built each). Raises LayerScopeError (a layer out of range), Cancelled."""
    a, b = range_sides(image, i, j, cancelled)
    history = (steps_upto(image.image, i), steps_upto(image.image, j))
    return diff_sides(a, b, strict, path, cancelled, history)
