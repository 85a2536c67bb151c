"""A layer's index as a cache payload and back, field for field (the Entry tuples, their extras, the
metadata entries, members, size, warnings and the budget it charged)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Any, NamedTuple, cast

from ..entry import Entry, EntryExtra
from ..kinds import EntryType
from ..tar.budget import IndexBudget
from .columns import CacheInvalid, PayloadReader, PayloadWriter, Unencodable, in_slices

_TYPES = tuple(EntryType)
_TYPE_CODE = {t: i for i, t in enumerate(_TYPES)}
_new = tuple.__new__


class StoredLayer(NamedTuple):
    """What the cache keeps of one layer's index (warnings without their ``layer N:`` label)."""

    entries: list[Entry]
    members: int
    metadata: list[Entry]
    uncompressed_size: int
    warnings: list[str]
    charged: tuple[int, int]
    """(entries, estimated bytes) the index charged to the archive's IndexBudget."""


class CountingBudget(IndexBudget):
    """Charges ``inner`` and counts what one layer charged (to replay it when read from the cache)."""

    def __init__(self, inner: IndexBudget) -> None:
        super().__init__(inner.max_entries, inner.max_bytes)
        self.inner = inner

    def charge(self, entries: int, nbytes: int, label: str) -> None:
        """Charge ``inner``; remember the amounts. Raises UnsupportedFormat past its limits."""
        self.entries += entries
        self.bytes += nbytes
        self.inner.charge(entries, nbytes, label)


def strip_label(warnings: Sequence[str], label: str) -> list[str]:
    """The warnings without their ``label: `` prefix. Raises Unencodable when one lacks it."""
    prefix = label + ": "
    if not all(w.startswith(prefix) for w in warnings):
        raise Unencodable("a warning without the layer's label")
    return [w[len(prefix) :] for w in warnings]


def encode_layer(layer: StoredLayer) -> bytes:
    """The payload of ``layer``. Raises Unencodable (a value the format cannot hold)."""
    w = PayloadWriter()
    meta = {
        "members": layer.members,
        "size": layer.uncompressed_size,
        "warnings": layer.warnings,
        "charged": list(layer.charged),
    }
    w.json(meta)
    _encode_entries(w, layer.entries)
    _encode_entries(w, layer.metadata)
    return w.getvalue()


def decode_layer(payload: bytes | memoryview) -> StoredLayer:
    """The layer ``encode_layer`` made ``payload`` from. Raises CacheInvalid."""
    r = PayloadReader(payload)
    meta = r.json()
    if not isinstance(meta, dict):
        raise CacheInvalid("layer header is not an object")
    members, size, warnings, charged = meta["members"], meta["size"], meta["warnings"], meta["charged"]
    if not (_is_int(members) and _is_int(size) and isinstance(warnings, list) and isinstance(charged, list)):
        raise CacheInvalid("layer header fields of the wrong type")
    if not all(isinstance(x, str) for x in warnings) or len(charged) != 2 or not all(map(_is_int, charged)):
        raise CacheInvalid("layer header fields of the wrong type")
    entries = _decode_entries(r)
    metadata = _decode_entries(r)
    r.end()
    return StoredLayer(entries, members, metadata, size, warnings, (charged[0], charged[1]))


def _is_int(x: object) -> bool:
    return type(x) is int


def _encode_entries(w: PayloadWriter, entries: Sequence[Entry]) -> None:
    n = len(entries)
    w.count(n)
    cols: list[Sequence[Any]] = [list(c) for c in zip(*entries, strict=True)] if n else [[]] * 10
    paths, types, sizes, modes, uids, gids, mtimes, links, offsets, extras = cols
    try:
        w.raw(bytes(map(_TYPE_CODE.__getitem__, types)))
    except KeyError as exc:
        raise Unencodable("an entry type this format does not know") from exc
    w.strings(paths)
    for col in (sizes, modes, uids, gids, mtimes, offsets):
        w.ints(col)
    link_at = [i for i, link in enumerate(links) if link is not None]
    w.ints(link_at)
    w.strings([links[i] for i in link_at])
    extra_at = [i for i, x in enumerate(extras) if x is not None]
    w.ints(extra_at)
    w.json([_extra_json(extras[i]) for i in extra_at])


def _decode_entries(r: PayloadReader) -> list[Entry]:
    n = r.count()
    type_codes = r.raw()
    if len(type_codes) != n:
        raise CacheInvalid("entry types do not match the count")
    try:
        types = in_slices(map(_TYPES.__getitem__, type_codes))
    except IndexError as exc:
        raise CacheInvalid("unknown entry type") from exc
    paths = r.strings(n)
    sizes, modes, uids, gids, mtimes, offsets = (r.ints(n) for _ in range(6))
    links: list[str | None] = [None] * n
    link_at = r.ints()
    link_texts = r.strings(len(link_at))
    _place(links, link_at, link_texts)
    extras: list[EntryExtra | None] = [None] * n
    extra_at = r.ints()
    extra_docs = r.json()
    if not isinstance(extra_docs, list) or len(extra_docs) != len(extra_at):
        raise CacheInvalid("extras do not match their positions")
    _place(extras, extra_at, [_extra_from(d) for d in extra_docs])
    rows = zip(paths, types, sizes, modes, uids, gids, mtimes, links, offsets, extras, strict=True)
    return cast(list[Entry], in_slices(map(_new, repeat(Entry), rows)))


def _place(out: list[Any], at: Sequence[int], values: Sequence[Any]) -> None:
    n = len(out)
    if at and (min(at) < 0 or max(at) >= n):
        raise CacheInvalid("a position past the entries")
    for i, v in zip(at, values, strict=True):
        out[i] = v


_EXTRA_INTS = ("devmajor", "devminor", "stored_size")
_EXTRA_STRS = ("uname", "gname", "raw_name")


def _extra_json(x: EntryExtra) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for name in (*_EXTRA_INTS, *_EXTRA_STRS):
        v = getattr(x, name)
        if v is not None:
            d[name] = v
    if x.xattrs is not None:
        if not isinstance(x.xattrs, dict):
            raise Unencodable("extended attributes that are not a dict")
        d["xattrs"] = {k: v.hex() for k, v in x.xattrs.items()}
    if x.sparse is not None:
        d["sparse"] = [list(p) for p in x.sparse]
    return d


def _extra_from(d: object) -> EntryExtra:
    if not isinstance(d, dict):
        raise CacheInvalid("an extra that is not an object")
    kw: dict[str, Any] = {}
    for name in _EXTRA_INTS:
        if name in d:
            kw[name] = _typed(d[name], int)
    for name in _EXTRA_STRS:
        if name in d:
            kw[name] = _typed(d[name], str)
    if "xattrs" in d:
        xa = d["xattrs"]
        if not isinstance(xa, dict):
            raise CacheInvalid("extended attributes that are not an object")
        kw["xattrs"] = {_typed(k, str): bytes.fromhex(_typed(v, str)) for k, v in xa.items()}
    if "sparse" in d:
        kw["sparse"] = tuple(_pair(p) for p in _typed(d["sparse"], list))
    if len(kw) != len(d):
        raise CacheInvalid("an extra with unknown fields")
    return EntryExtra(**kw)


def _pair(p: object) -> tuple[int, int]:
    if not (isinstance(p, list) and len(p) == 2 and all(type(v) is int for v in p)):
        raise CacheInvalid("a sparse extent that is not two integers")
    return p[0], p[1]


def _typed(v: object, t: type) -> Any:
    if type(v) is not t:
        raise CacheInvalid(f"a {type(v).__name__} where a {t.__name__} was expected")
    return v
