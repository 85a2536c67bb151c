"""The engine sources against real engines: ``docker-daemon:`` with a private dockerd, ``podman:`` with a
private ``podman system service`` (tests/sources/daemons.py). An image opened from an engine reads
the same as the corpus file it was loaded from; listings, errors and temp files as promised."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.archive.records import Archive, ImageRecord
from layerscope.core.cache import settings as cache_settings
from layerscope.core.cli import main as cli_main
from layerscope.core.errors import Cancelled, LayerScopeError
from layerscope.core.kinds import View
from layerscope.core.session import load
from layerscope.core.sources.engine.api import EngineUnavailable, NoSuchImage
from layerscope.core.sources.engine.open import list_engine_images
from layerscope.core.sources.open import open_source
from layerscope.core.sources.reference import SourceKind, parse_image_name
from layerscope.core.usecases.figures import ci_figures
from layerscope.core.usecases.listing import listing

from .daemons import Engine

ENGINES = ("dockerd", "podman_service")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """Each running engine in turn, with its environment variable pointing at it."""
    e: Engine = request.getfixturevalue(request.param)
    for k, v in e.env.items():
        monkeypatch.setenv(k, v)
    return e


@pytest.fixture
def no_cache() -> Iterator[None]:
    """Figures computed, never read from the persistent cache (a file's would serve the engine's)."""
    cache_settings.set_enabled(False)
    try:
        yield
    finally:
        cache_settings.set_enabled(True)


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR for this test alone, to see what an export leaves in it."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def _what_it_reads(archive: Archive, image: ImageRecord) -> dict[str, Any]:
    """Everything ``inspect``, ``ls --view merged`` and ``ci`` are made of, for one image."""
    loaded = load(archive, image)
    dive, ours = ci_figures(archive, image)
    return {
        "config_digest": image.config_digest,
        "config": image.config,
        "diff_ids": [d.diff_id for d in image.layers],
        "layer_sizes": [d.size for d in image.layers],
        "history": [(h.created_by, h.comment, h.empty_layer, h.layer) for h in image.history],
        "tree": listing(loaded.tree, None, View.MERGED),
        "files": loaded.files,
        "dive": dive,
        "figures": ours,
        "load_dive": loaded.dive,
        "load_figures": loaded.figures,
    }


@pytest.mark.realtool
@pytest.mark.usefixtures("no_cache")
def test_engine_image_reads_as_its_file(engine: Engine, private_tmp: Path) -> None:
    for im in engine.images:
        with open_archive(im.corpus) as f:
            want = _what_it_reads(f, f.select(im.image))
        with open_source(im.reference) as a:
            assert a.source == im.reference
            assert len(a.images) == 1, im.reference
            got = _what_it_reads(a, a.images[0])
        for key in want:
            assert got[key] == want[key], f"{im.reference}: {key} differs from {im.corpus.name}"
        assert not any(private_tmp.iterdir()), "the export's temp file outlived the open"


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    rc = cli_main([*argv, "--no-cache", "--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out)


_EXPORT_CHOICES = ("format", "format_name", "file", "source")
"""What an engine decides when it exports (Docker 20.10 writes the legacy layout whatever the
image was loaded from), not what the image is."""
_LAYOUT_FIELDS = ("digest", "media_type")
"""Per layer, what a layout says rather than the content: a legacy save names layers by diff_id."""


def _norm(tag: str) -> str:
    """A tag as Docker resolves it (``corpus/x:1`` is ``docker.io/corpus/x:1``)."""
    return str(parse_image_name(tag))


def _inspected(got: dict[str, Any], want: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``inspect --json`` of the engine's export and of the file, with what the export's layout
    decides taken out when the layouts differ; the engine exports the one tag asked for."""
    (g,), (w,) = got["images"], want["images"]
    assert {_norm(t) for t in g["tags"]} <= {_norm(t) for t in w["tags"]}, (g["tags"], w["tags"])
    g["tags"] = w["tags"]
    same_layout = got["format"] == want["format"]
    for doc in (got, want):
        for k in _EXPORT_CHOICES:
            doc.pop(k, None)
        if not same_layout:
            doc["images"][0].pop("manifest_digest", None)
            for layer in doc["images"][0]["layers"]:
                for k in _LAYOUT_FIELDS:
                    layer.pop(k, None)
    return got, want


