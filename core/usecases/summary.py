"""The facts ``inspect`` shows: an archive's format, its images with layers and history, warnings;
and the check that every blob is what its manifest says."""

from __future__ import annotations

from typing import Any

from ..archive.records import Archive, ImageRecord
from ..display import redact_secrets
from ..errors import CorruptArchive
from ..kinds import Compression
from ..layers.index import LayerIndex
from ..layers.verify import verify_image
from ..progress import CancelCheck, StageProgress


def image_summary(archive: Archive, im: ImageRecord, idx: list[LayerIndex]) -> dict[str, Any]:
    """The JSON object ``inspect --json`` prints for one image whose layers are indexed as ``idx``."""
    layers = []
    for d, li in zip(im.layers, idx, strict=True):
        h = d.history
        layers.append(
            {
                "index": d.index,
                "digest": d.digest,
                "diff_id": d.diff_id,
                "media_type": d.media_type,
                "compression": Compression.NONE if d.compression == Compression.EMPTY else d.compression,
                "size": d.size,
                "uncompressed_size": li.uncompressed_size,
                "entries": li.members,
                "created_by": redact_secrets(h.text) if h else "",  # secrets never in full (issue 19)
                "created": h.created if h else None,
                "empty": False,
            }
        )
    history = [
        {
            "created_by": redact_secrets(s.text),
            "created": s.created,
            "comment": s.comment,
            "empty": s.empty_layer,
            "layer": s.layer,
        }
        for s in im.history
    ]
    return {
        "tags": im.tags,
        "platform": str(im.platform) if im.platform else None,
        "manifest_digest": im.manifest_digest,
        "config_digest": im.config_digest,
        "layers": layers,
        "history": history,
        "warnings": [*im.warnings, *(w for li in idx for w in li.warnings)],
    }


def archive_summary(archive: Archive, images: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON object ``inspect --json`` prints: the archive's format around ``images`` (from
    image_summary), with every warning of the archive and the images."""
    return {
        "file": archive.label,
        "format": archive.format,
        "format_name": archive.format_name,
        "compressed": archive.outer_compression,
        "images": images,
        "attestations": archive.attestations,
        "warnings": all_warnings(archive, images),
    }


def all_warnings(archive: Archive, images: list[dict[str, Any]]) -> list[str]:
    """The archive's warnings, then each summarised image's."""
    return list(archive.warnings) + [w for s in images for w in s["warnings"]]


def verify(
    archive: Archive,
    image: ImageRecord,
    progress: StageProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> None:
    """Check that every layer's blob digest and diff_id match its bytes (reads them all).

    Raises CorruptArchive naming the first layer that does not match (or cannot be checked), Cancelled.
    """
    problems = verify_image(archive, image, progress, cancelled)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CorruptArchive(f"{problems[0]}{more}", archive.label)
