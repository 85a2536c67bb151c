"""What every package database reader offers the per-layer scan (core/packages/scan.py)."""

from __future__ import annotations

from typing import Protocol

from .model import Ecosystem, Found
from .reading import Located, MetadataReader


class Catalog(Protocol):
    """One ecosystem's packages as the files of the image say, updated layer by layer.

    ``wants`` names the files its database is made of; ``update`` re-reads what the layer changed
    of them (``files`` holds every wanted file as it now stands); ``found`` is the result, by key.
    ``unsupported`` names databases seen but not readable (said to the user, never guessed).
    """

    ecosystem: Ecosystem
    found: dict[str, Found]
    unsupported: set[str]

    def wants(self, path: str) -> bool: ...

    def update(self, changed: set[str], files: dict[str, Located], reader: MetadataReader) -> None: ...
