"""``layerscope du``: sizes by folder, as ``du --apparent-size`` prints them for a filesystem."""

from __future__ import annotations

import argparse
import json
import sys

from ..display import human_size
from ..kinds import View
from ..paths import is_under
from ..session import load
from ..space.usage import FolderUsage, usage_of_layer, usage_of_tree
from ..usecases.image import check_layer, open_image
from .exit import EXIT_OK
from .image_options import add_image_options, add_layer_view_options, source_options

DEFAULT_DEPTH = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    """IMAGE, the image choice, --layer, --view, --depth, --sort and --json."""
    add_image_options(p)
    add_layer_view_options(p, "the files the layer itself stored")
    p.add_argument(
        "--depth",
        type=_depth,
        default=DEFAULT_DEPTH,
        metavar="D",
        help=f"folders down to D levels below / (default: {DEFAULT_DEPTH}; 0: / alone)",
    )
    p.add_argument(
        "--sort",
        choices=("path", "size"),
        default="path",
        help="path: as du, each folder after what it holds (default); size: largest first",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array of {path, bytes, files, layers}, one folder per line "
        "(layers: bytes by owning layer index)",
    )


def _depth(text: str) -> int:
    n = int(text)
    if n < 0:
        raise argparse.ArgumentTypeError("the depth is 0 or more")
    return n


def run(args: argparse.Namespace) -> int:
    """Print the folders' sizes, as text or JSON. Raises LayerScopeError."""
    with open_image(args.file, args.image, args.platform, source_options(args)) as (archive, im):
        layer = check_layer(archive, im, len(im.layers) - 1 if args.layer is None else args.layer)
        loaded = load(archive, im, keep=False)  # kept in the cache after the output
        if View(args.view) is View.LAYER:
            usage = usage_of_layer(loaded.tree, layer)
        else:
            usage = usage_of_tree(loaded.merged_upto(layer))
        rows = ordered(usage.folders(args.depth), args.sort)
        if args.json:
            lines = (json.dumps(r.as_json(), ensure_ascii=False) for r in rows)
            sys.stdout.write("[\n" + ",\n".join(lines) + "\n]\n")
        else:
            sys.stdout.writelines(f"{human_size(r.bytes):>10}  /{r.path}\n" for r in rows)
        loaded.keep_in_cache()  # the next run reads the merged tree (the output is flushed at exit)
    return EXIT_OK


def ordered(rows: list[FolderUsage], sort: str) -> list[FolderUsage]:
    """``size``: largest first (by path among equals); ``path``: du's order, each folder after the
    folders in it, siblings by path, ``/`` last."""
    if sort == "size":
        return sorted(rows, key=lambda r: (-r.bytes, r.path))
    out: list[FolderUsage] = []
    pending: list[FolderUsage] = []  # ``rows`` lists parents first, siblings by path: reorder
    for r in rows:
        while pending and not is_under(r.path, pending[-1].path):
            out.append(pending.pop())
        pending.append(r)
    out.extend(reversed(pending))
    return out
