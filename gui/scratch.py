"""Temporary copies the app hands to others (drag and drop, open with the default application).

They must outlive the call that made them (the receiver reads them later), so they are kept in
folders that are removed when LayerScope exits.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

_folders: list[Path] = []


def scratch_folder(prefix: str) -> Path:
    """A new private temporary folder, removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix=f"layerscope-{prefix}-"))
    _folders.append(folder)
    return folder


@atexit.register
def _remove_all() -> None:
    for folder in _folders:
        shutil.rmtree(folder, ignore_errors=True)
    _folders.clear()
