"""Use the second core from the command line: run a pure function in a forked child.

The child inherits the parent's memory (the layer indexes are not copied or pickled on the way in);
only the result comes back, pickled through a pipe. Where fork is unavailable, or the child fails,
the function simply runs in-process. Never used from the GUI: forking a Qt process is unsafe.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def fork_call(fn: Callable[[], T]) -> Callable[[], T]:
    """Start ``fn()`` in a child process now; the returned function waits for and returns its result."""
    if not hasattr(os, "fork"):
        return fn
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running the parent's cleanup
        status = 0
        try:
            os.close(r)
            data = pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                n = os.write(w, view)
                view = view[n:]
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(w)

    def wait() -> T:
        chunks = []
        with os.fdopen(r, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                chunks.append(b)
        _pid, status = os.waitpid(pid, 0)
        if status != 0 or not chunks:
            return fn()
        result: T = pickle.loads(b"".join(chunks))
        return result

    return wait
