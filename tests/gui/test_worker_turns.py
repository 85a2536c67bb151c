"""Workers and the GUI thread (gui/worker.py): a job dies on the GUI thread, never in its worker, and
workers leave the interpreter lock to the GUI thread while it is busy painting or answering models."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from PySide6.QtCore import QCoreApplication, Qt, QTimer

from layerscope.core.errors import Cancelled
from layerscope.gui.worker import GIVE_WAY_S, RECENT_S, WORKER_NICE, Job, gui_busy, share_with_gui_thread


def test_a_job_the_gui_let_go_of_is_freed_on_the_gui_thread(qtbot):
    """The GUI drops a superseded job at once; its runner then holds the last Python reference. The
    job must not be freed in the worker (a QObject destroyed there while the GUI thread delivers its
    signals crashed the window on reopens)."""
    release = threading.Event()
    died_in: list[str] = []
    ended: list[object] = []

    def work(_job: Job) -> int:
        release.wait(10)
        return 1

    job = Job(work, "superseded")
    job.destroyed.connect(
        lambda *_: died_in.append(threading.current_thread().name), Qt.ConnectionType.DirectConnection
    )
    job.finished.connect(ended.append)
    job.start()
    del job  # as a controller does when a newer job replaces it
    release.set()
    qtbot.waitUntil(lambda: bool(died_in), timeout=10000)
    assert died_in == [threading.main_thread().name]
    assert ended == [1]  # its slots ran before it went


def test_a_worker_pauses_while_the_gui_thread_is_busy(qtbot):
    """While the GUI thread marks its turn (a model's data, a paint), a worker at its cancel check
    waits (at most GIVE_WAY_S)."""
    share_with_gui_thread()  # as every window does
    checked_at: list[float] = []
    started = threading.Event()

    def work(job: Job) -> None:
        started.set()
        end = time.monotonic() + 3
        while time.monotonic() < end:
            job.cancelled()
            checked_at.append(time.monotonic())

    busy: list[tuple[float, float]] = []

    def gui_work() -> None:  # a slot that keeps the GUI thread busy for 30 ms, as a repaint does
        t = time.monotonic()
        while time.monotonic() - t < 0.03:
            gui_busy()
        busy.append((t, time.monotonic()))

    job = Job(work, "background")
    job.start()
    assert started.wait(5)
    for k in range(5):
        QTimer.singleShot(1000 + 50 * k, gui_work)  # after a second of the worker alone
    qtbot.waitUntil(lambda: len(busy) == 5, timeout=5000)
    job.cancel()
    # checks a millisecond, while the GUI thread was busy and while it was not (other windows of the
    # test session may paint meanwhile too: a rate, not none at all). Two timers late in a busy
    # session fire back to back: one busy span of 60 ms, past which the worker runs RUN_S by design;
    # only the first GIVE_WAY_S of each continuous span counts.
    spans: list[tuple[float, float]] = []
    for a, b in sorted(busy):
        if spans and a - spans[-1][1] < RECENT_S:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    windows = [(a + 0.005, min(b, a + GIVE_WAY_S) - 0.002) for a, b in spans]
    inside = [t for t in checked_at for a, b in windows if a < t < b]
    span = sum(b - a for a, b in windows)
    quiet = [t for t in checked_at if busy[0][0] - 1 < t < busy[0][0] - 0.02]
    assert quiet, "the worker did not run before the GUI thread got busy"
    assert GIVE_WAY_S >= 0.03
    assert len(inside) / span < 0.05 * len(quiet) / 0.98, (
        f"{len(inside)} checks while busy, {len(quiet)} before"
    )
    QCoreApplication.processEvents()


def test_the_process_end_stops_running_jobs_first():
    """At exit (atexit), running jobs are cancelled and waited for, before Qt's objects go."""
    import subprocess
    import sys

    script = """
import time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from layerscope.gui.worker import Job, share_with_gui_thread
app = QApplication([])
share_with_gui_thread()
def work(job):
    while not job.cancelled():
        time.sleep(0.001)
        job.progress("working", 1, 2)
    print("stopped", flush=True)
QTimer.singleShot(0, lambda: Job(work, "long").start())
QTimer.singleShot(200, app.quit)
app.exec()
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "stopped" in r.stdout
    assert "Signal source has been deleted" not in r.stderr and "Traceback" not in r.stderr


def test_background_work_waits_at_pause_points_while_foreground_work_runs():
    # freeing the last image (no cancel check of its own) waits while a treemap is laid out
    from layerscope.core.progress import pause_point
    from layerscope.gui.worker import background, foreground

    share_with_gui_thread()  # the engine's pause points are give_way
    passed: list[float] = []
    go = threading.Event()

    def freeing() -> None:
        with background():
            go.wait(5)
            pause_point()
            passed.append(time.monotonic())

    def plain() -> None:
        go.wait(5)
        pause_point()  # not background: never waits for foreground work
        passed.append(-time.monotonic())

    threads = [threading.Thread(target=freeing), threading.Thread(target=plain)]
    with foreground():
        for t in threads:
            t.start()
        go.set()
        time.sleep(0.3)
        assert [x for x in passed if x < 0] and not [x for x in passed if x > 0]
        ended = time.monotonic()
    for t in threads:
        t.join(5)
    assert next(x for x in passed if x > 0) >= ended


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own nice value is Linux's")
def test_workers_run_below_the_gui_thread_for_the_kernel(qtbot):
    """On two cores a load's threads and its forked children outnumber the cores: the kernel must hand
    the GUI thread a core first when it wakes (gui_bench: longest reopen stalls 195-205 ms before,
    100-124 ms after). A worker thread, and what it forks, run at WORKER_NICE; the GUI thread not."""
    gui_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[tuple[int, int]] = []

    def work(_job: Job) -> tuple[int, int]:
        mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child reports its own nice value
            os.write(w, str(os.getpriority(os.PRIO_PROCESS, 0)).encode())
            os._exit(0)
        os.close(w)
        child = int(os.read(r, 16))
        os.close(r)
        os.waitpid(pid, 0)
        return mine, child

    job = Job(work, "nice")
    job.finished.connect(seen.append)
    job.start()
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    mine, child = seen[0]
    assert mine >= WORKER_NICE and child >= WORKER_NICE
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == gui_nice


def test_a_cancelled_job_frees_what_its_frames_held_piece_by_piece(qtbot, monkeypatch):
    """What a job had made when it was cancelled (a half-loaded image) is freed as soon as it ends, and
    taken apart in turns: dropped at once, a cancelled load of the 2 GB image held the interpreter
    lock for 0.28 s."""
    import weakref

    class Part:  # an object of ours, as a half-made image's parts are
        pass

    import layerscope.core.session as session

    drained: list[int] = []  # the lengths of the lists taken apart
    real = session._drain_list

    def counting(lst: list[object], stack: list[object]) -> None:
        drained.append(len(lst))
        real(lst, stack)

    monkeypatch.setattr(session, "_drain_list", counting)
    refs: list[weakref.ref[Part]] = []
    ended: list[bool] = []

    def work(_job: Job) -> None:
        made = [Part() for _ in range(10_000)]  # held by the frame when it raises
        refs.append(weakref.ref(made[-1]))
        raise Cancelled

    job = Job(work, "half-made")
    job.cancelled_.connect(lambda: ended.append(True))
    job.start()
    qtbot.waitUntil(lambda: bool(ended), timeout=10000)
    assert refs and refs[0]() is None
    assert 10_000 in drained  # the frame's list was taken apart in turns, not freed in one go
