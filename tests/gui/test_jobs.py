"""One live job per slot (gui/jobs.py): what a dropped job still sends is ignored (its result freed
through ``discard``), a cancelled one still reports its end, ``on_end`` runs for every end but a live
finish, and a channel's job drops the jobs of the channels it replaces."""

from __future__ import annotations

import threading
import time
from enum import Enum

from layerscope.core.errors import LayerScopeError
from layerscope.core.progress import check_cancelled
from layerscope.gui.jobs import Channels, JobSlot
from layerscope.gui.worker import Job

TIMEOUT = 10000


class Record:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def slot(self, name: str):
        return lambda *args: self.calls.append((name, args[0] if args else None))

    def names(self) -> list[str]:
        return [n for n, _ in self.calls]


def gated(value: object, gate: threading.Event, progress: bool = False) -> Job:
    """A job that waits for ``gate`` (or its cancel), then returns ``value``."""

    def work(job: Job) -> object:
        if progress:
            job.progress("working", 1, 2)
        while not gate.wait(0.01):
            check_cancelled(job.cancelled)
        return value

    return Job(work, "test")


def start(slot: JobSlot, job: Job, rec: Record, tag: str) -> Job:
    return slot.start(
        job,
        rec.slot(f"{tag} done"),
        rec.slot(f"{tag} failed"),
        rec.slot(f"{tag} cancelled"),
        progress=rec.slot(f"{tag} progress"),
        discard=rec.slot(f"{tag} discard"),
        on_end=lambda: rec.calls.append((f"{tag} end", None)),
    )


def test_a_result_already_on_its_way_when_its_job_is_replaced_goes_to_discard(qtbot):
    slot, rec = JobSlot(), Record()
    ended: list[bool] = []
    slot.ended.connect(lambda: ended.append(True))
    first = start(slot, Job(lambda _job: "old result", "quick"), rec, "first")
    deadline = time.monotonic() + 10
    while not first.done and time.monotonic() < deadline:  # finished, its signal not delivered yet
        time.sleep(0.005)
    assert first.done
    start(slot, gated("new", threading.Event()), rec, "second")
    qtbot.waitUntil(lambda: "first discard" in rec.names(), timeout=TIMEOUT)
    assert rec.calls[:2] == [("first end", None), ("first discard", "old result")]
    assert "first done" not in rec.names() and ended == []  # a dropped job's end is not the slot's
    slot.drop()


def test_a_job_started_from_a_done_slot_is_the_live_one(qtbot):
    slot, rec = JobSlot(), Record()

    def then(result: object) -> None:
        rec.calls.append(("first done", result))
        start(slot, Job(lambda _job: "second result", "second"), rec, "second")

    slot.start(Job(lambda _job: "first result", "first"), then, rec.slot("failed"), rec.slot("cancelled"))
    qtbot.waitUntil(lambda: "second done" in rec.names(), timeout=TIMEOUT)
    assert rec.calls == [("first done", "first result"), ("second done", "second result")]
    assert not slot.running


def test_a_replaced_job_is_cancelled_and_ends_quietly_and_the_live_one_reaches_done(qtbot):
    slot, rec = JobSlot(), Record()
    gate = threading.Event()
    first = start(slot, gated("old", gate), rec, "first")
    start(slot, Job(lambda _job: "new result", "second"), rec, "second")
    assert first.cancelled()
    qtbot.waitUntil(lambda: "second done" in rec.names() and "first end" in rec.names(), timeout=TIMEOUT)
    assert slot.running is False and ("second done", "new result") in rec.calls
    assert "first done" not in rec.names() and "first cancelled" not in rec.names()
    gate.set()


def test_a_dropped_job_that_still_finishes_is_ignored_and_then_the_slot_is_idle(qtbot):
    slot, rec = JobSlot(), Record()
    gate = threading.Event()

    def stubborn(_job: Job) -> str:  # never looks at its cancel
        gate.wait(5)
        return "made"

    start(slot, Job(stubborn, "stubborn"), rec, "a")
    slot.drop()
    assert not slot.running
    idle: list[bool] = []
    slot.when_idle(lambda: idle.append(True))
    assert idle == []  # the dropped job still runs
    gate.set()
    qtbot.waitUntil(lambda: idle == [True], timeout=TIMEOUT)
    assert rec.names() == ["a end"]  # a cancelled job's result is not delivered: it goes with the job


