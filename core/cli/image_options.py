"""The arguments every image subcommand takes: the image's reference, which of its images, and how to
reach a registry."""

from __future__ import annotations

import argparse

from ..kinds import View
from ..sources.open import SourceOptions
from ..sources.reference import REFERENCE_HELP, parse_reference


def add_image_options(p: argparse.ArgumentParser) -> None:
    """FILE, --image TAG|N and --platform OS/ARCH (read by usecases.image); --no-cache (read by main)."""
    p.add_argument("file", metavar="IMAGE", help=REFERENCE_HELP)
    p.add_argument(
        "--image", metavar="TAG|N", help="image tag or position (0, 1, ...) when the archive holds several"
    )
    p.add_argument("--platform", metavar="OS/ARCH", help="OS/ARCH[/VARIANT] of a multi-platform image")
    add_cache_option(p)
    add_source_options(p)


def add_cache_option(p: argparse.ArgumentParser) -> None:
    """--no-cache (read by ``main``)."""
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the persistent cache of layer indexes and figures (layerscope cache)",
    )


def add_layer_view_options(p: argparse.ArgumentParser, layer_view_help: str) -> None:
    """--layer N and --view merged|layer (``layer_view_help``: what the layer view shows)."""
    p.add_argument("--layer", type=int, metavar="N", help="layer index (default: the top layer)")
    p.add_argument(
        "--view",
        choices=[v.value for v in View],
        default=View.MERGED.value,
        help=f"merged: the filesystem up to the layer (default); layer: {layer_view_help}",
    )


def add_source_options(p: argparse.ArgumentParser) -> None:
    """--creds USER:PASS and --tls-verify=false, for images in a registry (read by ``source_options``)."""
    p.add_argument("--creds", metavar="USER:PASS", help="credentials for the registry (docker://...)")
    p.add_argument(
        "--tls-verify",
        choices=("true", "false"),
        default="true",
        help="false: do not verify the registry's TLS certificate and allow plain HTTP to it",
    )


def source_options(args: argparse.Namespace, reference: str | None = None) -> SourceOptions:
    """How to reach the image ``reference`` names (default: the IMAGE argument): ``--platform``,
    ``--creds``, ``--tls-verify``."""
    text = reference if reference is not None else args.file
    verify = getattr(args, "tls_verify", "true") != "false"
    insecure: frozenset[str] = frozenset()
    if not verify:
        ref = parse_reference(text)
        if ref.name is not None:
            insecure = frozenset({ref.name.registry})
    return SourceOptions(
        platform=getattr(args, "platform", None),
        creds=getattr(args, "creds", None),
        insecure=insecure,
        tls_verify=verify,
    )
