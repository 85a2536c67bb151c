"""``layerscope cat``: one file's bytes to standard output."""

from __future__ import annotations

import argparse
import sys

from ..usecases.files import file_bytes, image_file
from ..usecases.image import open_image
from .exit import EXIT_OK
from .image_options import add_image_options, source_options


def add_arguments(p: argparse.ArgumentParser) -> None:
    """FILE, the image choice, the path and --layer."""
    add_image_options(p)
    p.add_argument("path", help="absolute path in the image (symlinks are followed)")
    p.add_argument(
        "--layer", type=int, metavar="N", help="the file as layer N stored it (default: the merged top)"
    )


def run(args: argparse.Namespace) -> int:
    """Write the file's bytes. Raises LayerScopeError (no such file, a folder, not a regular file)."""
    with open_image(args.file, args.image, args.platform, source_options(args)) as (archive, im):
        found = image_file(archive, im, args.path, args.layer)
        out = sys.stdout.buffer
        for chunk in file_bytes(archive, im.layers[found.layer], found):
            out.write(chunk)
        out.flush()
    return EXIT_OK
