"""One image while its archive is read: its layers described, its tags gathered, then frozen."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from .compression import sniff
from .context import ReadContext
from .history import align_history
from .jsondoc import diff_ids_of, platform_of
from .mediatypes import compression_of_type, layer_type_of
from .records import ImageRecord, LayerDesc, Platform
from .tags import add_tag


def config_digest(raw: bytes) -> str:
    """The digest of a config document (the image ID docker shows)."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def describe_layer(
    ctx: ReadContext,
    index: int,
    name: str,
    *,
    digest: str | None,
    diff_id: str | None,
    media_type: str | None,
    size: int = 0,
    annotations: dict[str, str] | None = None,
    urls: tuple[str, ...] = (),
    warnings: list[str],
) -> LayerDesc:
    """The layer stored as ``name``, as its manifest describes it and its blob's bytes show.

    The compression is sniffed from the blob; the stored size is the blob's (a manifest that says
    otherwise gets a warning). Without a media type, one is named from the compression; without a
    digest, an uncompressed blob's is its diff_id. A layer not in the archive is kept, with the
    compression its media type claims and a warning.
    """
    stored: str | None = name
    if ctx.has(name):
        blob = ctx.container.blob(name)
        comp = sniff(blob.head())
        if size and blob.size != size:
            warnings.append(f"layer {index}: manifest says {size} bytes, blob has {blob.size}")
        size = blob.size
        if digest is None and comp.is_plain:
            digest = diff_id
        mt = layer_type_of(comp) if media_type is None else media_type
    else:
        stored = None
        mt = media_type or ""
        comp = compression_of_type(mt)
        foreign = urls or "foreign" in mt or "nondistributable" in mt
        warnings.append(
            f"layer {index} ({str(digest)[:19]}) is not in the archive"
            + (" (foreign layer)" if foreign else "")
        )
    return LayerDesc(index, stored, digest, diff_id, mt, comp, size, annotations or {}, urls)


@dataclass(slots=True)
class ImageDraft:
    """An image found in the archive, still open to more tags (indexes and manifest.json both name it)."""

    tags: list[str]
    platform: Platform | None
    manifest_digest: str | None
    manifest: dict[str, Any] | None
    manifest_raw: bytes | None
    config: dict[str, Any]
    config_raw: bytes
    layers: list[LayerDesc]
    warnings: list[str]
    annotations: dict[str, str]

    def __post_init__(self) -> None:
        if self.platform is None:
            self.platform = platform_of(self.config)

    @property
    def config_digest(self) -> str:
        """The digest of the config (the image ID)."""
        return config_digest(self.config_raw)

    def add_tags(self, tags: list[str]) -> None:
        """Add each of ``tags`` the image does not have yet."""
        for t in tags:
            add_tag(self.tags, t)

    def freeze(self, index_raw: bytes | None) -> ImageRecord:
        """The finished record: layers paired with their history steps, warnings frozen."""
        warnings = list(self.warnings)
        diff_ids = diff_ids_of(self.config)
        if len(diff_ids) != len(self.layers):
            warnings.append(f"config lists {len(diff_ids)} diff_ids for {len(self.layers)} layers")
        steps, per_layer = align_history(self.config, len(self.layers), warnings)
        layers = tuple(replace(d, history=h) for d, h in zip(self.layers, per_layer, strict=True))
        return ImageRecord(
            tags=tuple(self.tags),
            platform=self.platform,
            manifest_digest=self.manifest_digest,
            manifest=self.manifest,
            manifest_raw=self.manifest_raw,
            config_digest=self.config_digest,
            config=self.config,
            config_raw=self.config_raw,
            layers=layers,
            history=steps,
            index_raw=index_raw,
            annotations=self.annotations,
            warnings=tuple(warnings),
        )
