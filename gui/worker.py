"""The one way LayerScope runs work off the GUI thread.

A job is a generator function that receives a ``Job`` handle: it reports progress through
``job.progress(stage, done, total)``, hands partial results to the GUI with ``job.emit_partial(kind, value)``
(e.g. the layers as soon as they are read), and checks ``job.cancelled()``; its return value is the
result. Signals are delivered on the GUI thread (queued connections), so slots may touch models.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from layerscope.core.errors import Cancelled, LayerScopeError


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
        return self._cancel.is_set()

    # -- called from the GUI thread --------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def start(self, pool: QThreadPool | None = None) -> None:
        """Run on ``pool`` (the global pool when None; a flow whose jobs must not queue behind the
        background jobs keeps its own, gui/space_flow.py)."""
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


def _spent(_job: Job) -> None:
    raise RuntimeError("a job runs once")


def _let_go(exc: BaseException) -> None:
    """A job that stopped half-way: its traceback's frames hold what it had made (a half-loaded image,
    an open archive). Clear them now, so that reference counting frees it all at once, instead of a
    cycle that waits for the cyclic GC (or is frozen out of it by the next load, core/session.py)."""
    traceback.clear_frames(exc.__traceback__)
    exc.__traceback__ = None


class _Runner(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        self.job._run()


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


def courteous(cancelled: Callable[[], bool]) -> Callable[[], bool]:
    """``cancelled`` for background work: it also waits while foreground work runs (never while
    holding anything the foreground work needs: pass it only to work that shares no lock with it)."""

    def check() -> bool:
        while _foreground and not cancelled():
            time.sleep(COURTESY_SLEEP)
        return cancelled()

    return check
