"""Open any image archive a user has: recognise it by content and read it with the right reader.

Recognised by content, never by file name: legacy ``docker save``; Docker 25+ ``docker save`` (OCI
layout plus ``manifest.json``); containerd-store saves (compressed blobs, nested multi-platform
index, attestations); podman/skopeo ``docker-archive`` (symlinked ``layer.tar``), also with several
images; ``oci-archive``; an OCI layout folder; and any of these as a whole gzip or zstd file.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ..errors import LayerScopeError, NotAnImage, UnsupportedFormat
from ..kinds import Compression
from ..progress import CancelCheck, StageProgress
from .compression import decompress_archive, sniff
from .container import Container, DirContainer, TarContainer
from .context import ReadContext
from .docker import read_docker_manifest
from .formats import ArchiveFormat
from .image import ImageDraft
from .oci import read_oci_index
from .records import Archive


def open_archive(
    path: str | os.PathLike[str], progress: StageProgress | None = None, cancelled: CancelCheck | None = None
) -> Archive:
    """Open an image archive (file or folder) and describe every image in it.

    Raises NotAnImage, UnsupportedFormat, InvalidJSON, MissingBlob, CorruptArchive (all
    LayerScopeError) with a one-line message naming the file; Cancelled.
    """
    p = Path(path)
    outer: Compression | None = None
    try:
        if p.is_dir():
            container: Container = DirContainer(p)
        elif p.exists():
            container, outer = _open_file(p, progress, cancelled)
        else:
            raise LayerScopeError("no such file or folder", p)
    except PermissionError as exc:
        raise LayerScopeError("permission denied", p) from exc
    except IsADirectoryError as exc:
        raise LayerScopeError("is a directory", p) from exc
    except OSError as exc:
        raise LayerScopeError(exc.strerror or str(exc), p) from exc
    return _read(ReadContext(container, p, list(container.warnings)), outer)


def open_container(container: Container, path: Path, fmt: ArchiveFormat) -> Archive:
    """Read an OCI image layout that a source other than a file lays out (a registry's blobs) with the
    readers files use; ``fmt`` names the source. Raises what ``open_archive`` raises."""
    archive = _read(ReadContext(container, path, list(container.warnings)), None)
    return dataclasses.replace(archive, format=fmt)


def _open_file(
    p: Path, progress: StageProgress | None, cancelled: CancelCheck | None
) -> tuple[Container, Compression | None]:
    """The container of a file: a tar as it is, or the tar inside a gzip/zstd file."""
    with open(p, "rb") as f:
        head = f.read(512)
    kind = sniff(head)
    if kind is Compression.EMPTY:
        raise NotAnImage("the file is empty", p)
    if kind.is_supported:
        return decompress_archive(p, kind, progress, cancelled), kind
    if kind in (Compression.BZIP2, Compression.XZ):
        raise UnsupportedFormat(f"{kind}-compressed archives are not supported; decompress it first", p)
    if kind is not Compression.NONE:
        raise NotAnImage("not a tar archive or an image folder", p)
    total = os.path.getsize(p)

    def prog(done: int) -> None:
        if progress is not None:
            progress("reading archive index", done, total)

    return TarContainer(p, progress=prog, cancelled=cancelled), None


def _read(ctx: ReadContext, outer: Compression | None) -> Archive:
    """Pick the reader by the files present: index.json, manifest.json, or neither."""
    has_index = ctx.has("index.json")
    has_layout = ctx.has("oci-layout")
    has_manifest = ctx.has("manifest.json")
    index_raw: bytes | None = None
    if has_index and (has_layout or not has_manifest):
        fmt = _oci_format(ctx.container.kind, has_manifest)
        walk = read_oci_index(ctx)
        index_raw = walk.raw
        images = list(walk.found.values())
        if has_manifest:
            images = read_docker_manifest(ctx, images)
        if not images:
            raise walk.nothing_found()
    elif has_manifest:
        fmt = ArchiveFormat.DOCKER_ARCHIVE if ctx.container.kind == "tar" else ArchiveFormat.DOCKER_DIR
        images = read_docker_manifest(ctx, [])
        if not images:
            raise NotAnImage("manifest.json lists no images", ctx.path)
    else:
        raise _not_an_image(ctx)
    return _archive(ctx, fmt, outer, images, index_raw)


def _oci_format(kind: str, has_manifest: bool) -> ArchiveFormat:
    if has_manifest:
        return ArchiveFormat.DOCKER_OCI if kind == "tar" else ArchiveFormat.DOCKER_DIR
    return ArchiveFormat.OCI_LAYOUT if kind == "dir" else ArchiveFormat.OCI_ARCHIVE


def _not_an_image(ctx: ReadContext) -> LayerScopeError:
    """Why a file with neither index.json nor manifest.json is not an image, in one line."""
    if ctx.has("repositories"):
        return UnsupportedFormat(
            "a Docker v1 save without manifest.json (Docker < 1.10) is not supported", ctx.path
        )
    if ctx.container.kind == "dir":
        return NotAnImage("folder holds no index.json or manifest.json: not an image layout", ctx.path)
    names = ctx.container.names()
    if names:
        return NotAnImage(
            f"a plain tar of {len(names)} file(s) with no manifest.json or index.json: "
            "it looks like a single filesystem layer, not an image",
            ctx.path,
        )
    return NotAnImage("an empty tar archive", ctx.path)


def _archive(
    ctx: ReadContext,
    fmt: ArchiveFormat,
    outer: Compression | None,
    images: list[ImageDraft],
    index_raw: bytes | None,
) -> Archive:
    """The finished, frozen archive."""
    return Archive(
        path=ctx.path,
        format=fmt,
        outer_compression=outer,
        container=ctx.container,
        images=tuple(im.freeze(index_raw) for im in images),
        index_raw=index_raw,
        attestations=tuple(ctx.attestations),
        warnings=tuple(ctx.warnings),
    )
