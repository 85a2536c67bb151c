"""What the readers of one archive share: where they read, and what they found on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import limits
from ..digest import blob_path
from ..errors import InvalidJSON, UnsupportedFormat
from .container import Container
from .jsondoc import JsonBudget, load_json, short


@dataclass(slots=True)
class ReadContext:
    """The container being read, the archive's path for messages, and the findings collected so far.

    Warnings and attestations are collected here while reading, then frozen into the ``Archive``.
    """

    container: Container
    path: Path
    warnings: list[str] = field(default_factory=list)
    attestations: list[dict[str, Any]] = field(default_factory=list)
    budget: JsonBudget = field(default_factory=JsonBudget)
    _parsed: dict[str, tuple[Any, bytes]] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        """Whether the container holds the file ``name``."""
        return self.container.exists(name)

    def json(self, name: str, what: str) -> tuple[Any, bytes]:
        """A JSON document of the archive and its bytes, parsed once (indexes repeat documents).

        Raises InvalidJSON past MAX_JSON_BYTES, MAX_JSON_DEPTH or MAX_JSON_COST; MissingBlob.
        """
        got = self._parsed.get(name)
        if got is not None:
            return got
        blob = self.container.blob(name)
        if blob.size > limits.MAX_JSON_BYTES:
            raise InvalidJSON(
                f"{what} is {blob.size:,} bytes; LayerScope reads JSON documents of up to "
                f"{limits.MAX_JSON_BYTES >> 20} MB",
                self.path,
            )
        raw = blob.read_all(limits.MAX_JSON_BYTES)
        self.budget.charge(raw, what, self.path)
        got = load_json(raw, what, self.path), raw
        self._parsed[name] = got
        return got

    def json_object(self, name: str, what: str) -> tuple[dict[str, Any], bytes]:
        """``json()`` of a document that must be an object. Raises InvalidJSON otherwise."""
        doc, raw = self.json(name, what)
        if not isinstance(doc, dict):
            raise InvalidJSON(f"{what} is not a JSON object", self.path)
        return doc, raw

    def blob_name(self, digest: object) -> str:
        """The member holding the blob ``digest`` names. Raises InvalidJSON for a bad digest."""
        if not isinstance(digest, str):
            raise InvalidJSON(f"digest {short(digest)} is not a string", self.path)
        name = blob_path(digest)
        if name is None:
            raise InvalidJSON(f"invalid digest {short(digest)}", self.path)
        return name

    def check_layer_count(self, n: int, label: str) -> None:
        """Raises UnsupportedFormat when an image lists more than MAX_LAYERS layers."""
        if n > limits.MAX_LAYERS:
            raise UnsupportedFormat(
                f"{label} lists {n:,} layers; LayerScope reads images of up to {limits.MAX_LAYERS:,} "
                "layers (container runtimes stop at 128)",
                self.path,
            )
