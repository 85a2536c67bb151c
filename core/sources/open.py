"""Open what a reference names as an ``Archive``: files directly, engines and registries through
their own modules, so that everything after this step reads every source the same way."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..archive.formats import ArchiveFormat
from ..archive.open import open_archive
from ..archive.records import Archive
from ..errors import LayerScopeError
from ..progress import CancelCheck, StageProgress
from .reference import Reference, SourceKind, parse_reference


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How to reach a source: the platform of a multi-platform image, credentials, TLS.

    ``creds`` is ``USER:PASS`` (``--creds``); ``insecure`` names the registries (``host[:port]``)
    whose TLS certificate is not verified and that may be spoken to over plain HTTP
    (``--tls-verify=false`` with a reference names its registry); localhost registries may always
    use plain HTTP. ``tls_verify`` False turns verification off for every registry.
    """

    platform: str | None = None
    creds: str | None = None
    insecure: frozenset[str] = field(default_factory=frozenset)
    tls_verify: bool = True


_EXPECTED = {
    SourceKind.DOCKER_ARCHIVE: (
        {ArchiveFormat.DOCKER_ARCHIVE, ArchiveFormat.DOCKER_OCI},
        "a docker-archive (docker save, podman save)",
    ),
    SourceKind.OCI_ARCHIVE: ({ArchiveFormat.OCI_ARCHIVE}, "an oci-archive (a tar of an OCI layout)"),
    SourceKind.OCI_LAYOUT: ({ArchiveFormat.OCI_LAYOUT}, "an OCI layout folder"),
}


def open_source(
    ref: str | Reference,
    options: SourceOptions | None = None,
    progress: StageProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> Archive:
    """The archive a reference names, opened. Raises LayerScopeError (one line naming the reference)."""
    r = parse_reference(ref) if isinstance(ref, str) else ref
    opts = options or SourceOptions()
    if r.kind.is_file:
        return _open_file(r, progress, cancelled)
    if r.kind is SourceKind.REGISTRY:
        from .registry.open import open_registry_image

        archive = open_registry_image(r, opts, progress, cancelled)
    else:
        from .engine.open import open_engine_image

        archive = open_engine_image(r, opts, progress, cancelled)
    return archive if archive.source else dataclasses.replace(archive, source=r.text)


def _open_file(r: Reference, progress: StageProgress | None, cancelled: CancelCheck | None) -> Archive:
    """A file or folder; the explicit forms must be what they say."""
    assert r.path is not None
    archive = open_archive(r.path, progress=progress, cancelled=cancelled)
    want = _EXPECTED.get(r.kind)
    if want is not None and archive.format not in want[0]:
        archive.close()
        raise LayerScopeError(
            f"given as {r.kind}: but it is {archive.format.description}, not {want[1]}", r.path
        )
    return archive
