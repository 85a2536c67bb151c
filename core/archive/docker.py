"""``docker save``'s manifest.json: the legacy layout, and Docker 25+'s next to an OCI index.

manifest.json lists each image's config and layer files by path and its RepoTags. In a Docker 25+
save the same images are also in index.json: there manifest.json only adds tags.
"""

from __future__ import annotations

from typing import Any

from ..digest import is_sha256_hex
from ..errors import InvalidJSON, MissingBlob
from .context import ReadContext
from .image import ImageDraft, config_digest, describe_layer
from .jsondoc import diff_ids_of, short, str_list
from .records import LayerDesc
from .tags import add_tag

_LAYER_SUFFIXES = (".tar.gz", ".tgz", ".tar.zst", ".tar", ".gz")


def read_docker_manifest(ctx: ReadContext, images: list[ImageDraft]) -> list[ImageDraft]:
    """``images`` (from index.json, if any) with the tags and images manifest.json adds.

    Raises InvalidJSON, MissingBlob, UnsupportedFormat.
    """
    doc, _raw = ctx.json("manifest.json", "manifest.json")
    if doc is None:
        raise InvalidJSON("manifest.json is null", ctx.path)
    if not isinstance(doc, list):
        raise InvalidJSON("manifest.json is not a JSON array", ctx.path)
    by_config = {im.config_digest: im for im in images}
    out = list(images)
    for n, entry in enumerate(doc):
        if not isinstance(entry, dict):
            raise InvalidJSON(f"manifest.json entry {n} is not an object", ctx.path)
        image = _entry(ctx, n, entry, by_config)
        if image is not None:
            out.append(image)
            by_config[image.config_digest] = image
    return out


def _entry(
    ctx: ReadContext, n: int, e: dict[str, Any], by_config: dict[str, ImageDraft]
) -> ImageDraft | None:
    """The image of entry ``n``, or None when it only adds tags to one already found."""
    cfg = e.get("Config")
    lays = e.get("Layers")
    if not isinstance(cfg, str) or not cfg or not isinstance(lays, list):
        raise InvalidJSON(f"manifest.json entry {n} has no Config or Layers", ctx.path)
    ctx.check_layer_count(len(lays), f"manifest.json entry {n}")
    tags: list[str] = []
    for t in str_list(e.get("RepoTags")):
        add_tag(tags, t)
    if not ctx.has(cfg):
        raise MissingBlob(f"config {short(cfg)} named by manifest.json is not in the archive", ctx.path)
    config, raw = ctx.json_object(cfg, f"config {cfg[:100]}")
    known = by_config.get(config_digest(raw))
    if known is not None:
        known.add_tags(tags)
        return None
    warnings: list[str] = []
    layers = _layers(ctx, n, lays, config, e.get("LayerSources"), warnings)
    return ImageDraft(tags, None, None, None, None, config, raw, layers, warnings, {})


def _layers(
    ctx: ReadContext, n: int, paths: list[Any], config: dict[str, Any], sources: Any, warnings: list[str]
) -> list[LayerDesc]:
    """The layers an entry lists by path; ``LayerSources`` (Docker 25+) gives their media types."""
    diff_ids = diff_ids_of(config)
    out = []
    for i, lp in enumerate(paths):
        if not isinstance(lp, str):
            raise InvalidJSON(f"manifest.json entry {n} layer {i} is not a path", ctx.path)
        did = diff_ids[i] if i < len(diff_ids) else None
        src = sources.get(did) if did and isinstance(sources, dict) else None
        src = src if isinstance(src, dict) else {}
        if not ctx.has(lp):
            raise MissingBlob(f"layer {short(lp)} named by manifest.json is not in the archive", ctx.path)
        digest = src.get("digest")
        out.append(
            describe_layer(
                ctx,
                i,
                lp,
                digest=digest if isinstance(digest, str) else digest_from_name(lp),
                diff_id=did,
                media_type=str(src["mediaType"]) if src.get("mediaType") else None,
                warnings=warnings,
            )
        )
    return out


def digest_from_name(name: str) -> str | None:
    """The digest a layer file name spells (``blobs/sha256/<hex>``, ``<hex>.tar``), or None."""
    base = name.rsplit("/", 1)[-1]
    for suffix in _LAYER_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    base = base.removeprefix("sha256:")
    return "sha256:" + base if is_sha256_hex(base) else None
