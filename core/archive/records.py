"""What an archive says about its images: the values ``open_archive`` returns.

All of them are frozen once read; warnings found while reading are part of the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LayerScopeError
from ..kinds import Compression
from .container import Container
from .formats import ArchiveFormat
from .mediatypes import ESTARGZ_ANNOTATIONS
from .tags import tag_matches


@dataclass(frozen=True, slots=True)
class Platform:
    """The OS and CPU an image runs on, e.g. ``linux/arm64/v8``."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @classmethod
    def parse(cls, text: str) -> Platform:
        """``OS/ARCH[/VARIANT]`` as a user types it. Raises ValueError for anything else."""
        parts = text.split("/")
        if len(parts) < 2 or len(parts) > 3 or not all(parts):
            raise ValueError(f"platform must be OS/ARCH[/VARIANT], not {text!r}")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def matches(self, want: Platform) -> bool:
        """Whether this platform is what a user asked for (a missing variant matches any)."""
        return (self.os, self.architecture) == (want.os, want.architecture) and (
            want.variant is None or self.variant == want.variant
        )


@dataclass(frozen=True, slots=True)
class HistoryStep:
    """One build step of the image (a Dockerfile line), from the config's history."""

    created: str | None
    created_by: str
    comment: str
    author: str
    empty_layer: bool
    layer: int | None  # index of the layer this step made, None for empty steps

    @property
    def text(self) -> str:
        """What to show for the step: the command, or the comment when there is none (docker import)."""
        return self.created_by or (f"({self.comment})" if self.comment else "")


@dataclass(frozen=True, slots=True)
class LayerDesc:
    """One layer as the manifest and config describe it, with the compression sniffed from its blob."""

    index: int
    blob_name: str | None  # member of the container holding the blob; None when not shipped
    digest: str | None
    diff_id: str | None
    media_type: str
    compression: Compression
    size: int  # stored (blob) size
    annotations: Mapping[str, str] = field(default_factory=dict)
    urls: tuple[str, ...] = ()
    history: HistoryStep | None = None

    @property
    def estargz(self) -> bool:
        """Whether the layer is an eStargz (its annotations say so)."""
        return any(k in self.annotations for k in ESTARGZ_ANNOTATIONS)

    @property
    def key(self) -> str:
        """Identity for caching an index: the blob it reads."""
        return self.blob_name or self.digest or f"#{self.index}"


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One image of an archive: its tags, platform, manifest, config, layers and build history."""

    tags: tuple[str, ...]
    platform: Platform | None
    manifest_digest: str | None
    manifest: dict[str, Any] | None
    manifest_raw: bytes | None
    config_digest: str
    config: dict[str, Any]
    config_raw: bytes
    layers: tuple[LayerDesc, ...]
    history: tuple[HistoryStep, ...]
    index_raw: bytes | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """A short name: the first tag, else the start of the manifest (or config) digest."""
        if self.tags:
            return self.tags[0]
        if self.manifest_digest:
            return self.manifest_digest[:19]
        return self.config_digest[:19]

    def describe(self) -> str:
        """Tags and platform in one line, e.g. ``ubuntu:22.04 [linux/amd64]``."""
        plat = f" [{self.platform}]" if self.platform else ""
        return f"{', '.join(self.tags) or '(untagged)'}{plat}"


@dataclass(frozen=True, slots=True, eq=False)
class Archive:
    """An opened image archive: its layout, the images it holds, and where their blobs are.

    Close it (or use it as a context manager) to release the mapped file.
    """

    path: Path
    format: ArchiveFormat
    outer_compression: Compression | None
    container: Container
    images: tuple[ImageRecord, ...]
    index_raw: bytes | None
    attestations: tuple[Mapping[str, Any], ...]
    warnings: tuple[str, ...]
    source: str | None = None
    """The reference it was opened by when it is not a plain path (``docker://alpine``,
    ``docker-daemon:app:1``); ``path`` is then where its blobs are read from."""

    @property
    def label(self) -> str:
        """What to call the archive in titles and output: the reference, else the path."""
        return self.source or str(self.path)

    @property
    def format_name(self) -> str:
        """The layout in a user's words, with the whole-file compression if any."""
        name = self.format.description
        return f"{name}, {self.outer_compression}-compressed" if self.outer_compression else name

    def select(self, image: str | int | None = None, platform: str | None = None) -> ImageRecord:
        """Pick one image by tag or position and optionally platform (the first when nothing is said).

        Raises LayerScopeError when the choice matches nothing, or several images and the user chose.
        """
        cands = list(self.images)
        if image is not None:
            cands = self._by_image(image)
        if platform is not None:
            cands = self._by_platform(cands, platform)
        if len(cands) > 1 and (image is not None or platform is not None):
            choices = "; ".join(f"#{self.images.index(im)} {im.describe()}" for im in cands)
            raise LayerScopeError(
                f"{len(cands)} images match; choose one with --image or --platform ({choices})", self.path
            )
        return cands[0]

    def _by_image(self, image: str | int) -> list[ImageRecord]:
        if isinstance(image, int) or image.isdigit():
            i = int(image)
            if not 0 <= i < len(self.images):
                raise LayerScopeError(
                    f"image index {i} is out of range (0..{len(self.images) - 1})", self.path
                )
            return [self.images[i]]
        cands = [im for im in self.images if any(tag_matches(t, image) for t in im.tags)]
        if not cands:
            have = ", ".join(t for im in self.images for t in im.tags) or "no tags"
            raise LayerScopeError(f"no image tagged {image!r} (have: {have})", self.path)
        return cands

    def _by_platform(self, cands: list[ImageRecord], platform: str) -> list[ImageRecord]:
        try:
            want = Platform.parse(platform)
        except ValueError as exc:
            raise LayerScopeError(str(exc), self.path) from exc
        cands = [im for im in cands if im.platform and im.platform.matches(want)]
        if not cands:
            have = ", ".join(sorted({str(im.platform) for im in self.images if im.platform})) or "none"
            raise LayerScopeError(f"no image for platform {platform} (have: {have})", self.path)
        return cands

    def close(self) -> None:
        """Release the archive's file (blobs read from it become invalid)."""
        self.container.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
