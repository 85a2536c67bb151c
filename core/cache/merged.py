"""An image's merged tree (core/merge.py's ``ImageTree``) as a cache payload and back, exactly.

A second open of an image skips the merge (0.9 s of the 2 GB benchmark image's 1.7 s warm load):
the tree is rebuilt from its layers' indexes, which the load has already (cached too), and this
payload, which names every entry by its place in them. Paths are numbered the same way: a path that
is some entry's is that entry's number (the string is the entry's own, not a second copy), the few
others (implied folders) follow in a table of their own.

Every collection of the tree is a few columns: the nodes (path, entry, owner layer), each layer's
changes (path, kind), removed tops (path, entry, owner), what they held (path, bytes, entries),
undo records (path, entry, owner, or none), the waste events and the warnings. The tree's lazily made
parts (``layer_entries``, the lower layers' view records) are left out: they are made again when
asked. Any inconsistency raises CacheInvalid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import TypeVar, cast, overload

from ..archive.records import ImageRecord
from ..entry import Entry
from ..kinds import ChangeKind, EntryType
from ..layers.index import LayerCache, LayerIndex
from ..merge import ImageTree, Node, NodeState, WasteEvent
from ..progress import CancelCheck, check_cancelled
from ..turns import dict_in_turns
from .columns import CacheInvalid, PayloadReader, PayloadWriter, in_slices

_KINDS = tuple(ChangeKind)
_KIND_CODE = {k: n for n, k in enumerate(_KINDS)}
_NONE = -1
"""The entry number of an implied folder (no entry), and the owner of an undo record of a path that
had no node."""

T = TypeVar("T")


class _Numbers:
    """Entry and path numbers of one image's layers: layer ``i``'s entry ``k`` is the ``k``-th after
    the entries of the layers below it; a path is numbered by an entry that has it, else (no entry
    has it) after all of them.

    Looked up by object identity (C-level maps, no string hashed or compared: 186k entries in a few
    tens of ms): the tree's paths are mostly its entries' own strings. The others are folders made
    by the merge (implied or derived ones), looked up by value among the folders' entries."""

    def __init__(self, layers: Sequence[LayerIndex]) -> None:
        flat = [e for li in layers for e in li.entries]
        self.total = n = len(flat)
        self.entry_no: dict[int, int] = dict_in_turns(zip(map(id, flat), range(n), strict=True))
        self.entry_no[id(None)] = _NONE
        self._by_string = dict_in_turns(zip(map(id, [e.path for e in flat]), range(n), strict=True))
        self._flat = flat
        self._folders: dict[str, int] | None = None
        self.extra: list[str] = []

    def entries(self, es: Iterable[Entry | None]) -> list[int]:
        """The numbers of ``es`` (``_NONE`` for None). KeyError: an entry of none of the layers."""
        return in_slices(map(self.entry_no.__getitem__, map(id, es)))

    def paths(self, ps: Iterable[str]) -> list[int]:
        """The numbers of ``ps``, numbering the paths no entry has as they come."""
        keys = list(ps)
        out: list[int | None] = in_slices(map(self._by_string.get, map(id, keys)))
        if None in out:
            folders = self._folders
            if folders is None:
                dir_t = EntryType.DIR
                folders = self._folders = {e.path: g for g, e in enumerate(self._flat) if e.type is dir_t}
            for k, got in enumerate(out):
                if got is None:
                    p = keys[k]
                    got = folders.get(p)
                    if got is None:
                        got = folders[p] = self.total + len(self.extra)
                        self.extra.append(p)
                    out[k] = got
        return cast(list[int], out)


_layer_of = attrgetter("layer")
_entry_of = attrgetter("entry")


