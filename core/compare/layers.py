"""The layers of two sides: which are shared (same diff_id, wherever they stand), which are only in
A or only in B, and the base both are built on (the longest common prefix of layers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..layers.index import LayerIndex


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of one side: its position, diff_id, uncompressed tar bytes and the step that made it."""

    index: int
    diff_id: str | None
    size: int
    created_by: str


@dataclass(frozen=True, slots=True)
class SharedLayer:
    """A layer both sides have (the same diff_id): its position in A and in B, and its tar bytes."""

    diff_id: str
    a: int
    b: int
    size: int


@dataclass(frozen=True, slots=True)
class LayersDiff:
    """Shared layers in B's order, the layers only in A and only in B, and ``base``: how many layers
    from the bottom the two have in common, in the same order (the base image they share)."""

    shared: tuple[SharedLayer, ...]
    only_a: tuple[Layer, ...]
    only_b: tuple[Layer, ...]
    base: int
    count_a: int
    count_b: int

    @property
    def same(self) -> bool:
        """True when both sides are the same layers in the same order."""
        return not self.only_a and not self.only_b and all(s.a == s.b for s in self.shared)

    @property
    def base_size(self) -> int:
        """Tar bytes of the common base."""
        return sum(s.size for s in self.shared if s.a < self.base and s.a == s.b)


def _layer(li: LayerIndex) -> Layer:
    h = li.desc.history
    return Layer(li.index, li.desc.diff_id, li.uncompressed_size, h.text if h is not None else "")


def compare_layers(a: Sequence[LayerIndex], b: Sequence[LayerIndex]) -> LayersDiff:
    """Pair the layers of A and B by diff_id (a diff_id that occurs k times pairs k times, in order);
    a layer without a diff_id is never shared."""
    la = [_layer(li) for li in a]
    lb = [_layer(li) for li in b]
    waiting: dict[str, list[Layer]] = {}
    for x in la:
        if x.diff_id is not None:
            waiting.setdefault(x.diff_id, []).append(x)
    shared: list[SharedLayer] = []
    paired_a: set[int] = set()
    only_b: list[Layer] = []
    for y in lb:
        queue = waiting.get(y.diff_id) if y.diff_id is not None else None
        if queue:
            x = queue.pop(0)
            paired_a.add(x.index)
            shared.append(SharedLayer(y.diff_id or "", x.index, y.index, y.size))
        else:
            only_b.append(y)
    only_a = [x for x in la if x.index not in paired_a]
    base = 0
    for x, y in zip(la, lb, strict=False):
        if x.diff_id is None or x.diff_id != y.diff_id:
            break
        base += 1
    return LayersDiff(tuple(shared), tuple(only_a), tuple(only_b), base, len(la), len(lb))
