"""An image out of an engine: ``GET /images/{name}/get`` streamed into a private temp file, then read
by the same reader as files.

The export is a tar whose ``manifest.json`` comes last, and the reader needs random access, so the
stream cannot be read as it arrives: it goes to ``image.tar`` (mode 0600) in a fresh private folder
(mode 0700, under TMPDIR). Once ``open_archive`` has mapped it, the file and the folder are removed:
the mapping keeps the bytes readable (Linux keeps an unlinked file's data while it is mapped) and the
disk space returns when the archive's mapping goes. Nothing is left behind on any outcome, error or
cancel, short of the process being killed mid-download.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ...archive.open import open_archive
from ...archive.records import Archive, Platform
from ...errors import LayerScopeError
from ...progress import CancelCheck, StageProgress, check_cancelled
from .api import EngineClient, image_path

CHUNK = 1 << 20
"""Bytes read from the socket at a time (and how often progress is reported and cancel checked)."""
TEMP_PREFIX = "layerscope-engine-"
"""How the private temp folders are named (under TMPDIR)."""
EXPORT_SILENCE = 300.0
"""Seconds an export may pause (an engine tars each layer as it goes; a large one may take a while)."""
PLATFORM_API = (1, 48)
"""The Docker API that first takes ``platform`` on an export (a multi-platform containerd store)."""


def export_image(
    client: EngineClient,
    name: str,
    progress: StageProgress | None = None,
    cancelled: CancelCheck | None = None,
    platform: str | None = None,
) -> Archive:
    """The image ``name`` of the engine, exported and opened. ``platform`` (``OS/ARCH[/VARIANT]``)
    is asked of a Docker engine whose store holds several (API 1.48+); other engines hold one
    platform per name, and the caller's ``Archive.select`` checks it.

    Raises NoSuchImage, EngineUnavailable, EngineError, the reader's LayerScopeErrors, Cancelled."""
    info = client.get_json(f"/images/{image_path(name)}/json")
    size = info.get("Size") if isinstance(info, dict) else None
    total = size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else 0
    check_cancelled(cancelled)
    with private_file() as path:
        try:
            with open(path, "wb") as out:  # already created 0600 by private_file
                _download(client, name, out, total, _params(client, platform), progress, cancelled)
        except OSError as exc:
            raise LayerScopeError(
                f"cannot write the export to {path.parent.parent}: {exc.strerror or exc}; "
                "set TMPDIR to a folder with more room"
            ) from exc
        check_cancelled(cancelled)
        return open_archive(path, progress=progress, cancelled=cancelled)


@contextlib.contextmanager
def private_file() -> Iterator[Path]:
    """A new empty file (0600) in a new private folder (0700), both removed when the block ends."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    except OSError as exc:
        raise LayerScopeError(
            f"cannot make a temp folder in {tempfile.gettempdir()}: {exc.strerror or exc}; set TMPDIR"
        ) from exc
    path = folder / "image.tar"
    try:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise LayerScopeError(f"cannot make a temp file in {folder}: {exc.strerror or exc}") from exc
        os.close(fd)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _params(client: EngineClient, platform: str | None) -> dict[str, str] | None:
    """The export's query: libpod's format, or Docker's platform choice."""
    if client.uses_libpod:
        return {"format": "docker-archive"}
    if platform is None or not client.api_at_least(PLATFORM_API):
        return None
    try:
        p = Platform.parse(platform)
    except ValueError as exc:
        raise LayerScopeError(str(exc)) from exc
    want = {"os": p.os, "architecture": p.architecture}
    if p.variant:
        want["variant"] = p.variant
    return {"platform": json.dumps(want)}


def _download(
    client: EngineClient,
    name: str,
    out: BinaryIO,
    total: int,
    params: dict[str, str] | None,
    progress: StageProgress | None,
    cancelled: CancelCheck | None,
) -> None:
    """The export's bytes into ``out``; progress against the engine's size of the image (an estimate:
    the tar adds its headers)."""
    stage = f"exporting from {client.endpoint.engine}"
    done = 0
    if progress is not None:
        progress(stage, 0, total)
    with client.stream(f"/images/{image_path(name)}/get", params, read_timeout=EXPORT_SILENCE) as r:
        for chunk in r.iter_raw(CHUNK):
            check_cancelled(cancelled)
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(stage, done, max(total, done))
    if done == 0:
        raise LayerScopeError(f"{client.endpoint.engine} sent an empty export")
