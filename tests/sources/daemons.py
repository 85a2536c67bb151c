"""Real engines for the engine-source tests: a private dockerd and a private ``podman system service``.

Each is started once per test session as root, with every folder of its own (data, exec and run
roots, the socket) under a temp folder, loaded with corpus archives by the engine's own CLI
(``docker load`` / ``podman load``), and stopped at the end. No iptables, no bridge: the engines only
store and export images here. When not root, or a binary is missing, the fixtures skip with the
reason; under CI=true they fail instead (.ci/run runs the suite as root with both installed).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, REAL, need_shared, need_tool

DOCKERD = "/usr/sbin/dockerd"
START_TIMEOUT = 40.0


@dataclass(frozen=True)
class Loaded:
    """One image the engine holds: the reference that opens it, and the same image as a corpus file."""

    reference: str
    corpus: Path
    image: str | int  # how Archive.select picks it in the corpus file
    listed: str  # the name the engine lists it by


@dataclass
class Engine:
    """A running engine: its socket, the environment variable that points at it, what it holds."""

    name: str
    socket: Path
    env: dict[str, str]
    images: list[Loaded] = field(default_factory=list)


# what each engine is loaded with: corpus file -> the images of it to compare
# (reference, how to select it in the file, the name the engine lists)
Load = tuple[str, str | int, str]
DOCKER_LOADS: dict[str, list[Load]] = {
    "docker20-multi.save.tar": [
        ("docker-daemon:corpus/docker20-edge:1", "corpus/docker20-edge:1", "corpus/docker20-edge:1"),
        ("docker-daemon:corpus/bbase:1", "corpus/bbase:1", "corpus/bbase:1"),
    ],
    "docker26-edge.save.tar": [
        (
            "docker-daemon:corpus/docker26-edge:latest",
            "corpus/docker26-edge:latest",
            "corpus/docker26-edge:latest",
        )
    ],
    "umoci-edge.docker.tar": [("docker-daemon:corpus/umoci-edge:1", 0, "corpus/umoci-edge:1")],
    "podman-multi.docker.tar": [
        ("docker-daemon:localhost/corpus/buildah-run:1", 1, "localhost/corpus/buildah-run:1")
    ],
}
PODMAN_LOADS: dict[str, list[Load]] = {
    "podman-multi.docker.tar": [
        ("podman:localhost/corpus/buildah-copy:1", 0, "localhost/corpus/buildah-copy:1"),
        ("podman:corpus/buildah-run:1", 1, "localhost/corpus/buildah-run:1"),
        ("podman:corpus/bbase:1", 2, "localhost/corpus/bbase:1"),
    ],
    "umoci-insert.docker.tar": [("podman:corpus/umoci-insert:1", 0, "docker.io/corpus/umoci-insert:1")],
}


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: .ci/run must provide it and run as root)")
    pytest.skip(reason)


def need_root(what: str) -> None:
    """Skip (fail under CI) unless this process is root."""
    if os.geteuid() != 0:
        _unavailable(f"{what} needs root for a private instance (run the tests as root)")


def _ping(sock: Path) -> bool:
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), timeout=2.0) as c:
            return c.get("http://engine/_ping").status_code == 200
    except httpx.HTTPError:
        return False


def _wait(proc: subprocess.Popen[bytes], sock: Path, log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {_tail(log)}")
        if sock.exists() and _ping(sock):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer on {sock} within {START_TIMEOUT:g} s: {_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").splitlines()[-5:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _run(cmd: list[str], what: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({r.returncode}): {r.stderr.strip()[-500:]}")


def _loaded(loads: dict[str, list[Load]]) -> list[Loaded]:
    return [Loaded(ref, REAL / f, sel, listed) for f, images in loads.items() for ref, sel, listed in images]


@pytest.fixture(scope="session")
def dockerd() -> Iterator[Engine]:
    """A private dockerd (overlay2, else vfs) loaded with DOCKER_LOADS."""
    need_shared()
    need_root("dockerd")
    if not os.access(DOCKERD, os.X_OK):
        _unavailable(f"{DOCKERD} is not installed (Debian package docker.io)")
    docker = need_tool("docker")
    top = Path(tempfile.mkdtemp(prefix="ls-dockerd-"))
    sock = top / "d.sock"
    proc: subprocess.Popen[bytes] | None = None
    try:
        errors = []
        for driver in ("overlay2", "vfs"):
            log = top / f"dockerd-{driver}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [
                        DOCKERD,
                        f"--storage-driver={driver}",
                        "--iptables=false",
                        "--ip6tables=false",
                        "--bridge=none",
                        "--host",
                        f"unix://{sock}",
                        "--data-root",
                        str(top / f"root-{driver}"),
                        "--exec-root",
                        str(top / "x"),
                        "--pidfile",
                        str(top / "d.pid"),
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                _wait(proc, sock, log, f"dockerd --storage-driver={driver}")
                break
            except RuntimeError as exc:
                errors.append(str(exc))
                _stop(proc)
                proc = None
        if proc is None:
            raise RuntimeError("; ".join(errors))
        for f in DOCKER_LOADS:
            _run([docker, "-H", f"unix://{sock}", "load", "-q", "-i", str(REAL / f)], f"docker load {f}")
        yield Engine("dockerd", sock, {"DOCKER_HOST": f"unix://{sock}"}, _loaded(DOCKER_LOADS))
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="session")
def podman_service() -> Iterator[Engine]:
    """A private ``podman system service`` (vfs storage) loaded with PODMAN_LOADS."""
    need_shared()
    need_root("podman system service")
    podman = need_tool("podman")
    top = Path(tempfile.mkdtemp(prefix="ls-podman-"))
    sock = top / "podman.sock"
    base = [
        podman,
        "--root",
        str(top / "root"),
        "--runroot",
        str(top / "run"),
        "--storage-driver",
        "vfs",
        "--tmpdir",
        str(top / "tmp"),
        "--events-backend",
        "none",
        "--cgroup-manager",
        "cgroupfs",
    ]
    proc: subprocess.Popen[bytes] | None = None
    try:
        for f in PODMAN_LOADS:
            _run([*base, "load", "-q", "-i", str(REAL / f)], f"podman load {f}")
        log = top / "podman.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [*base, "system", "service", "--time=0", f"unix://{sock}"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait(proc, sock, log, "podman system service")
        yield Engine("podman", sock, {"CONTAINER_HOST": f"unix://{sock}"}, _loaded(PODMAN_LOADS))
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(top, ignore_errors=True)
