"""``layerscope install-desktop`` / ``uninstall-desktop``: the app's menu entry, icons and MIME types.

They are the app's subcommands, not the engine's: the launcher adds them to core's table. The work
is ``desktop``'s; this module only parses and reports, like every subcommand, and imports no Qt.
"""

from __future__ import annotations

import argparse
import sys

from layerscope.core.cli import Subcommand
from layerscope.core.cli.exit import EXIT_INTERNAL

from .desktop import install, uninstall

INSTALL_DESCRIPTION = (
    "Install LayerScope's desktop entry, MIME types and icons under $XDG_DATA_HOME "
    "(~/.local/share), refresh the desktop caches and make LayerScope the default for docker and "
    "OCI image archives. Run it again after moving the installation."
)
UNINSTALL_DESCRIPTION = "Remove exactly what install-desktop wrote and refresh the desktop caches."


def add_install_arguments(p: argparse.ArgumentParser) -> None:
    """--default-for-tar."""
    p.add_argument(
        "--default-for-tar",
        action="store_true",
        help="also make LayerScope the default for all tars (.tar, .tar.gz, .tar.zst); "
        "uninstall-desktop gives them back",
    )


def add_uninstall_arguments(p: argparse.ArgumentParser) -> None:
    """No options."""


def run_install(args: argparse.Namespace) -> int:
    """Install for the current user; exit 1 when a file cannot be written."""
    try:
        return install(default_for_tar=args.default_for_tar)
    except OSError as exc:
        print(f"layerscope: install-desktop: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


def run_uninstall(args: argparse.Namespace) -> int:
    """Remove what install-desktop wrote; exit 1 when a file cannot be removed."""
    try:
        return uninstall()
    except OSError as exc:
        print(f"layerscope: uninstall-desktop: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


COMMANDS: dict[str, Subcommand] = {
    "install-desktop": Subcommand(
        "for the current user: menu entry, icons, image archive MIME types, open on double-click",
        add_install_arguments,
        run_install,
        INSTALL_DESCRIPTION,
    ),
    "uninstall-desktop": Subcommand(
        "remove what install-desktop wrote", add_uninstall_arguments, run_uninstall, UNINSTALL_DESCRIPTION
    ),
}
"""The app's own subcommands, in the order --help lists them after the engine's."""
