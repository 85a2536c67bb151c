"""``layerscope cat``: one file's bytes to standard output."""

from __future__ import annotations

import argparse
import sys

from ..layers.index import load_image
from ..usecases.files import file_bytes, find_file
from ..usecases.image import check_layer, open_image
from .exit import EXIT_OK
from .image_options import add_image_options


def add_arguments(p: argparse.ArgumentParser) -> None:
    """FILE, the image choice, the path and --layer."""
    add_image_options(p)
    p.add_argument("path", help="absolute path in the image (symlinks are followed)")
    p.add_argument(
        "--layer", type=int, metavar="N", help="the file as layer N stored it (default: the merged top)"
    )


def run(args: argparse.Namespace) -> int:
    """Write the file's bytes. Raises LayerScopeError (no such file, a folder, not a regular file)."""
    with open_image(args.file, args.image, args.platform) as (archive, im):
        layers = load_image(archive, im)
        if args.layer is not None:
            check_layer(archive, im, args.layer)
        found = find_file(archive, layers, args.path, args.layer)
        out = sys.stdout.buffer
        for chunk in file_bytes(archive, layers, found):
            out.write(chunk)
        out.flush()
    return EXIT_OK
