"""Freeing what a window no longer shows, off the GUI thread.

Dropping the last reference to a loaded image frees its million objects in one cascade, holding
the interpreter lock for 0.1-0.2 s on the 2 GB image: a freeze of the GUI. ``free_later`` takes the
objects apart piece by piece in a job (core.session.dismantle), then gives the memory back to the
system; work that should run once an image is freed (the after-load jobs, the space findings'
job) waits while ``releases_pending``. The freeing itself is background work: it pauses while a
treemap the user waits for is laid out (gui/worker.py's ``background``). It runs on a thread of its
own, never queued behind the jobs that wait for it.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QThreadPool

from layerscope.core.session import dismantle, release_memory

from .worker import Job, background

_BACKGROUND: set[Job] = set()
"""Jobs no one waits for (freeing what windows no longer show), kept until they have run."""


_POOL: list[QThreadPool] = []


def _pool() -> QThreadPool:
    """The releases' own thread. Jobs that wait for a release to end (the after-load jobs, the space
    findings) run on the global pool: were the release queued there too, two such jobs holding both
    threads of a two-core machine would wait for it forever (a tester's reopen of the 2 GB image
    while clicking layers wedged the window so)."""
    if not _POOL:
        pool = QThreadPool(QCoreApplication.instance())
        pool.setMaxThreadCount(1)
        _POOL.append(pool)
    return _POOL[0]


def releases_pending() -> bool:
    """Whether a window's discarded image is still being freed (``free_later``'s jobs)."""
    return any(not j.done for j in list(_BACKGROUND))  # a copy: also asked from a worker thread


def free_later(holder: list[object], collect: bool) -> None:
    """Free what ``holder`` holds in a job (a main window's image, a compare window's images and
    diffs); with ``collect`` also collect the cycles the loads froze (core.session.release_memory:
    a pass over every object, when a window closes)."""

    def work(_job: Job) -> None:
        with background():  # a treemap the user waits for goes first
            while holder:
                dismantle(holder)
        release_memory(collect)

    for done in [j for j in _BACKGROUND if j.done]:
        _BACKGROUND.discard(done)
    job = Job(work, "release")
    _BACKGROUND.add(job)
    job.start(_pool())
