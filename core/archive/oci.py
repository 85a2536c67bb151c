"""The OCI image layout: walk index.json and the indexes it nests down to image manifests.

Nested multi-platform indexes, attestation and artifact manifests (kept as metadata, not images),
and platforms listed but not pulled (a warning, not an error) are all found here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import limits
from ..errors import InvalidJSON, MissingBlob, NotAnImage, UnsupportedFormat
from .context import ReadContext
from .image import ImageDraft, describe_layer
from .jsondoc import annotations_of, diff_ids_of, platform_of, short, size_of
from .mediatypes import IMAGE_CONFIG_TYPES, INDEX_TYPES, MANIFEST_TYPES, is_layer_type
from .records import Platform
from .tags import add_tag

MAX_INDEX_DEPTH = 8
"""Levels of indexes nested in index.json that are followed (real ones nest two)."""


@dataclass(slots=True)
class _Descriptor:
    """One entry of an index's ``manifests``, with what the walk knows when it reaches it."""

    digest: str
    name: str
    media_type: str
    annotations: dict[str, str]
    tags: list[str]
    platform: Platform | None
    attestation: bool


@dataclass(slots=True)
class IndexWalk:
    """index.json and what walking it found: images by manifest digest, and why none, if none."""

    ctx: ReadContext
    document: dict[str, Any]
    raw: bytes
    found: dict[str, ImageDraft] = field(default_factory=dict)
    unknown_layer_types: list[tuple[str, str]] = field(default_factory=list)
    not_pulled: int = 0
    walked: int = 0

    def walk(self, index: dict[str, Any], tags: list[str], parent: Platform | None, depth: int) -> None:
        """Follow every descriptor of ``index`` (nested ``depth`` levels below index.json)."""
        if depth > MAX_INDEX_DEPTH:
            self.ctx.warnings.append(
                f"index nesting deeper than {MAX_INDEX_DEPTH} levels; the rest is ignored"
            )
            return
        mans = index.get("manifests")
        if mans is None:
            return
        if not isinstance(mans, list):
            raise InvalidJSON("'manifests' of an index is not a list", self.ctx.path)
        multi = len([m for m in mans if isinstance(m, dict) and platform_of(m.get("platform"))]) > 1
        for d in mans:
            if not isinstance(d, dict):
                raise InvalidJSON("an index entry is not an object", self.ctx.path)
            if not self._count():
                return
            desc = self._descriptor(d, tags, parent, top=depth == 0)
            if desc is not None:
                self._entry(desc, multi, depth)

    def _count(self) -> bool:
        """Count one more descriptor; False past MAX_MANIFESTS (with one warning)."""
        self.walked += 1
        if self.walked <= limits.MAX_MANIFESTS:
            return True
        if self.walked == limits.MAX_MANIFESTS + 1:
            self.ctx.warnings.append(
                f"the index lists more than {limits.MAX_MANIFESTS:,} manifests (nested indexes counted "
                "each time they are named); the rest are ignored"
            )
        return False

    def _descriptor(
        self, d: dict[str, Any], tags: list[str], parent: Platform | None, top: bool
    ) -> _Descriptor | None:
        ann = annotations_of(d)
        my_tags = list(tags)
        if top and (t := _ref_tag(ann)):
            add_tag(my_tags, t)
        plat = platform_of(d.get("platform")) or parent
        digest = d.get("digest")
        try:
            name = self.ctx.blob_name(digest)
        except InvalidJSON:
            self.ctx.warnings.append(f"index entry with invalid digest {short(digest)} ignored")
            return None
        attestation = ann.get("vnd.docker.reference.type") == "attestation-manifest" or (
            plat is not None and plat.os == "unknown" and plat.architecture == "unknown"
        )
        mt = str(d.get("mediaType") or "")
        return _Descriptor(str(digest), name, mt, ann, my_tags, plat, attestation)

    def _entry(self, desc: _Descriptor, multi: bool, depth: int) -> None:
        """An image, a nested index, an artifact, or a manifest that is not in the archive."""
        if not self.ctx.has(desc.name):
            self._missing(desc, multi)
            return
        doc, raw = self.ctx.json_object(desc.name, f"manifest {desc.digest[:19]}")
        mt = str(doc.get("mediaType") or desc.media_type)
        if mt in INDEX_TYPES or ("manifests" in doc and "layers" not in doc):
            self.walk(doc, desc.tags, desc.platform, depth + 1)
        elif mt not in MANIFEST_TYPES and "layers" not in doc:
            self.ctx.attestations.append(
                {"digest": desc.digest, "mediaType": mt, "annotations": desc.annotations}
            )
        elif not self._artifact(desc, doc, mt):
            self._image(desc, doc, raw)

    def _missing(self, desc: _Descriptor, multi: bool) -> None:
        if desc.attestation:
            self.ctx.attestations.append(
                {
                    "digest": desc.digest,
                    "mediaType": desc.media_type,
                    "annotations": desc.annotations,
                    "missing": True,
                }
            )
        elif multi and desc.platform is not None:
            self.not_pulled += 1
            self.ctx.warnings.append(
                f"platform {desc.platform} ({desc.digest[:19]}) is listed but its blobs are not "
                "in the archive (not pulled)"
            )
        else:
            mt = short(desc.media_type) if desc.media_type else "no media type"
            raise MissingBlob(
                f"index.json names manifest {desc.digest} ({mt}), which is not in the archive",
                self.ctx.path,
            )

    def _artifact(self, desc: _Descriptor, doc: dict[str, Any], mt: str) -> bool:
        """Record a manifest that is not a runnable image (attestation, artifact); True if it is one."""
        cfg = doc.get("config")
        cfg_mt = str(cfg.get("mediaType") or "") if isinstance(cfg, dict) else ""
        layers = doc.get("layers")
        odd = [
            str(x.get("mediaType"))
            for x in (layers if isinstance(layers, list) else [])
            if isinstance(x, dict) and x.get("mediaType") and not is_layer_type(str(x.get("mediaType")))
        ]
        foreign_config = bool(cfg_mt) and cfg_mt not in IMAGE_CONFIG_TYPES
        looks_like_image = not doc.get("artifactType") and not foreign_config
        if odd and not desc.attestation and looks_like_image:
            self.unknown_layer_types.append((desc.digest, odd[0]))
        if not (desc.attestation or odd or doc.get("artifactType") or foreign_config):
            return False
        self.ctx.attestations.append(
            {
                "digest": desc.digest,
                "mediaType": mt,
                "annotations": desc.annotations,
                "artifactType": doc.get("artifactType") or cfg_mt,
                "platform": str(desc.platform) if desc.platform else None,
            }
        )
        return True

    def _image(self, desc: _Descriptor, doc: dict[str, Any], raw: bytes) -> None:
        known = self.found.get(desc.digest)
        if known is None:
            self.found[desc.digest] = _image_from_manifest(self.ctx, doc, raw, desc)
            return
        known.add_tags(desc.tags)
        if known.platform is None and desc.platform is not None:
            known.platform = desc.platform

    def nothing_found(self) -> NotAnImage | UnsupportedFormat | MissingBlob:
        """The error that says why the walk found no image."""
        path = self.ctx.path
        index = self.document
        if self.unknown_layer_types:
            dg, mt = self.unknown_layer_types[0]
            return UnsupportedFormat(f"manifest {dg[:19]} has layers of unknown media type {short(mt)}", path)
        if self.not_pulled:
            return MissingBlob(
                f"none of the {self.not_pulled} platform manifest(s) listed in index.json is in the archive",
                path,
            )
        if self.ctx.attestations:
            return NotAnImage("the index holds only artifacts or attestations, no runnable image", path)
        if "manifests" not in index:
            if "layers" in index or "config" in index:
                return NotAnImage("index.json is an image manifest, not an index (no 'manifests')", path)
            return NotAnImage("index.json lists no manifests", path)
        return NotAnImage("index.json lists no images", path)


