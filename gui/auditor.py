"""The audit of the image shown (core/audit), as one background job the controller owns.

The controller starts it once an image is shown (``start``), a new image stops it (``stop``), and
the Findings tab asks for another run with or without every file (``rerun``) or cancels it
(``cancel``). One job is live at a time (a ``jobs.JobSlot``): whatever a job that is no longer the
live one (or whose image is no longer shown) still sends is dropped. The allow-list is the
``.layerscope-audit`` file next to the image's file, when there is one; a mistake in it is one line
on the tab, and the audit then runs without it. The GUI never uses the audit's second core (it
forks).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import cast

from PySide6.QtCore import QObject, QTimer, Signal

from layerscope.core.audit import AllowList, AuditReport, audit, read_allow_file
from layerscope.core.audit.allow import DEFAULT_FILE
from layerscope.core.errors import LayerScopeError
from layerscope.core.progress import check_cancelled
from layerscope.core.session import LoadedImage

from .jobs import JobSlot
from .worker import Job

WAIT_MS = 50
"""How often a waiting audit looks whether the replaced image is freed."""


class AuditState(StrEnum):
    """Where the audit of the image shown is."""

    NONE = "none"  # no image, or one still being read
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


def allow_file_for(image_path: Path | None) -> Path | None:
    """The ``.layerscope-audit`` next to an image's file (or folder), when there is one."""
    if image_path is None:
        return None
    candidate = image_path.parent / DEFAULT_FILE
    return candidate if candidate.is_file() else None


class Auditor(QObject):
    """The audit of the controller's image; see the module docstring."""

    started = Signal()  # an audit of the image shown started (``report`` is None until it ends)
    progressed = Signal(str, int, int)  # stage, bytes read, bytes to read
    changed = Signal()  # ``state``, ``report``, ``error`` or ``allow_note`` changed

    def __init__(self, parent: QObject | None = None, wait: Callable[[], bool] = lambda: False) -> None:
        super().__init__(parent)
        self._wait = wait  # True while a replaced image is still being freed (the job waits for it)
        self.state = AuditState.NONE
        self.report: AuditReport | None = None
        self.error: str | None = None  # why the last run failed
        self.allow_note = ""  # the allow-list used, or why it could not be read
        self.deep = False  # "Audit all files": package trees too
        self.withheld = False  # another image is being read: ``report`` is the replaced image's
        self.report_deep = False  # ``deep`` as it was when ``report`` was made
        self._slot = JobSlot(self)
        self._shown: Callable[[], LoadedImage | None] = lambda: None  # a weak reference
        self._path: Path | None = None

    @property
    def running(self) -> bool:
        return self._slot.running

    @property
    def shown_report(self) -> AuditReport | None:
        """The report to show: None while another image is being read (``report`` is then the image
        being replaced, beside the new image's timeline; a cancelled read shows it again)."""
        return None if self.withheld else self.report

    def start(self, session: LoadedImage, image_path: Path | None) -> None:
        """Audit ``session`` (the image now shown; its file ``image_path``) in the background."""
        self._drop()
        self._shown = weakref.ref(session)  # the slots never hold the image (it must free on close)
        self._path = image_path
        self.withheld = False
        self.report, self.error, self.allow_note = None, None, ""
        self._run(session)

    def resume(self, session: LoadedImage | None, image_path: Path | None) -> None:
        """An open ended without a new image: audit ``session`` again unless that is done or running."""
        self.withheld = False
        done = self._shown() is session and self.state is AuditState.DONE and self.report_deep == self.deep
        if session is None or self.running or done:  # (``deep`` changed while withheld: audit again)
            self.changed.emit()
            return
        self.start(session, image_path)

    def rerun(self, deep: bool | None = None) -> None:
        """Audit the image shown again (``deep``: every file, package trees too)."""
        if deep is not None:
            self.deep = deep
        session = self._shown()
        if session is not None and not self.withheld:  # withheld: the next image's audit uses ``deep``
            self.start(session, self._path)

    def cancel(self) -> None:
        """The user's Cancel: the running audit stops (``state`` becomes CANCELLED)."""
        self._slot.cancel()

    def stop(self) -> None:
        """Another image replaces the one shown (or the window closes): the running audit stops and
        whatever it still sends is dropped; the last report is kept, withheld from view, until ``start``
        (or ``resume``, when the other image does not replace it)."""
        running = self._slot.running
        self._drop()  # also a job still waiting for its start (``_start_when_free``) never starts
        if running:
            self.state = AuditState.NONE
        self.withheld = True
        self.changed.emit()

    def clear(self) -> None:
        """No image any more: nothing to show."""
        self._drop()
        self._shown = lambda: None
        self.withheld = False
        self.report, self.error, self.allow_note = None, None, ""
        self.state = AuditState.NONE
        self.changed.emit()

    # ---- the job --------------------------------------------------------------------------------
    def _drop(self) -> None:
        self._slot.drop()  # what the live job still sends is dropped

    def _run(self, session: LoadedImage) -> None:
        deep, path = self.deep, self._path

        def work(job: Job) -> tuple[AuditReport, str, bool]:
            check_cancelled(job.cancelled)
            allow, note = _allow_list(path)
            # no quiet_gc: the report is small (its objects need no freezing out of the collector)
            report = audit(session, allow, deep, progress=job.progress, cancelled=job.cancelled)
            return report, note, deep

        shown = self._shown

        def ended(state: AuditState, error: str | None = None, result: object = None) -> None:
            if shown() is None:
                return
            self.state, self.error = state, error
            if result is not None:
                self.report, self.allow_note, self.report_deep = cast(tuple[AuditReport, str, bool], result)
            self.changed.emit()

        def progressed(stage: str, done: int, total: int) -> None:
            if shown() is not None:
                self.progressed.emit(stage, done, total)

        self.state = AuditState.RUNNING
        self._slot.start(
            Job(work, "audit"),
            lambda result: ended(AuditState.DONE, result=result),
            lambda why: ended(AuditState.FAILED, why),
            lambda: ended(AuditState.CANCELLED),
            progress=progressed,
            launch=lambda job: QTimer.singleShot(0, lambda: self._start_when_free(job)),
        )
        self.started.emit()
        self.changed.emit()

    def _start_when_free(self, job: Job) -> None:
        """Start ``job`` once the replaced image is freed (its pages first: the controller's jobs
        after a load wait for it as well). The wait is on the GUI thread's timer, not in a worker: a
        waiting worker would hold one of the pool's threads, which the release itself may need. A job
        dropped meanwhile starts at once, and ends at its first cancel check."""
        if self._slot.job is job and self._wait():
            QTimer.singleShot(WAIT_MS, lambda: self._start_when_free(job))
        else:
            job.start()


def _allow_list(image_path: Path | None) -> tuple[AllowList | None, str]:
    """The allow-list next to the image's file and what the tab says about it."""
    found = allow_file_for(image_path)
    if found is None:
        return None, ""
    try:
        return read_allow_file(found), f"allow-list {found}"
    except LayerScopeError as exc:
        return None, f"allow-list not used: {exc}"