@pytest.mark.realtool
@pytest.mark.usefixtures("no_cache")
def test_cli_output_is_the_files(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """``inspect --json``, ``ls --view merged --json`` and ``ci --json`` of an engine image are those
    of its corpus file (but for where it was read from)."""
    for im, command in itertools.product(engine.images, (["inspect"], ["ls", "--view", "merged"], ["ci"])):
        pick = ["--image", str(im.image)]
        rc_file, want = _cli_json(capsys, *command, *pick, str(im.corpus))
        rc_engine, got = _cli_json(capsys, *command, im.reference)
        assert rc_engine == rc_file, command
        if command == ["inspect"]:
            got, want = _inspected(got, want)
        if command == ["ci"]:  # named by its first tag: the engine exports the one asked for
            assert got.pop("image") == im.listed
            want.pop("image")
        assert got == want, f"{im.reference}: {command[0]} differs from {im.corpus.name}"


@pytest.mark.realtool
def test_listing_has_every_loaded_image(engine: Engine) -> None:
    kind = SourceKind.DOCKER_DAEMON if engine.name == "dockerd" else SourceKind.PODMAN
    listed = list_engine_images(kind)
    by_name = {im.name: im for im in listed}
    for im in engine.images:
        with open_archive(im.corpus) as f:
            rec = f.select(im.image)
        matches = [e for e in listed if e.id == rec.config_digest]
        assert matches, f"{im.reference} not listed: {sorted(by_name)}"
        e = matches[0]
        assert e.kind is kind
        assert e.size is not None and e.size > 0
        created = dt.datetime.fromisoformat(rec.config["created"].replace("Z", "+00:00")[:19] + "+00:00")
        assert e.created == created
        assert im.listed in {x.name for x in matches}, [x.name for x in matches]
        assert f"{kind}:{im.listed}" in {x.reference for x in matches}
    # every listed reference opens the image it names
    first = listed[0]
    with open_source(first.reference) as a:
        assert a.images[0].config_digest == first.id


@pytest.mark.realtool
def test_open_by_image_id(engine: Engine) -> None:
    kind = SourceKind.DOCKER_DAEMON if engine.name == "dockerd" else SourceKind.PODMAN
    im = next(e for e in list_engine_images(kind) if e.repository is not None)
    for ref in (f"{kind}:{im.id}", f"{kind}:{im.short_id}"):
        with open_source(ref) as a:
            assert a.images[0].config_digest == im.id


@pytest.mark.realtool
def test_unknown_image_is_one_line(engine: Engine) -> None:
    kind = "docker-daemon" if engine.name == "dockerd" else "podman"
    store = "the Docker engine" if engine.name == "dockerd" else "Podman"
    ref = f"{kind}:corpus/never-loaded:7"
    with pytest.raises(NoSuchImage) as err:
        open_source(ref)
    msg = str(err.value)
    assert msg.startswith(f"{ref}: no such image in {store}"), msg
    assert "\n" not in msg


@pytest.mark.realtool
def test_export_temp_file_is_private_and_removed(engine: Engine, private_tmp: Path) -> None:
    seen: list[tuple[int, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage.startswith("exporting"):
            (folder,) = private_tmp.iterdir()
            (file,) = folder.iterdir()
            seen.append((stat.S_IMODE(folder.stat().st_mode), stat.S_IMODE(file.stat().st_mode)))

    ref = engine.images[0].reference
    a = open_source(ref, progress=progress)
    try:
        assert seen and set(seen) == {(0o700, 0o600)}, seen
        assert not any(private_tmp.iterdir())  # gone once opened: the mapping holds the bytes
        load(a, a.images[0])  # still readable
    finally:
        a.close()
    assert not any(private_tmp.iterdir())


@pytest.mark.realtool
def test_cancel_mid_export_leaves_nothing(engine: Engine, private_tmp: Path) -> None:
    calls = []

    def progress(stage: str, done: int, total: int) -> None:
        calls.append(done)

    with pytest.raises(Cancelled):
        open_source(engine.images[0].reference, progress=progress, cancelled=lambda: len(calls) > 1)
    assert not any(private_tmp.iterdir())


@pytest.mark.realtool
def test_docker_context_is_followed(dockerd: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No DOCKER_HOST: the docker CLI's current context says where the engine is (Docker Desktop,
    rootless Docker)."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"ls-test").hexdigest()
    meta.mkdir(parents=True)
    doc = {"Name": "ls-test", "Endpoints": {"docker": {"Host": f"unix://{dockerd.socket}"}}}
    (meta / "meta.json").write_text(json.dumps(doc))
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "ls-test"}))
    names = {im.name for im in list_engine_images(SourceKind.DOCKER_DAEMON)}
    assert "corpus/bbase:1" in names
    monkeypatch.setenv("DOCKER_CONTEXT", "no-such-context")
    with pytest.raises(LayerScopeError) as err:
        open_source("docker-daemon:corpus/bbase:1")
    _one_line(
        str(err.value),
        "docker-daemon:corpus/bbase:1: ",
        "Docker context 'no-such-context'",
        "docker context ls",
    )