def read_oci_index(ctx: ReadContext) -> IndexWalk:
    """Walk index.json to every image it leads to. Raises InvalidJSON, MissingBlob, UnsupportedFormat.

    Finding no image is not an error here (manifest.json may list some): ``nothing_found`` says why.
    """
    index, raw = ctx.json_object("index.json", "index.json")
    walk = IndexWalk(ctx, index, raw)
    walk.walk(index, [], None, 0)
    return walk


def _image_from_manifest(ctx: ReadContext, doc: dict[str, Any], raw: bytes, desc: _Descriptor) -> ImageDraft:
    """The image an OCI/Docker v2 manifest describes. Raises InvalidJSON, MissingBlob, UnsupportedFormat."""
    label = f"manifest {desc.digest[:19]}"
    config, config_raw = _config(ctx, doc, label)
    layers_j = doc.get("layers")
    if not isinstance(layers_j, list):
        raise InvalidJSON(f"{label} has no 'layers' list", ctx.path)
    ctx.check_layer_count(len(layers_j), label)
    diff_ids = diff_ids_of(config)
    warnings: list[str] = []
    layers = []
    for i, ld in enumerate(layers_j):
        if not isinstance(ld, dict):
            raise InvalidJSON(f"layer {i} of {label} is not an object", ctx.path)
        mt = str(ld.get("mediaType") or "")
        name = ctx.blob_name(ld.get("digest"))
        if mt and not is_layer_type(mt):
            raise UnsupportedFormat(f"layer {i} of {label} has unknown media type {short(mt)}", ctx.path)
        urls = ld.get("urls")
        layers.append(
            describe_layer(
                ctx,
                i,
                name,
                digest=str(ld.get("digest")),
                diff_id=diff_ids[i] if i < len(diff_ids) else None,
                media_type=mt,
                size=size_of(ld.get("size")),
                annotations=annotations_of(ld),
                urls=tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list) else (),
                warnings=warnings,
            )
        )
    return ImageDraft(
        desc.tags,
        desc.platform,
        desc.digest,
        doc,
        raw,
        config,
        config_raw,
        layers,
        warnings,
        desc.annotations,
    )


def _config(ctx: ReadContext, doc: dict[str, Any], label: str) -> tuple[dict[str, Any], bytes]:
    cfg = doc.get("config")
    if not isinstance(cfg, dict):
        raise InvalidJSON(f"{label} has no config descriptor", ctx.path)
    name = ctx.blob_name(cfg.get("digest"))
    if not ctx.has(name):
        raise MissingBlob(f"config {cfg.get('digest')} named by {label} is not in the archive", ctx.path)
    config, raw = ctx.json(name, f"config {str(cfg.get('digest'))[:19]}")
    if not isinstance(config, dict):
        raise InvalidJSON(f"config of {label} is not a JSON object", ctx.path)
    return config, raw


def _ref_tag(ann: dict[str, str]) -> str | None:
    """The tag an index entry's annotations give (containerd's full name, else the OCI ref name)."""
    return ann.get("io.containerd.image.name") or ann.get("org.opencontainers.image.ref.name") or None
