"""The runner: one worker process, its case folder, and the checks around each case.

Each case is written into the case folder and run by the worker (:mod:`tests.fuzz.worker`). Besides
the worker's own outcome, the runner reports as failures:

* a hang: the worker does not answer within ``timeout`` seconds (it is killed);
* memory: the worker runs with ``RLIMIT_AS`` (MemoryError, or death, is reported);
* a write outside the export folder: the case folder is checked after every case (a canary folder
  next to the export, the temporary folder, leftovers of the export's temporary siblings). When
  running as root the worker is also chrooted into the case folder, so a bug cannot touch the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.fuzz.cases import Case, write_case
from tests.fuzz.pipeline import DEST_NAMES, remove_tree
from tests.fuzz.plans import Plan
from tests.fuzz.seeds import Seed

WORKER_CODE = "from tests.fuzz.worker import worker_main; worker_main()"


@dataclass
class Outcome:
    """How a case went, as the worker answered (or as the runner saw it when the worker did not)."""

    outcome: str  # "ok", a LayerScopeError class name, or "failure:<what>"
    message: str = ""
    seconds: float = 0.0
    maxrss_mb: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Whether the case found a bug (an accepted LayerScopeError is not one)."""
        return self.outcome.startswith("failure:")


def force_rmtree(p: Path) -> None:
    """Remove whatever a case left (read-only folders, devices, fifos, symlinks) without following links."""
    if p.is_symlink() or not p.is_dir():
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
        return
    remove_tree(p)
    if p.exists():
        shutil.rmtree(p, ignore_errors=True)


class Runner:
    """Runs cases in a worker process under a time and a memory bound."""

    CANARY = b"the canary: nothing may change this file\n"

    def __init__(
        self, base: Path, timeout: float = 10.0, mem_mb: int = 1024, chroot: bool | None = None
    ) -> None:
        self.base = base
        self.case = base / "case"
        self.timeout = timeout
        self.mem_mb = mem_mb
        self.chroot = (os.geteuid() == 0) if chroot is None else chroot
        self.proc: subprocess.Popen[bytes] | None = None
        self.maxrss_mb = 0
        self.case.mkdir(parents=True, exist_ok=True)

    def _start(self) -> subprocess.Popen[bytes]:
        """A new worker process, in the case folder, with the bounds in its environment."""
        env = dict(os.environ)
        env["FUZZ_MEM_MB"] = str(self.mem_mb)
        env["TMPDIR"] = str(self.case / "tmp")
        # no persistent cache: each case must meet the archive cold (replays stay exact); the cache's
        # own files are fuzzed by tests/core/test_cache.py
        env["LAYERSCOPE_CACHE_MAX"] = "0"
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        if self.chroot:
            env["FUZZ_CHROOT"] = str(self.case)
        return subprocess.Popen(
            [sys.executable, "-c", WORKER_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=str(self.case),
            env=env,
        )

    def close(self) -> None:
        """Stop the worker (politely: end of input; then killed)."""
        if self.proc is not None:
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def _kill(self) -> None:
        """Kill the worker at once (it hangs, or the protocol broke)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def prepare(self) -> None:
        """Empty the case folder and set it up: export/, tmp/, outside/canary."""
        for child in list(self.case.iterdir()):
            force_rmtree(child)
        (self.case / "export").mkdir()
        (self.case / "tmp").mkdir()
        (self.case / "outside").mkdir()
        (self.case / "outside" / "canary").write_bytes(self.CANARY)

    def _inside(self, p: Path) -> str:
        """The path as the worker sees it."""
        return "/" + p.relative_to(self.case).as_posix() if self.chroot else str(p)

    def run(self, case: Case, fork: bool = False) -> Outcome:
        """Write the case, run it in the worker (started when needed), check the case folder after it."""
        self.prepare()
        path = write_case(case, self.case)
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        req = {"path": self._inside(path), "export": self._inside(self.case / "export"), "fork": fork}
        try:
            self.proc.stdin.write((json.dumps(req) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            self._kill()
            return Outcome("failure:worker-died", "the worker was gone before the case")
        fd = self.proc.stdout
        t0 = time.perf_counter()
        ready, _w, _x = select.select([fd], [], [], self.timeout + 5.0)  # +5 s: worker start-up
        if not ready:
            self._kill()
            res = Outcome("failure:timeout", f"no answer within {self.timeout:.0f} s")
        else:
            line = fd.readline()
            if not line:
                code = self.proc.wait()
                self.proc = None
                res = Outcome("failure:worker-died", f"the worker exited with status {code}")
            else:
                d = json.loads(line)
                res = Outcome(d["outcome"], d.get("message", ""), d["seconds"], d["maxrss_mb"])
                if res.seconds > self.timeout:
                    res = Outcome("failure:timeout", f"took {res.seconds:.1f} s", res.seconds, res.maxrss_mb)
                self.maxrss_mb = max(self.maxrss_mb, res.maxrss_mb)
        res.extra["wall"] = time.perf_counter() - t0
        escaped = self.check_outside(path)
        if escaped and not res.failed:
            res = Outcome("failure:wrote-outside", escaped, res.seconds, res.maxrss_mb)
        return res

    def check_outside(self, input_path: Path) -> str | None:
        """What the case wrote outside the export folder (None when nothing)."""
        problems = []
        allowed = {input_path.name, "export", "tmp", "outside"}
        for child in self.case.iterdir():
            if child.name not in allowed:
                problems.append(f"{child.name} appeared next to the export folder")
        outside = self.case / "outside"
        if sorted(os.listdir(outside)) != ["canary"] or (outside / "canary").read_bytes() != self.CANARY:
            problems.append(f"the canary folder changed: {sorted(os.listdir(outside))}")
        st_ = os.lstat(outside / "canary")
        if not stat.S_ISREG(st_.st_mode) or st_.st_nlink != 1:
            problems.append("the canary was replaced or linked to")
        left = os.listdir(self.case / "tmp")
        if left:
            problems.append(f"temporary files left: {left[:5]}")
        for name in os.listdir(self.case / "export"):
            if name not in DEST_NAMES:
                problems.append(f"export folder holds {name!r}")
        return "; ".join(problems) or None


def describe_failure(plan: Plan, seeds: list[Seed], res: Outcome) -> str:
    """A failure report: the outcome, the seed archive, the plan (to reproduce it) and the message."""
    return (
        f"{res.outcome} on seed {seeds[plan['seed'] % len(seeds)].name}\n"
        f"plan: {json.dumps(plan)}\n{res.message}"
    )