@pytest.mark.realtool
def test_rootless_podman_socket_is_found(
    podman_service: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No CONTAINER_HOST: the rootless socket in XDG_RUNTIME_DIR is the first tried."""
    monkeypatch.delenv("CONTAINER_HOST", raising=False)
    (tmp_path / "podman").mkdir()
    (tmp_path / "podman" / "podman.sock").symlink_to(podman_service.socket)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with open_source("podman:corpus/bbase:1") as a:
        assert a.images[0].tags == ("localhost/corpus/bbase:1",)


# ---------------------------------------------------------------- no engine needed


def _one_line(msg: str, *parts: str) -> None:
    assert "\n" not in msg, msg
    for p in parts:
        assert p in msg, msg


def test_missing_docker_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    with pytest.raises(EngineUnavailable) as err:
        open_source("docker-daemon:alpine:3.20")
    _one_line(
        str(err.value), "docker-daemon:alpine:3.20: ", "no Docker engine socket", "systemctl start docker"
    )
    with pytest.raises(EngineUnavailable) as err:
        list_engine_images(SourceKind.DOCKER_DAEMON)
    _one_line(str(err.value), "no Docker engine socket", "dockerd")


def test_default_docker_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    if os.path.exists("/var/run/docker.sock"):
        pytest.skip("this machine has a Docker engine at the default socket")
    with pytest.raises(EngineUnavailable) as err:
        open_source("docker-daemon:alpine")
    _one_line(str(err.value), "/var/run/docker.sock (the default)", "start it")


def test_missing_podman_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTAINER_HOST", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    if os.path.exists("/run/podman/podman.sock"):
        pytest.skip("this machine has a rootful Podman socket")
    with pytest.raises(EngineUnavailable) as err:
        open_source("podman:alpine")
    _one_line(
        str(err.value),
        "podman:alpine: no Podman API socket at ",
        f"{tmp_path}/podman/podman.sock or /run/podman/podman.sock",
        "podman system service",
    )


def _refusing_socket(path: Path) -> None:
    """A socket file nobody listens on (bound, then closed): connecting is refused."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


@pytest.mark.parametrize(
    ("kind", "var", "start"),
    [
        ("docker-daemon", "DOCKER_HOST", "dockerd"),
        ("podman", "CONTAINER_HOST", "podman system service"),
    ],
)
def test_refusing_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, var: str, start: str
) -> None:
    sock = tmp_path / "dead.sock"
    _refusing_socket(sock)
    monkeypatch.setenv(var, f"unix://{sock}")
    with pytest.raises(EngineUnavailable) as err:
        open_source(f"{kind}:app:1")
    _one_line(str(err.value), f"{kind}:app:1: ", "is not running", "refuses connections", start)


def test_silent_engine_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket that accepts and then says nothing: the listing gives up after its timeout."""
    sock = tmp_path / "silent.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    server.listen()
    try:
        monkeypatch.setenv("DOCKER_HOST", f"unix://{sock}")
        with pytest.raises(EngineUnavailable) as err:
            list_engine_images(SourceKind.DOCKER_DAEMON, timeout=0.3)
    finally:
        server.close()
    _one_line(str(err.value), "the Docker engine at unix://", "did not answer within 0.3 s")


def test_not_a_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{f}")
    with pytest.raises(EngineUnavailable) as err:
        open_source("docker-daemon:app:1")
    _one_line(str(err.value), "is not a socket")


def test_refusing_tcp(monkeypatch: pytest.MonkeyPatch) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # a free port: nothing listens
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
    with pytest.raises(EngineUnavailable) as err:
        open_source("docker-daemon:app:1")
    _one_line(str(err.value), f"tcp://127.0.0.1:{port} refuses connections")


def test_ssh_host_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "ssh://me@build-box")
    with pytest.raises(LayerScopeError) as err:
        open_source("docker-daemon:app:1")
    _one_line(str(err.value), "docker-daemon:app:1: ", "ssh:// engine addresses are not supported")


@pytest.mark.parametrize(
    ("kind", "var", "hint"),
    [
        ("docker-daemon", "DOCKER_HOST", "join the `docker` group"),
        ("podman", "CONTAINER_HOST", "another user's Podman socket"),
    ],
)
def test_permission_denied(kind: str, var: str, hint: str) -> None:
    """A socket only root may use, opened by an unprivileged child (forked, then setuid nobody)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to make a socket another user may not open")
    top = Path(tempfile.mkdtemp(prefix="ls-perm-"))
    try:
        os.chmod(top, 0o755)
        sock = top / "engine.sock"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(sock))
        server.listen()
        os.chmod(sock, 0o600)
        msg = _as_nobody(f"{kind}:app:1", {var: f"unix://{sock}"})
        server.close()
    finally:
        for p in top.iterdir():
            p.unlink()
        top.rmdir()
    _one_line(msg, "EngineUnavailable", f"{kind}:app:1: permission denied on {sock}", hint)


def _as_nobody(ref: str, env: dict[str, str]) -> str:
    """``open_source(ref)``'s error, in a forked child that dropped to uid/gid 65534."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os.environ.update(env)
            try:
                open_source(ref)
                out = "opened"
            except Exception as exc:
                out = f"{type(exc).__name__} {exc}"
            os.write(w, out.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    return out
