"""What the rest of LayerScope calls for the local engines: open an image, list the images.

``open_engine_image`` serves ``open_source`` for ``docker-daemon:`` and ``podman:`` references;
``list_engine_images`` feeds the GUI's Open from Docker / Open from Podman dialog. Every error is one
line: naming the reference when opening, and saying what to start or which group to join when the
engine cannot be reached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ...archive.records import Archive
from ...errors import Cancelled, LayerScopeError
from ...progress import CancelCheck, StageProgress
from ..open import SourceOptions
from ..reference import Reference, SourceKind
from .api import READ_TIMEOUT, EngineClient
from .export import export_image
from .images import EngineImage, list_images
from .sockets import Endpoint, find_endpoint

ENGINE_KINDS = (SourceKind.DOCKER_DAEMON, SourceKind.PODMAN)


def open_engine_image(
    ref: Reference,
    opts: SourceOptions | None = None,
    progress: StageProgress | None = None,
    cancelled: CancelCheck | None = None,
    env: Mapping[str, str] | None = None,
) -> Archive:
    """The image ``ref`` names (``docker-daemon:NAME[:TAG|@DIGEST]``, ``podman:NAME[:TAG]``),
    exported from its engine and opened; ``archive.source`` is the reference.

    Raises LayerScopeError (NoSuchImage, EngineUnavailable, EngineError, the reader's) naming the
    reference, Cancelled."""
    if ref.kind not in ENGINE_KINDS or not ref.engine_name:
        raise LayerScopeError("not a docker-daemon: or podman: reference", ref.text)
    try:
        with EngineClient(find_endpoint(ref.kind, env)) as client:
            client.negotiate()
            platform = opts.platform if opts is not None else None
            archive = export_image(client, ref.engine_name, progress, cancelled, platform)
    except Cancelled:
        raise
    except LayerScopeError as exc:
        raise _naming(exc, ref.text) from exc
    return dataclasses.replace(archive, source=ref.text)


def list_engine_images(
    kind: SourceKind,
    opts: SourceOptions | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = READ_TIMEOUT,
) -> list[EngineImage]:
    """The images of the local engine of ``kind`` (DOCKER_DAEMON or PODMAN), newest first, one record
    per tag; ``EngineImage.reference`` opens one.

    Raises LayerScopeError (EngineUnavailable: what to start or which group to join; EngineError)."""
    if kind not in ENGINE_KINDS:
        raise ValueError(f"{kind} is not a local engine")
    with EngineClient(find_endpoint(kind, env), read_timeout=timeout) as client:
        client.negotiate()
        return list_images(client)


def engine_endpoint(kind: SourceKind, env: Mapping[str, str] | None = None) -> Endpoint:
    """Where the engine of ``kind`` would be reached (``.url`` for a dialog's "Docker engine at ...")."""
    return find_endpoint(kind, env)


def _naming(exc: LayerScopeError, where: str) -> LayerScopeError:
    """The same error with the reference as what it concerns (the reader named its temp file)."""
    try:
        named = type(exc)(exc.message, where)
    except TypeError:
        named = LayerScopeError(exc.message, where)
    return named
