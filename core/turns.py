"""Long operations done in turns, so that other threads get the interpreter lock in between.

One ``list.sort`` or ``dict.update`` is a single C call: it holds the interpreter lock from start to
end, whatever the switch interval. Sorting 38k wasted paths by name took 53 ms on the 2 GB image,
merging a layer's 60k undo records into another dict 20-30 ms: each a stall of the window's thread
when a worker does it. These do the same work a ``TURN`` at a time, with the engine's pause point
(core/progress.py) between turns; the results are exactly those of the single call.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from .progress import pause_point

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

TURN = 4096
"""Items handled in one C call: a few milliseconds."""


def sorted_in_turns(items: Sequence[T], key: Callable[[T], Any], reverse: bool = False) -> list[T]:
    """``sorted(items, key=key, reverse=reverse)``, stable as it is: runs of TURN items sorted one at a
    time, then merged by ``heapq.merge`` (Python code: the lock changes hands while it runs)."""
    if len(items) <= TURN:
        return sorted(items, key=key, reverse=reverse)
    runs = []
    for start in range(0, len(items), TURN):
        runs.append(sorted(items[start : start + TURN], key=key, reverse=reverse))
        pause_point()
    # among equal keys heapq.merge takes the earlier run first: the original order, as sorted keeps it
    return list(heapq.merge(*runs, key=key, reverse=reverse))


def update_in_turns(d: dict[K, V], more: Mapping[K, V] | Iterable[tuple[K, V]]) -> None:
    """``d.update(more)`` (a mapping, or key-value pairs), TURN items at a time."""
    if isinstance(more, Mapping) and len(more) <= TURN:
        d.update(more)
        return
    pairs = iter(more.items() if isinstance(more, Mapping) else more)
    chunk = list(itertools.islice(pairs, TURN))
    while chunk:
        d.update(chunk)
        pause_point()
        chunk = list(itertools.islice(pairs, TURN))


def dict_in_turns(pairs: Iterable[tuple[K, V]]) -> dict[K, V]:
    """``dict(pairs)``, TURN pairs at a time."""
    out: dict[K, V] = {}
    update_in_turns(out, pairs)
    return out
