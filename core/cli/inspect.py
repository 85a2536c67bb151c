"""``layerscope inspect``: an archive's format, images, tags, layers and history."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from ..archive.records import Archive, ImageRecord
from ..display import human_size, readable_command
from ..layers.index import load_image
from ..merge import merge
from ..packages.os_release import identify_os
from ..packages.reading import MetadataReader, Warnings, tree_reader
from ..usecases.image import chosen_images, open_reference
from ..usecases.summary import all_warnings, archive_summary, image_summary, verify
from .exit import EXIT_OK
from .image_options import add_image_options, source_options

SHOWN_EMPTY_STEPS = 6
"""History steps without a layer listed by name in the text form."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """FILE, the image choice, --json and --verify."""
    add_image_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--verify",
        action="store_true",
        help="check every blob digest and diff_id (reads all bytes); exit 2 naming the first layer "
        "that does not match",
    )


def run(args: argparse.Namespace) -> int:
    """Print the archive's summary, as text or JSON. Raises LayerScopeError."""
    out: TextIO = sys.stdout
    with open_reference(args.file, args.platform, source_options(args)) as (archive, ref):
        images = chosen_images(archive, args.image if args.image is not None else ref.image, args.platform)
        summaries = [_summary(archive, im) for im in images]
        if args.verify:
            for im in images:
                verify(archive, im)
        if args.json:
            json.dump(archive_summary(archive, summaries), out, indent=2)
            out.write("\n")
            return EXIT_OK
        _print_text(out, archive, images, summaries)
        if args.verify:
            out.write("\nverified: every blob matches its digest\n")
    return EXIT_OK


def _summary(archive: Archive, im: ImageRecord) -> dict[str, Any]:
    """``image_summary`` plus the OS its files name (``os``: id, version_id, pretty_name, or null)."""
    layers = load_image(archive, im)
    s = image_summary(archive, im, layers)
    found = identify_os(tree_reader(MetadataReader(archive, layers, Warnings()), merge(layers)))
    s["os"] = (
        None
        if found is None
        else {"id": found.id, "version_id": found.version_id, "pretty_name": found.pretty_name}
    )
    return s


def _print_text(
    out: TextIO, archive: Archive, images: list[ImageRecord], summaries: list[dict[str, Any]]
) -> None:
    out.write(f"{archive.label}: {archive.format_name}\n")
    for im, s in zip(images, summaries, strict=True):
        _print_image(out, archive.images.index(im), im, s)
    if archive.attestations:
        out.write(f"\n{len(archive.attestations)} attestation/artifact manifest(s) (not images)\n")
    warnings = all_warnings(archive, summaries)
    if warnings:
        out.write(f"\nWarnings ({len(warnings)}):\n")
        for w in warnings:
            out.write(f"  - {w}\n")


def _print_image(out: TextIO, n: int, im: ImageRecord, s: dict[str, Any]) -> None:
    out.write(
        f"\nImage #{n}: {', '.join(im.tags) or '(untagged)'}"
        f"{'  [' + str(im.platform) + ']' if im.platform else ''}\n"
    )
    out.write(f"  config {im.config_digest}\n")
    found = s.get("os")
    if found:
        words = found["pretty_name"] or " ".join(filter(None, (found["id"], found["version_id"])))
        out.write(f"  os {words}\n")
    total = sum(ly["size"] for ly in s["layers"])
    out.write(f"  {len(s['layers'])} layers, {human_size(total)} stored\n")
    out.write(f"  {'#':>3}  {'digest':<19}  {'comp':<5} {'size':>9} {'entries':>8}  created_by\n")
    for ly in s["layers"]:
        dg = (ly["digest"] or "?")[:19]
        cb = readable_command(ly["created_by"]).replace("\n", " ")
        if len(cb) > 90:
            cb = cb[:89] + "…"
        out.write(
            f"  {ly['index']:>3}  {dg:<19}  {ly['compression']:<5} {human_size(ly['size']):>9} "
            f"{ly['entries']:>8}  {cb}\n"
        )
    empties = [h for h in s["history"] if h["empty"]]
    if empties:
        out.write(
            f"  {len(empties)} history step(s) without a layer: "
            + "; ".join(readable_command(h["created_by"])[:40] for h in empties[:SHOWN_EMPTY_STEPS])
            + (" …" if len(empties) > SHOWN_EMPTY_STEPS else "")
            + "\n"
        )
