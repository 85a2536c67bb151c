"""The one way LayerScope runs work off the GUI thread.

A job is a generator function that receives a ``Job`` handle: it reports progress through
``job.progress(stage, done, total)``, hands partial results to the GUI with ``job.emit_partial(kind, value)``
(e.g. the layers as soon as they are read), and checks ``job.cancelled()``; its return value is the
result. Signals are delivered on the GUI thread (queued connections), so slots may touch models.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

from layerscope.core.errors import Cancelled, LayerScopeError
from layerscope.core.progress import set_pause_point
from layerscope.core.session import dismantle


class Job(QObject):
    progressed = Signal(str, int, int)  # stage, done, total
    partial = Signal(str, object)  # kind, value
    finished = Signal(object)  # result
    failed = Signal(str)  # one-line message
    cancelled_ = Signal()

    def __init__(self, fn: Callable[[Job], Any], name: str = "job") -> None:
        super().__init__()
        self._fn = fn
        self.name = name
        self._cancel = threading.Event()
        self._last_progress = 0.0
        self._last_stage = ""
        self.done = False

    # -- called from the worker thread -------------------------------------------------------
    def progress(self, stage: str, done: int, total: int) -> None:
        give_way()
        now = time.monotonic()
        # at most 20 updates a second; a new stage and a stage's end always
        if now - self._last_progress >= 0.05 or done >= total or stage != self._last_stage:
            self._last_progress = now
            self._last_stage = stage
            self.progressed.emit(stage, int(done), int(total))

    def emit_partial(self, kind: str, value: object) -> None:
        # not ``emit``: that would shadow QObject.emit (string-based signal emission)
        self.partial.emit(kind, value)

    def cancelled(self) -> bool:
        give_way()  # a check is a moment the GUI thread may want the interpreter lock
        return self._cancel.is_set()

    # -- called from the GUI thread --------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def start(self, pool: QThreadPool | None = None) -> None:
        """Run on ``pool`` (the global pool when None; a flow whose jobs must not queue behind the
        background jobs keeps its own, gui/space_flow.py)."""
        # Once started, owned by a GUI-thread object and freed by deleteLater after its last signal's
        # slots (connected last: Qt calls them in order). Freed by its last Python reference instead,
        # it could die in the worker thread (the runner holds the last one once the GUI has let go of
        # a superseded job) while the GUI thread delivers its signals: a crash.
        self.setParent(_home())
        for ended in (self.finished, self.failed, self.cancelled_):
            ended.connect(self.deleteLater)
        (pool or QThreadPool.globalInstance()).start(_Runner(self))

    def _run(self) -> None:
        fn, self._fn = self._fn, _spent  # what the function holds goes when it returns, off the GUI thread
        try:
            result = fn(self)
        except Cancelled as exc:
            _let_go(exc)
            self.done = True
            self.cancelled_.emit()
            return
        except LayerScopeError as exc:
            _let_go(exc)
            self.done = True
            self.failed.emit(str(exc))
            return
        except MemoryError as exc:
            _let_go(exc)
            self.done = True
            self.failed.emit("out of memory")
            return
        except Exception as exc:
            traceback.print_exc()
            _let_go(exc)
            self.done = True
            self.failed.emit(f"internal error: {type(exc).__name__}: {exc}")
            return
        self.done = True
        if self._cancel.is_set():
            self.cancelled_.emit()
        else:
            self.finished.emit(result)


_homes: list[QObject] = []


def _home() -> QObject:
    """The parent of every started job, on the GUI thread."""
    if not _homes:
        home = QObject()
        app = QCoreApplication.instance()
        if app is not None:
            home.moveToThread(app.thread())
        _homes.append(home)
        atexit.register(stop_all)
    return _homes[0]


STOP_WAIT_S = 5.0
"""How long the process's end waits for cancelled jobs to stop."""


def stop_all(wait_s: float = STOP_WAIT_S) -> None:
    """Cancel every running job and wait (up to ``wait_s``) until they stopped: at the process's end,
    before Qt's objects go (a job still running then would report to a deleted object)."""
    running = [j for home in _homes for j in home.findChildren(Job) if not j.done]
    for job in running:
        job.cancel()
    end = time.monotonic() + wait_s
    while any(not j.done for j in running) and time.monotonic() < end:
        time.sleep(0.01)


def _spent(_job: Job) -> None:
    raise RuntimeError("a job runs once")


def _let_go(exc: BaseException) -> None:
    """A job that stopped half-way: its traceback's frames hold what it had made (a half-loaded image,
    an open archive). Clear them now, so that it is freed at once instead of in a cycle that waits for
    the cyclic GC (or is frozen out of it by the next load, core/session.py), and take it apart piece
    by piece here (core.session.dismantle): the frames' last references dropped at once freed a
    cancelled load of the 2 GB image in one cascade, holding the interpreter lock for 0.28 s (a stall
    of the window, measured)."""
    holder: list[Any] = []
    try:  # never in the way of the job's end: at worst, what the frames held goes in one cascade
        held = []
        tb = exc.__traceback__
        while tb is not None:
            held.append(dict(tb.tb_frame.f_locals))  # the locals outlive the frames' own references
            tb = tb.tb_next
        holder.append(held)
        del held, tb
    except Exception:  # MemoryError included: then only what the frames hold is dropped
        holder.clear()
    traceback.clear_frames(exc.__traceback__)
    exc.__traceback__ = None
    try:
        dismantle(holder)
    except Exception:
        holder.clear()


