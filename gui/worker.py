"""The one way LayerScope runs work off the GUI thread.

A job is a generator function that receives a ``Job`` handle: it reports progress through
``job.progress(stage, done, total)``, hands partial results to the GUI with ``job.emit(kind, value)``
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
        self.done = False

    # -- called from the worker thread -------------------------------------------------------
    def progress(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_progress >= 0.05 or done >= total:  # at most 20 updates a second
            self._last_progress = now
            self.progressed.emit(stage, int(done), int(total))

    def emit(self, kind: str, value: object) -> None:
        self.partial.emit(kind, value)

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # -- called from the GUI thread --------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def start(self) -> None:
        QThreadPool.globalInstance().start(_Runner(self))

    def _run(self) -> None:
        try:
            result = self._fn(self)
        except Cancelled:
            self.done = True
            self.cancelled_.emit()
            return
        except LayerScopeError as exc:
            self.done = True
            self.failed.emit(str(exc))
            return
        except MemoryError:
            self.done = True
            self.failed.emit("out of memory")
            return
        except Exception as exc:
            traceback.print_exc()
            self.done = True
            self.failed.emit(f"internal error: {type(exc).__name__}: {exc}")
            return
        self.done = True
        if self._cancel.is_set():
            self.cancelled_.emit()
        else:
            self.finished.emit(result)


class _Runner(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        self.job._run()
