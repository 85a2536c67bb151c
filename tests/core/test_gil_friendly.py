"""The load path never holds the GIL in one long C call (the GUI's event loop would stall): large
lists are built in slices, the collector is never let loose on a whole load, big sorts compare
plain values; each with results identical to the one-call version."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from layerscope.core import session
from layerscope.core.cache import columns, layers
from layerscope.core.cache.columns import PayloadReader, PayloadWriter, in_slices
from layerscope.core.dive_figures import _Stack
from layerscope.core.merge import merge
from layerscope.core.waste import waste_items
from tests.core.test_merge_table import f, stack, wh


class _Recorder:
    """Stands for the gc module in session: records the calls, forwards them."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        real = getattr(gc, name)

        def call(*args: Any) -> Any:
            self.calls.append(name)
            return real(*args)

        return call


def test_quiet_gc_freezes_before_enabling(monkeypatch: pytest.MonkeyPatch) -> None:
    # enabled first, any thread's next allocation would collect every object the load made
    rec = _Recorder()
    monkeypatch.setattr(session, "gc", rec)
    was = gc.isenabled()
    gc.enable()
    try:
        with session.quiet_gc():
            pass
    finally:
        if not was:
            gc.disable()
    assert rec.calls.index("freeze") < rec.calls.index("enable")


def test_quiet_gc_is_shared_by_blocks_in_several_threads() -> None:
    # a load while the last image's package job ends: the job's end must not turn the collector
    # back on under the load (its full passes stalled the GUI 0.2-0.3 s on the 2 GB image)
    import threading

    was = gc.isenabled()
    gc.enable()
    try:
        inside, leave = threading.Event(), threading.Event()

        def other_job() -> None:
            with session.quiet_gc():
                inside.set()
                leave.wait(10)

        t = threading.Thread(target=other_job)
        with session.quiet_gc():
            t.start()
            assert inside.wait(10)
        assert not gc.isenabled()  # the other block still runs
        leave.set()
        t.join(10)
        assert gc.isenabled()  # the last block ended: back as it was before the first
        gc.disable()
        with session.quiet_gc():
            pass
        assert not gc.isenabled()  # off before: stays off
    finally:
        gc.enable() if was else gc.disable()


def test_quiet_gc_freezes_nothing_when_the_block_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = _Recorder()
    monkeypatch.setattr(session, "gc", rec)
    was = gc.isenabled()
    gc.enable()
    try:
        with pytest.raises(KeyError), session.quiet_gc():
            raise KeyError("x")
        assert gc.isenabled()
    finally:
        if not was:
            gc.disable()
    assert "freeze" not in rec.calls


def test_in_slices_is_list_and_takes_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[int] = []
    real = columns.islice

    def spy(it: Any, n: int) -> Any:
        taken.append(n)
        return real(it, n)

    monkeypatch.setattr(columns, "islice", spy)
    for n in (0, 1, columns.SLICE - 1, columns.SLICE, 3 * columns.SLICE + 5):
        taken.clear()
        assert in_slices(iter(range(n))) == list(range(n))
        assert all(k == columns.SLICE for k in taken)
        assert len(taken) == n // columns.SLICE + 1
    with pytest.raises(ValueError):  # a strict zip still tells unequal columns
        in_slices(zip(range(10), range(9), strict=True))


@pytest.mark.parametrize("slice_bytes", [1, 3, 7, 64, 1 << 18])
def test_string_tables_split_in_slices_are_the_same(
    monkeypatch: pytest.MonkeyPatch, slice_bytes: int
) -> None:
    monkeypatch.setattr(columns, "_TEXT_SLICE", slice_bytes)
    texts = ["", "usr", "usr/share/\u00e9t\u00e9", "\U0001f600/x", "", "a" * 50, "\udcff lone", ""]
    w = PayloadWriter()
    w.strings(texts)
    assert PayloadReader(w.getvalue()).strings() == texts


def test_layer_entries_are_built_in_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[int] = []

    def spy(items: Any) -> list[Any]:
        out = in_slices(items)
        used.append(len(out))
        return out

    monkeypatch.setattr(layers, "in_slices", spy)
    entries = [f(f"d/file{i}", size=i) for i in range(50)]
    li = stack(entries)[0]
    assert layers._decode_entries(_roundtrip_entries(li.entries)) == li.entries
    assert used.count(50) >= 2  # the types and the entries themselves


def _roundtrip_entries(entries: list[Any]) -> PayloadReader:
    w = PayloadWriter()
    layers._encode_entries(w, entries)
    return PayloadReader(w.getvalue())


def test_waste_order_is_size_then_path() -> None:
    lower = [f(f"p{i % 7}/x{i}", size=(i * 37) % 5 + 1) for i in range(60)]
    upper = [f(e.path, size=e.size) for e in lower[::2]] + [wh(e.path) for e in lower[1::4]]
    items = waste_items(merge(stack(lower, upper)))
    assert len(items) > 20
    assert [w.path for w in items] == [w.path for w in sorted(items, key=lambda w: (-w.size, w.path))]


def test_dive_stack_is_released_in_place() -> None:
    s = _Stack()
    for i in range(100):
        s.add(f"a/b{i % 9}/c{i}", i, False)
    info, kids = s.info, s.kids
    s.release()
    assert s.info is info and s.kids is kids and not info and not kids


def test_secret_patterns_find_what_a_look_behind_would_and_quickly() -> None:
    # a look-behind at the start of a pattern made the engine try every position (130 ms on 4 MB,
    # one long hold of the interpreter lock): the byte before is checked after a literal-led search
    import random
    import re
    import time

    from layerscope.core.audit import patterns

    rnd = random.Random(7)
    tokens = [
        b"AKIA" + bytes(rnd.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
        b"AIza" + bytes(rnd.choice(b"abcdefghijkLMNOPQ0123_-") for _ in range(35)),
        b"ghp_" + bytes(rnd.choice(b"abcdefghijkLMNOPQ0123") for _ in range(36)),
        b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnopqrstuv",
    ]
    parts = []
    for _ in range(400):
        parts.append(bytes([rnd.choice(b" xX_-9.=\n\"'/")]) * rnd.randint(1, 3))
        parts.append(rnd.choice(tokens)[: rnd.choice((8, 40, 100))])
    data = b"".join(parts)
    found = 0
    for p in patterns.PATTERNS:
        if not p.not_after:
            continue
        behind = bytes(sorted(p.not_after)).decode()
        cls = "".join("\\-" if c == "-" else c for c in behind)
        old = re.compile(rb"(?<![" + cls.encode() + rb"])" + p.regex.pattern)
        want = [m.span() for m in old.finditer(data)]
        assert want == [m.span() for m in patterns._matches(p, data)], p.rule
        found += len(want)
    assert found > 50  # the tokens were there to find (and the look-alikes to reject)
    big = (b"x = 'eyJ not a token' # " * 200_000)[: 4 << 20]
    t = time.perf_counter()
    list(patterns.find_secrets(big))
    assert time.perf_counter() - t < 1.0  # was 0.13 s per pattern with a look-behind; bounded loosely
