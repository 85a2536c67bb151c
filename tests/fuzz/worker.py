"""The worker: a child process that runs the pipeline on one case at a time.

It reads ``{"path", "export", "fork"}`` lines on stdin and answers one JSON line per case on stdout:
``{"outcome", "message", "seconds", "maxrss_mb"}``. Only LayerScopeError (one line, naming the file)
is an acceptable failure; its class name is the outcome. Anything else is ``"failure:<what>"``.

The address space is limited (``FUZZ_MEM_MB``, MiB) and, when ``FUZZ_CHROOT`` is set, the worker is
chrooted into the case folder first. Run it as ``python -c "from tests.fuzz.worker import worker_main;
worker_main()"`` (that is what :class:`tests.fuzz.runner.Runner` does).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from tests.fuzz.pipeline import LayerScopeError, preimport, run_pipeline


def one_line_naming(msg: str, path: Path) -> str | None:
    """Why an error message is not acceptable (None when it is)."""
    if "\n" in msg:
        return "the message has several lines"
    if str(path) not in msg and "export" not in msg:
        return "the message does not name the file"
    return None


def run_request(req: dict[str, Any]) -> dict[str, Any]:
    """Run one case (a request line, parsed) and say how it went (the answer line, unparsed)."""
    path = Path(req["path"])
    t0 = time.perf_counter()
    res: dict[str, Any] = {"outcome": "ok"}
    try:
        run_pipeline(path, Path(req["export"]), req.get("fork", False))
    except LayerScopeError as exc:
        res = {"outcome": type(exc).__name__, "message": str(exc)}
        bad = one_line_naming(str(exc), path)
        if bad:
            res = {"outcome": "failure:message", "message": f"{bad}: {exc!r}"}
    except MemoryError:
        res = {"outcome": "failure:memory", "message": traceback.format_exc()}
    except BaseException as exc:
        res = {"outcome": f"failure:{type(exc).__name__}", "message": traceback.format_exc()}
    res["seconds"] = time.perf_counter() - t0
    res["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return res


def worker_main() -> None:
    """Read ``{"path", "export", "fork"}`` lines on stdin, answer one JSON line per case on stdout."""
    preimport()
    mem = int(os.environ.get("FUZZ_MEM_MB", "1024"))
    root = os.environ.get("FUZZ_CHROOT")
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing the engine prints may break the protocol
    if root:
        os.chroot(root)
        os.chdir("/")
    resource.setrlimit(resource.RLIMIT_AS, (mem << 20, mem << 20))
    tempfile.tempdir = "/tmp" if root else os.environ["TMPDIR"]
    for line in sys.stdin:
        res = run_request(json.loads(line))
        out.write(json.dumps(res) + "\n")
        out.flush()


if __name__ == "__main__":
    worker_main()
