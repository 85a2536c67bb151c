"""Freeing a discarded image (gui/release.py) never waits behind the jobs that wait for it."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThreadPool

from layerscope.gui.release import free_later, releases_pending
from layerscope.gui.worker import Job

TIMEOUT = 15000


def test_a_release_runs_while_every_pool_thread_waits_for_it(qtbot):
    """The after-load jobs and the space findings wait in a worker while a release is pending. With
    both threads of the global pool (two cores) held by such jobs, a release queued on that pool
    never ran: the window wedged (a tester: reopen the 2 GB image, click layers while it loads)."""
    threads = QThreadPool.globalInstance().maxThreadCount()
    gate = threading.Event()
    ended: list[str] = []

    def waiter(_job: Job) -> str:
        gate.wait(10)
        deadline = time.monotonic() + 10  # never hang the suite: give up after 10 s
        while releases_pending():
            if time.monotonic() > deadline:
                return "waited in vain"
            time.sleep(0.01)
        return "released"

    jobs = [Job(waiter, f"waits {i}") for i in range(threads)]
    for job in jobs:
        job.finished.connect(ended.append)
        job.start()
    free_later([list(range(100_000))], collect=False)  # queued while every pool thread is taken
    assert releases_pending()
    gate.set()  # the pool's jobs now wait for the release
    qtbot.waitUntil(lambda: len(ended) == threads, timeout=TIMEOUT)
    assert ended == ["released"] * threads and not releases_pending()
