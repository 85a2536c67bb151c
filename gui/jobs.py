"""Who owns a job, and which of its signals still count: one live job per slot, per channel.

A ``JobSlot`` runs one live job at a time. Starting a job in a slot drops the job it replaces: that
job is cancelled and whatever it still sends is ignored (a result it still delivers goes to its
``discard``, so that what it made can be freed). ``cancel`` is the user's Cancel instead: the job
stops but is still the live one, so its end (cancelled) still reaches its slots. ``Channels`` are
slots by name, with the channels a new job on each one replaces (a new image replaces every job; a
new view its search and its preview). The controller (gui/controller.py) and the compare window
(gui/compare/), the space views (gui/space_flow.py: the treemap's layouts on a pool of their own,
the image's findings) and the audit (gui/auditor.py: a job that starts once the last image is
freed) own their jobs through these. The worker itself is gui/worker.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QThreadPool, Signal

from .worker import Job

Slot = Callable[..., None]
K = TypeVar("K")


class JobSlot(QObject):
    """One live job at a time (see the module docstring)."""

    ended = Signal()  # the live job ended (finished, failed or cancelled) and its slot ran

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job: Job | None = None
        self._running: set[Job] = set()  # started and not ended: the live one and dropped ones
        self._after: list[Callable[[], None]] = []

    @property
    def running(self) -> bool:
        """A live job runs."""
        return self.job is not None

    def start(
        self,
        job: Job,
        done: Slot,
        failed: Slot,
        cancelled: Slot,
        *,
        progress: Slot | None = None,
        partial: Slot | None = None,
        discard: Slot | None = None,
        on_end: Callable[[], None] | None = None,
        pool: QThreadPool | None = None,
        launch: Callable[[Job], None] | None = None,
    ) -> Job:
        """Run ``job`` as the live one, dropping the one it replaces. While it is live: ``done(result)``,
        ``failed(message)`` or ``cancelled()`` at its end, ``progress``/``partial`` on its way. Once it
        was dropped, a result goes to ``discard``. ``on_end()`` runs whenever it ends other than by
        finishing while live (first, before ``failed`` or ``cancelled``). ``launch(job)`` starts it
        when that is not at once (a job that waits for something on the GUI thread's timers): it must
        start the job even if it was dropped meanwhile, so that it ends (at its first cancel check)."""
        self.drop()
        self.job = job
        self._running.add(job)

        def still_live() -> bool:
            was = self.job is job
            if was:
                self.job = None
            self._running.discard(job)
            return was

        def last(slot: Slot, unsuccessful: bool) -> Slot:
            def call(*args: Any) -> None:
                live = still_live()
                if on_end is not None and (unsuccessful or not live):
                    on_end()
                if live:
                    slot(*args)
                    self.ended.emit()
                elif not unsuccessful and discard is not None:
                    discard(*args)
                self._idle()

            return call

        def passing(slot: Slot) -> Slot:
            return lambda *args: slot(*args) if self.job is job else None

        job.finished.connect(last(done, False))
        job.failed.connect(last(failed, True))
        job.cancelled_.connect(last(cancelled, True))
        if progress is not None:
            job.progressed.connect(passing(progress))
        if partial is not None:
            job.partial.connect(passing(partial))
        if launch is None:
            job.start(pool)
        else:
            launch(job)
        return job

    def cancel(self) -> None:
        """The user's Cancel: the live job stops, and still reports that it was cancelled."""
        if self.job is not None:
            self.job.cancel()

    def drop(self) -> None:
        """Cancel the live job; what it still sends is ignored (a result goes to its ``discard``)."""
        if self.job is not None:
            self.job.cancel()
            self.job = None

    def when_idle(self, f: Callable[[], None]) -> None:
        """Call ``f`` once no job of this slot runs any more, dropped ones included (at once when none
        does)."""
        if not self._running:
            f()
        else:
            self._after.append(f)

    def _idle(self) -> None:
        if not self._running:
            after, self._after = self._after, []
            for f in after:
                f()


class Channels(Generic[K]):
    """A JobSlot per channel; a job started on a channel drops the live jobs of the channels it
    replaces (``replaces[channel]``, itself included)."""

    def __init__(self, parent: QObject, replaces: Mapping[K, tuple[K, ...]]) -> None:
        self._replaces = replaces
        self.slots: dict[K, JobSlot] = {k: JobSlot(parent) for k in replaces}

    def running(self, channel: K) -> bool:
        return self.slots[channel].running

    def start(self, channel: K, job: Job, *args: Slot, **kwargs: Any) -> Job:
        """``JobSlot.start`` on ``channel``, once the jobs it replaces are dropped."""
        for replaced in self._replaces[channel]:
            self.slots[replaced].drop()
        return self.slots[channel].start(job, *args, **kwargs)

    def drop(self, channel: K) -> None:
        self.slots[channel].drop()

    def cancel(self, channel: K | None = None) -> None:
        """The user's Cancel on one channel, or on every one (None): each job still reports its end."""
        for k, slot in self.slots.items():
            if channel is None or k == channel:
                slot.cancel()