class _Runner(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        lower_this_thread()
        self.job._run()


WORKER_NICE = 10
"""How much lower than the GUI thread the kernel ranks a worker thread (and the processes it forks)."""


def lower_this_thread() -> None:
    """Rank this worker thread below the GUI thread for the kernel (Linux: a thread's own nice value;
    the processes it forks inherit it). Once per pool thread; elsewhere, nothing."""
    if getattr(_worker, "lowered", False):
        return
    _worker.lowered = True
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        if now < WORKER_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICE)
    except OSError:
        pass


# ---- foreground work first ---------------------------------------------------------------------------
_foreground = 0
_foreground_lock = threading.Lock()
COURTESY_SLEEP = 0.005
"""How long a background job sleeps between two looks at whether foreground work still runs."""


class foreground:  # a context manager, used as ``with foreground():``
    """Marks work a user waits for (the treemap of a click); background jobs that check their cancel
    through ``courteous`` pause meanwhile. Python threads share one interpreter lock: without this,
    a zoom waits for every warm-up job's share of it."""

    def __enter__(self) -> None:
        global _foreground
        with _foreground_lock:
            _foreground += 1

    def __exit__(self, *_exc: object) -> None:
        global _foreground
        with _foreground_lock:
            _foreground -= 1


class background:  # a context manager, used as ``with background():``
    """Marks what this worker thread runs as background work down to the engine's pause points
    (core/progress.py): there it also waits while foreground work runs, as ``courteous`` makes a
    cancel check wait (for work that takes no cancel check: freeing an image, core.session.dismantle)."""

    def __enter__(self) -> None:
        _worker.background = True

    def __exit__(self, *_exc: object) -> None:
        _worker.background = False


def courteous(cancelled: Callable[[], bool]) -> Callable[[], bool]:
    """``cancelled`` for background work: it also waits while foreground work runs (never while
    holding anything the foreground work needs: pass it only to work that shares no lock with it)."""

    def check() -> bool:
        while _foreground and not cancelled():
            time.sleep(COURTESY_SLEEP)
        return cancelled()

    return check


# ---- the GUI thread's turn ---------------------------------------------------------------------------
# Qt calls into Python for every cell it paints and every virtual of a widget made in Python, and each
# call takes the interpreter lock. While workers run Python, each of those calls waits for the lock to
# be handed over, and for the kernel to give the GUI thread a core back: a repaint of a thousand calls
# took 200-600 ms on two cores. So the GUI thread's busiest Python code (every model's ``data``, the
# treemap's painting) marks its turn with ``gui_busy``, and workers pause at their checks
# (``Job.cancelled``, ``Job.progress``, the engine's ``pause_point``) while such marks keep coming.
# (Not by overriding QApplication.notify: PySide then hands some events to Python with a stale
# wrapper for the receiver, the call fails and the event is lost.)
SWITCH_INTERVAL_S = 0.0002
"""How long a thread waiting for the interpreter lock waits before asking for it (5 ms by default)."""
RECENT_S = 0.01
"""The GUI thread counts as busy this long after its last mark (more than it may wait for the lock)."""
GIVE_WAY_S = 0.05
"""How long, at most, a worker pauses at once; then it runs RUN_S without pausing, so a GUI thread
that never stops painting slows workers down but does not stop them."""
RUN_S = 0.01
_PAUSE_S = 0.0002

_marked = 0.0  # time.monotonic() of the GUI thread's last mark
_worker = threading.local()  # per worker: ``free_until``, the end of its run after a long pause


def gui_busy() -> None:
    """Mark that the GUI thread runs Python for Qt (painting a cell, answering a model question)."""
    global _marked
    _marked = time.monotonic()


def share_with_gui_thread() -> None:
    """A short switch interval (a thread waiting for the interpreter lock asks for it after 0.2 ms,
    not 5), and the engine's pause points give way (every window sets them, so that tests and
    benchmarks run as the app does)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    set_pause_point(give_way)  # the engine's long loops give way too (core/progress.py)


def give_way() -> None:
    """Pause this worker while the GUI thread is busy (marked in the last RECENT_S): at most
    GIVE_WAY_S at once, then it runs RUN_S before it pauses again. Inside ``background``, it also
    waits while foreground work runs."""
    if _foreground and getattr(_worker, "background", False):
        while _foreground:
            time.sleep(COURTESY_SLEEP)
    now = time.monotonic()
    if now - _marked > RECENT_S or threading.current_thread() is threading.main_thread():
        return
    if now < getattr(_worker, "free_until", 0.0):
        return
    start = now
    while now - _marked <= RECENT_S:
        if now - start > GIVE_WAY_S:
            _worker.free_until = now + RUN_S
            return
        time.sleep(_PAUSE_S)
        now = time.monotonic()
