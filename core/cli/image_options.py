"""The arguments every image subcommand takes: the archive, and which of its images."""

from __future__ import annotations

import argparse


def add_image_options(p: argparse.ArgumentParser) -> None:
    """FILE, --image TAG|N and --platform OS/ARCH (read by usecases.image); --no-cache (read by main)."""
    p.add_argument(
        "file", help="image archive (docker save, podman save, oci-archive, .tar.gz) or OCI layout folder"
    )
    p.add_argument(
        "--image", metavar="TAG|N", help="image tag or position (0, 1, ...) when the archive holds several"
    )
    p.add_argument("--platform", metavar="OS/ARCH", help="OS/ARCH[/VARIANT] of a multi-platform image")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the persistent cache of layer indexes and figures (layerscope cache)",
    )
