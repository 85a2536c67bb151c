"""The images an engine holds, as records for the GUI's Open from Docker / Open from Podman dialog.

One record per tag, as ``docker images`` prints them; an image without a tag is one record named
by its id. Fields the engine leaves out are None (an engine never makes a listing fail by itself).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..reference import SourceKind
from .api import EngineClient

_NONE = "<none>"


@dataclass(frozen=True, slots=True)
class EngineImage:
    """One local image (one of its tags): what the dialog lists and what opening it asks for.

    ``repository`` and ``tag`` are as the engine spells them (``corpus/app``, ``localhost/app``),
    None for an untagged image; ``id`` is the full image id with its ``sha256:`` prefix; ``size``
    the engine's figure in bytes (unpacked layers); ``created`` in UTC.
    """

    kind: SourceKind
    repository: str | None
    tag: str | None
    id: str
    size: int | None
    created: dt.datetime | None
    digests: tuple[str, ...] = ()

    @property
    def short_id(self) -> str:
        """The 12 hex digits the engines print."""
        return self.id.removeprefix("sha256:")[:12]

    @property
    def name(self) -> str:
        """``repository:tag``, else the short id (an untagged image)."""
        if self.repository is None:
            return self.short_id
        return f"{self.repository}:{self.tag}" if self.tag else self.repository

    @property
    def reference(self) -> str:
        """The reference that opens this image: ``docker-daemon:corpus/app:1``, ``podman:<id>``."""
        if self.repository is None:
            return f"{self.kind}:{self.id.removeprefix('sha256:')}"
        return f"{self.kind}:{self.name}"


def list_images(client: EngineClient) -> list[EngineImage]:
    """Every image of the engine ``client`` speaks to, newest first, then by name.

    Raises EngineUnavailable, EngineError."""
    doc = client.get_json("/images/json")
    if not isinstance(doc, list):
        return []
    out = [im for item in doc if isinstance(item, dict) for im in _records(client.endpoint.kind, item)]
    out.sort(key=lambda im: im.name)
    out.sort(key=lambda im: im.created or _EPOCH, reverse=True)
    return out


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _records(kind: SourceKind, item: dict[str, Any]) -> list[EngineImage]:
    """The records of one listed image: one per tag, or one for the untagged image."""
    raw_id = str(item.get("Id") or "")
    if not raw_id:
        return []
    image_id = raw_id if ":" in raw_id else f"sha256:{raw_id}"
    size = item.get("Size")
    size = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
    created = _created(item.get("Created"))
    digests = tuple(str(d) for d in item.get("RepoDigests") or () if isinstance(d, str))
    tags = [t for t in item.get("RepoTags") or () if isinstance(t, str) and t != f"{_NONE}:{_NONE}"]
    if not tags:
        return [EngineImage(kind, None, None, image_id, size, created, digests)]
    out = []
    for t in tags:
        repo, tag = _split_tag(t)
        out.append(EngineImage(kind, repo, tag, image_id, size, created, digests))
    return out


def _split_tag(text: str) -> tuple[str, str | None]:
    """``repo:tag`` → (repo, tag); the colon of a registry port is not a tag's."""
    head, sep, tail = text.rpartition(":")
    if sep and "/" not in tail:
        return head, tail
    return text, None


def _created(v: object) -> dt.datetime | None:
    """The engines give seconds since the epoch (compat and libpod listings) or RFC 3339 text."""
    if isinstance(v, int | float) and not isinstance(v, bool) and v > 0:
        try:
            return dt.datetime.fromtimestamp(v, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(v, str) and v:
        text = v.replace("Z", "+00:00")
        if "." in text:  # nanoseconds: fromisoformat takes at most six digits
            main, frac = text.split(".", 1)
            digits = "".join(c for c in frac if c.isdigit())
            text = f"{main}.{digits[:6]}{frac[len(digits) :]}"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None
