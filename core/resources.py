"""The one place that finds bundled resources (icons, desktop files, the sample image)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path


def resource(name: str) -> Traversable:
    """Return the bundled resource ``name`` (a path relative to resources/, with ``/``)."""
    node = resources.files("layerscope.resources")
    for part in name.split("/"):
        node = node / part
    return node


@contextlib.contextmanager
def resource_path(name: str) -> Iterator[Path]:
    """Yield a real filesystem path for resource ``name`` (extracted to a temporary file if needed)."""
    with resources.as_file(resource(name)) as p:
        yield Path(p)


SAMPLE_IMAGE = "sample/sample.docker.tar"
