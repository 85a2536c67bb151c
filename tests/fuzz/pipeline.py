"""The fuzz engine's only door into LayerScope's core: every core import and call is here.

When core modules move, fix the imports in the block below (and the module names in
``CORE_MODULES``); nothing else in :mod:`tests.fuzz` imports ``layerscope.core``.

:func:`run_pipeline` is what a user can do with an archive, as the command line and the GUI would
use the engine: open, index every layer, merge (all and up to a lower layer), both sets of waste
figures, the CLI's JSON views, the GUI's views, file contents, verify, and exports (merged to a
folder and to a .tar.gz, a layer's own files, a layer as stored) into ``DEST_NAMES`` of the export
folder.
"""

from __future__ import annotations

import codecs
import importlib
import json
from pathlib import Path

# ---- core imports: the one place to fix when core modules move --------------------------------------
from layerscope.core.archive.open import open_archive  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.dive_figures import dive_figures  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.errors import LayerScopeError  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.export.destination import remove_tree as _rmtree  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.export.items import layer_items, merged_items  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.export.stored import export_as_stored  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.export.write import export  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.layers.content import read_content  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.layers.index import load_image  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.layers.verify import verify_image  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.merge import merge  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.session import LoadedImage  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.usecases.listing import listing  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.usecases.summary import image_summary  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.views import LayerView, MergedView  # type: ignore[import-not-found, unused-ignore]
from layerscope.core.waste import layerscope_figures  # type: ignore[import-not-found, unused-ignore]

#: Core modules the engine may import lazily (a chrooted worker cannot import later).
CORE_MODULES = (
    "layerscope.core.archive",
    "layerscope.core.audit.history",  # display.redact_secrets imports it when a command is shown
    "layerscope.core.cli",
    "layerscope.core.dive_figures",
    "layerscope.core.export",
    "layerscope.core.layers",
    "layerscope.core.merge",
    "layerscope.core.parallel",
    "layerscope.core.session",
    "layerscope.core.views",
    "layerscope.core.waste",
)
# -------------------------------------------------------------------------------------------------------

__all__ = ["DEST_NAMES", "LayerScopeError", "preimport", "remove_tree", "run_pipeline"]

#: What :func:`run_pipeline` may create in the export folder.
DEST_NAMES = ("merged", "merged.tar.gz", "layer", "layer0", "stored.tar")

_STDLIB_MODULES = ("hashlib", "mmap", "tempfile", "zlib")
_CODECS = ("utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "latin-1")


def preimport() -> None:
    """Everything the engine may import lazily, imported now (a chrooted worker cannot import later)."""
    for name in _STDLIB_MODULES + CORE_MODULES:
        importlib.import_module(name)
    for codec in _CODECS:
        codecs.lookup(codec)


def run_pipeline(path: Path, export_root: Path, fork: bool = False) -> None:
    """What a user can do with an archive, end to end. Raises LayerScopeError for bad input."""
    with open_archive(path) as a:
        json.dumps([im.describe() for im in a.images] + [a.format_name, *a.warnings])
        json.dumps(a.attestations, default=str)
        for n, im in enumerate(a.images[:3]):
            layers = load_image(a, im, fork=fork)
            tree = merge(layers, archive=a)
            dive = dive_figures(layers)
            ours = layerscope_figures(layers, tree, base_layers=min(1, len(layers)))
            json.dumps({"dive": dive.as_json(), "ours": ours.as_json()})
            json.dumps(image_summary(a, im, layers))
            loaded = LoadedImage(a, im, layers, tree, dive, ours)
            json.dumps(loaded.warnings)
            json.dumps(listing(tree, None, "merged"))
            for i in range(min(len(layers), 4)):
                json.dumps(listing(tree, i, "layer"))
                for view in (LayerView(tree, i), MergedView(loaded.merged_upto(i))):
                    for p in view.paths()[:300]:
                        view.row(p)
                    view.search("a")
                for e in [e for e in layers[i].entries if e.type == "file"][:3]:
                    read_content(a, layers[i].desc, e, limit=1 << 16)
            if n == 0:
                top = len(layers) - 1
                export(a, tree, merged_items(tree), export_root / "merged")
                export(a, tree, merged_items(tree), export_root / "merged.tar.gz")
                if layers:
                    for i, name in {top: "layer", 0: "layer0"}.items():
                        items, deletes = layer_items(tree, i)
                        export(a, tree, items, export_root / name, deletes=deletes)
                    export_as_stored(a, layers[top], export_root / "stored.tar")
            verify_image(a, im)


def remove_tree(p: Path) -> None:
    """Remove a folder as the export does (read-only folders, devices, fifos; links not followed)."""
    _rmtree(p)
