"""``layerscope export``: a layer's files, a folder, or the merged filesystem to a folder or tar."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import LayerScopeError
from ..export.result import ExportResult
from ..export.spec import ExportSpec, LayerStack, What, export_layer
from ..export.spec import run as run_export
from ..layers.index import load_image
from ..usecases.image import open_image
from .exit import EXIT_OK
from .image_options import add_image_options, source_options

SHOWN_SKIPPED = 50
"""Skipped items listed by name after the summary."""
SHOWN_WARNINGS = 20
"""Warnings listed after the skipped items."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """FILE, the image choice, what to export (--layer N | --merged), where (--to) and how."""
    add_image_options(p)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--layer",
        type=int,
        metavar="N",
        help="export layer N's own files (whiteouts listed in WHITEOUTS.txt)",
    )
    what.add_argument("--merged", action="store_true", help="export the merged filesystem")
    p.add_argument("--upto", type=int, metavar="N", help="with --merged: merge layers 0..N only")
    p.add_argument("--as-stored", action="store_true", help="with --layer: the layer's tar byte for byte")
    p.add_argument("--compressed", action="store_true", help="with --as-stored: keep the blob's compression")
    p.add_argument("--path", help="only this file or folder (absolute path in the image)")
    p.add_argument("--to", required=True, metavar="DEST", help="destination folder, or a .tar / .tar.gz file")
    p.add_argument("--force", action="store_true", help="replace an existing destination")
    p.add_argument("--keep-setuid", action="store_true", help="keep setuid/setgid bits in a folder export")


def spec_of(args: argparse.Namespace) -> ExportSpec:
    """The export the options ask for. Raises LayerScopeError for --as-stored without --layer."""
    if args.as_stored and args.layer is None:
        raise LayerScopeError("--as-stored needs --layer N")
    what = What.MERGED if args.merged else What.LAYER
    if args.as_stored:
        what = What.STORED
    return ExportSpec(
        what=what,
        dest=Path(args.to),
        layer=args.layer if args.layer is not None else args.upto,
        path=args.path or "",
        force=args.force,
        keep_setuid=args.keep_setuid,
        compressed=args.compressed,
    )


def run(args: argparse.Namespace) -> int:
    """Export, then print what was written, skipped and warned about. Raises LayerScopeError."""
    with open_image(args.file, args.image, args.platform, source_options(args)) as (archive, im):
        spec = spec_of(args)
        export_layer(spec, len(im.layers), archive.label)  # before reading any layer
        res = run_export(spec, LayerStack(archive, load_image(archive, im)))
    if spec.what is What.STORED:
        print(f"layerscope: wrote layer {spec.layer} as stored ({res.bytes} bytes) to {res.dest}")
    else:
        _print_result(res)
    return EXIT_OK


def _print_result(res: ExportResult) -> None:
    print(f"layerscope: {res.summary()}")
    for s in res.skipped[:SHOWN_SKIPPED]:
        print(f"  skipped {s}")
    if len(res.skipped) > SHOWN_SKIPPED:
        print(f"  ... and {len(res.skipped) - SHOWN_SKIPPED} more skipped")
    for w in res.warnings[:SHOWN_WARNINGS]:
        print(f"  warning: {w}")
