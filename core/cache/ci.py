"""What ``ci --json`` prints of an image's figures, as a cache payload: a warm ``ci --json`` reads this
one file and decodes nothing but dive's scalars (the rules judge those)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NamedTuple

from ..dive_figures import DiveFigures
from .columns import CacheInvalid, PayloadReader, PayloadWriter, Unencodable

if TYPE_CHECKING:
    from ..waste import LayerScopeFigures


class CiParts(NamedTuple):
    """What ``ci --json`` prints of an image's figures, kept whole so that a warm ``ci --json`` reads
    one small file and decodes nothing but dive's scalars (the rules judge those): dive's figures
    with empty lists, and both figure sections as the JSON text ``json.dumps`` makes of them."""

    dive: DiveFigures
    dive_json: str
    ours_json: str

    @classmethod
    def of(cls, dive: DiveFigures, ours: LayerScopeFigures) -> CiParts:
        """The parts of two figure sets (``json.dumps`` with ``ensure_ascii=False``, as ``ci`` prints)."""
        return cls(
            _scalars(dive),
            json.dumps(dive.as_json(), ensure_ascii=False),
            json.dumps(ours.as_json(), ensure_ascii=False),
        )


def _scalars(d: DiveFigures) -> DiveFigures:
    return DiveFigures(
        d.efficiency, d.wasted_bytes, d.user_wasted_percent, d.size_bytes, d.user_size_bytes, [], []
    )


_CI_TYPES = (float, int, float, int, int)


def encode_ci(parts: CiParts) -> bytes:
    """The payload of ``parts``: dive's scalars as JSON, then the two texts as UTF-8 (one decode each
    when read: no string table to split). Raises Unencodable (a text that is not UTF-8)."""
    d = parts.dive
    w = PayloadWriter()
    w.json([d.efficiency, d.wasted_bytes, d.user_wasted_percent, d.size_bytes, d.user_size_bytes])
    for text in (parts.dive_json, parts.ours_json):
        try:
            w.raw(text.encode("utf-8"))
        except UnicodeEncodeError as exc:  # a lone surrogate: ci cannot print it either
            raise Unencodable(str(exc)) from exc
    return w.getvalue()


def decode_ci(payload: bytes | memoryview) -> CiParts:
    """The parts ``encode_ci`` made ``payload`` from. Raises CacheInvalid."""
    r = PayloadReader(payload)
    head = r.json()
    if not (isinstance(head, list) and len(head) == len(_CI_TYPES)):
        raise CacheInvalid("ci figures of the wrong shape")
    if not all(type(v) is t for v, t in zip(head, _CI_TYPES, strict=True)):
        raise CacheInvalid("ci figures of the wrong types")
    try:
        dive_json, ours_json = (str(r.raw(), "utf-8") for _ in range(2))
    except UnicodeDecodeError as exc:
        raise CacheInvalid("ci text is not UTF-8") from exc
    r.end()
    eff, wasted, pct, size, user = head
    return CiParts(DiveFigures(eff, wasted, pct, size, user, [], []), dive_json, ours_json)