def encode_tree(tree: ImageTree, cancelled: CancelCheck | None = None) -> bytes:
    """The payload of ``tree`` (a merge of all of ``tree.layers``). Raises Unencodable, KeyError when
    the tree holds an entry that is none of its layers', Cancelled (between its sections)."""
    check_cancelled(cancelled)
    nums = _Numbers(tree.layers)
    check_cancelled(cancelled)
    w = PayloadWriter()
    body = PayloadWriter()  # the path numbers are known once every section has named its paths

    def nodes(d: dict[str, Node]) -> None:
        body.ints(nums.paths(d))
        body.ints(nums.entries(map(_entry_of, d.values())))
        body.ints(list(map(_layer_of, d.values())))

    nodes(tree.nodes)
    for lc in tree.changes:
        check_cancelled(cancelled)
        body.ints(nums.paths(lc))
        body.ints(list(map(_KIND_CODE.__getitem__, lc.values())))
    for removed in tree.removed:
        check_cancelled(cancelled)
        nodes(removed)
    for held in tree.held:
        body.ints(nums.paths(held))
        body.ints([b for b, _c in held.values()])
        body.ints([c for _b, c in held.values()])
    for undo in tree.undo:
        check_cancelled(cancelled)
        states = list(undo.values())
        body.ints(nums.paths(undo))
        body.ints(nums.entries([None if s is None else s[0] for s in states]))
        body.ints([_NONE if s is None else s[1] for s in states])
    ev = tree.waste_events
    body.ints(nums.paths([x[0] for x in ev]))
    body.ints([x[1] for x in ev])
    body.ints([x[2] for x in ev])
    body.ints([x[3] for x in ev])
    body.ints([int(x[4]) for x in ev])
    w.json([tree.upto, len(tree.layers), len(tree.held), len(tree.undo), nums.total])
    w.ints([len(li.entries) for li in tree.layers])
    w.strings(nums.extra)
    w.strings(tree.warnings)
    return w.getvalue() + body.getvalue()


def decode_tree(payload: bytes | memoryview, layers: list[LayerIndex]) -> ImageTree:
    """The tree ``encode_tree`` made ``payload`` from, over ``layers`` (the same layers' indexes).
    Raises CacheInvalid."""
    r = PayloadReader(payload)
    head = r.json()
    if not (isinstance(head, list) and len(head) == 5 and all(type(v) is int for v in head)):
        raise CacheInvalid("merged tree header of the wrong shape")
    upto, n_layers, n_held, n_undo, total = head
    if (
        n_layers != len(layers)
        or upto != n_layers - 1
        or not (0 <= n_held <= n_layers and 0 <= n_undo <= n_layers)
    ):
        raise CacheInvalid("merged tree of other layers")
    if r.ints(n_layers).tolist() != [len(li.entries) for li in layers]:
        raise CacheInvalid("merged tree of other layer indexes")
    entries: list[Entry | None] = [e for li in layers for e in li.entries]
    if len(entries) != total:
        raise CacheInvalid("merged tree of other layer indexes")
    paths = [e.path for e in entries if e is not None]  # each entry's own string
    paths += r.strings()
    entries.append(None)  # number -1 (_NONE): no entry
    warnings = r.strings()
    n_paths, n_layer_nos = len(paths), range(-1, n_layers)

    def path_list(col: Sequence[int]) -> list[str]:
        if col and min(col) < 0:  # one past the end raises IndexError: an invalid file too
            raise CacheInvalid("a path number past the table")
        return in_slices(map(paths.__getitem__, col))

    def entry_list(col: Sequence[int]) -> list[Entry | None]:
        if col and not (min(col) >= _NONE and max(col) < total):  # ``total`` would read as no entry
            raise CacheInvalid("an entry number past the layers")
        return in_slices(map(entries.__getitem__, col))

    def layer_col(n: int) -> Sequence[int]:
        col = r.ints(n)
        if col and not (min(col) in n_layer_nos and max(col) in n_layer_nos):
            raise CacheInvalid("a layer number past the layers")
        return col

    def node_dict() -> dict[str, Node]:
        ps = path_list(r.ints())
        es, ls = entry_list(r.ints(len(ps))), layer_col(len(ps))
        return _dict(ps, in_slices(map(Node, es, ls)))

    nodes = node_dict()
    changes = []
    for _ in range(n_layers):
        ps = path_list(r.ints())
        codes = r.ints(len(ps))
        if codes and not (min(codes) >= 0 and max(codes) < len(_KINDS)):
            raise CacheInvalid("an unknown change kind")
        changes.append(_dict(ps, in_slices(map(_KINDS.__getitem__, codes))))
    removed = [node_dict() for _ in range(n_layers)]
    held = []
    for _ in range(n_held):
        ps = path_list(r.ints())
        held.append(_dict(ps, in_slices(zip(r.ints(len(ps)), r.ints(len(ps)), strict=True))))
    undo_cols: list[Columns] = []
    for _ in range(n_undo):
        ps_col = r.ints()
        if ps_col and not (min(ps_col) >= 0 and max(ps_col) < n_paths):  # read later: checked now
            raise CacheInvalid("a path number past the table")
        es_col = r.ints(len(ps_col))
        if es_col and not (min(es_col) >= _NONE and max(es_col) < total):
            raise CacheInvalid("an entry number past the layers")
        undo_cols.append((ps_col, es_col, layer_col(len(ps_col))))
    ps = path_list(r.ints())
    n = len(ps)
    stored_in, size, by, deleted = layer_col(n), r.ints(n), layer_col(n), r.ints(n)
    if n and (min(stored_in) < 0 or min(by) < 0 or not set(deleted) <= {0, 1}):
        raise CacheInvalid("waste events out of range")
    events: list[WasteEvent] = in_slices(zip(ps, stored_in, size, by, map(bool, deleted), strict=True))
    r.end()
    undo = UndoRecords(undo_cols, paths, entries)
    return ImageTree(layers, nodes, upto, changes, removed, events, warnings, held, undo)