def test_the_user_s_cancel_still_reports_the_end(qtbot):
    slot, rec = JobSlot(), Record()
    ended: list[bool] = []
    slot.ended.connect(lambda: ended.append(True))
    start(slot, gated("x", threading.Event(), progress=True), rec, "a")
    qtbot.waitUntil(lambda: "a progress" in rec.names(), timeout=TIMEOUT)
    slot.cancel()
    assert slot.running  # still the live one until it says so
    qtbot.waitUntil(lambda: "a cancelled" in rec.names(), timeout=TIMEOUT)
    assert rec.names() == ["a progress", "a end", "a cancelled"]
    assert ended == [True] and not slot.running


def test_a_failure_reaches_failed_after_on_end(qtbot):
    slot, rec = JobSlot(), Record()

    def broken(_job: Job) -> None:
        raise LayerScopeError("disk on fire")

    start(slot, Job(broken, "broken"), rec, "a")
    qtbot.waitUntil(lambda: "a failed" in rec.names(), timeout=TIMEOUT)
    assert rec.names() == ["a end", "a failed"]
    assert "disk on fire" in str(rec.calls[1][1])


class Ch(Enum):
    IMAGE = 1
    VIEW = 2
    SEARCH = 3


def test_a_channel_drops_the_channels_it_replaces(qtbot):
    from PySide6.QtCore import QObject

    owner = QObject()
    board = Channels(
        owner,
        {Ch.IMAGE: (Ch.IMAGE, Ch.VIEW, Ch.SEARCH), Ch.VIEW: (Ch.VIEW, Ch.SEARCH), Ch.SEARCH: (Ch.SEARCH,)},
    )
    rec = Record()
    gates = {c: threading.Event() for c in Ch}
    for c in (Ch.VIEW, Ch.SEARCH):
        board.start(
            c, gated(c.name, gates[c]), rec.slot(f"{c.name} done"), rec.slot("failed"), rec.slot("cancelled")
        )
    assert board.running(Ch.SEARCH) and board.running(Ch.VIEW)
    board.start(
        Ch.VIEW,
        gated("view 2", gates[Ch.IMAGE]),
        rec.slot("VIEW2 done"),
        rec.slot("failed"),
        rec.slot("cancelled"),
    )
    assert not board.running(Ch.SEARCH)  # the new view dropped the search of the old one
    for g in gates.values():
        g.set()
    qtbot.waitUntil(lambda: "VIEW2 done" in rec.names(), timeout=TIMEOUT)
    idle: list[bool] = []
    for c in Ch:
        board.slots[c].when_idle(lambda: idle.append(True))
    qtbot.waitUntil(lambda: len(idle) == len(Ch), timeout=TIMEOUT)  # the dropped ones ended too
    assert "SEARCH done" not in rec.names() and "VIEW done" not in rec.names()


def test_a_job_launched_later_and_dropped_before_it_starts_still_ends(qtbot):
    """``launch``: the audit and the space findings start their job on a later timer. Dropped while it
    waits, the job still starts and ends, and only its ``on_end`` runs (no result reaches a slot); the slot
    is idle afterwards. One that waits and stays live delivers as any other."""
    from PySide6.QtCore import QTimer

    slot, rec = JobSlot(), Record()
    idle: list[bool] = []
    gate = threading.Event()
    gate.set()
    first = slot.start(
        gated("old", gate),
        rec.slot("first done"),
        rec.slot("first failed"),
        rec.slot("first cancelled"),
        on_end=lambda: rec.calls.append(("first end", None)),
        launch=lambda job: QTimer.singleShot(50, job.start),
    )
    assert slot.running and not first.done
    slot.drop()  # before the timer starts it
    slot.when_idle(lambda: idle.append(True))
    qtbot.waitUntil(lambda: bool(idle), timeout=TIMEOUT)
    assert rec.names() == ["first end"] and not slot.running
    start_later = slot.start(
        gated("new", gate),
        rec.slot("second done"),
        rec.slot("second failed"),
        rec.slot("second cancelled"),
        launch=lambda job: QTimer.singleShot(50, job.start),
    )
    qtbot.waitUntil(lambda: start_later.done, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "second done" in rec.names(), timeout=TIMEOUT)
    assert rec.calls[-1] == ("second done", "new")