Columns = tuple[Sequence[int], Sequence[int], Sequence[int]]


class UndoRecords(Sequence[dict[str, NodeState]]):
    """An ``ImageTree.undo`` whose layers' records are made when first asked for.

    They are the biggest part of a tree (152k records on the 2 GB benchmark image) and only the views
    of lower layers read them, after the window shows the top. No lock: two threads asking at once
    may both make a layer's records (the same records; one is kept). A lock held while making them
    could deadlock with the pause points inside (core/progress.py: a background job gives way there
    to foreground work, which may be asking for the same records)."""

    def __init__(self, columns: list[Columns], paths: list[str], entries: list[Entry | None]) -> None:
        self._columns = columns
        self._paths = paths
        self._entries = entries
        self._made: list[dict[str, NodeState] | None] = [None] * len(columns)

    def __len__(self) -> int:
        return len(self._columns)

    @overload
    def __getitem__(self, i: int) -> dict[str, NodeState]: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[dict[str, NodeState]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, NodeState] | Sequence[dict[str, NodeState]]:
        if isinstance(i, slice):
            return [self[k] for k in range(len(self))[i]]
        made = self._made[i]
        if made is None:
            ps, es, ls = self._columns[i]
            keys = in_slices(map(self._paths.__getitem__, ps))
            values = in_slices(map(_state, map(self._entries.__getitem__, es), ls))
            made = _dict(keys, values)
            if self._made[i] is None:
                self._made[i] = made
            made = self._made[i]
            assert made is not None
        return made


def _state(e: Entry | None, layer: int) -> NodeState:
    return None if layer == _NONE else (e, layer)


def _dict(keys: list[str], values: list[T]) -> dict[str, T]:
    """``dict(zip(keys, values))`` made in turns (never one long hold of the interpreter lock)."""
    if len(keys) != len(values):
        raise CacheInvalid("columns of different lengths")
    return dict_in_turns(zip(keys, values, strict=True))


def cached_merge(
    image: ImageRecord, cache: LayerCache, layers: list[LayerIndex], compute: Callable[[], ImageTree]
) -> tuple[ImageTree, bool]:
    """The merged tree of ``image`` (``layers``, every one) from the persistent cache of ``cache``,
    else ``compute()``d; and whether it came from the cache (else ``Store.save_merge`` keeps it there:
    ``LoadedImage.keep_in_cache``).
    Raises what ``compute`` raises."""
    store = cache.store
    if store is not None:
        hit = store.load_merge(image, layers)
        if hit is not None:
            return hit, True
    return compute(), False
