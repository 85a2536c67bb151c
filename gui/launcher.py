"""The ``layerscope`` command: subcommands run the engine without Qt; anything else opens the app.

layerscope                      open the window
layerscope FILE...              open these archives, one window each
layerscope --sample             open the bundled sample image
layerscope inspect FILE ...     (and the other subcommands) never import Qt
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from layerscope.core import cli
from layerscope.core.cli.exit import EXIT_BAD_INPUT

from .desktop_cli import COMMANDS as DESKTOP_COMMANDS

SUBCOMMANDS = {**cli.SUBCOMMANDS, **DESKTOP_COMMANDS}
"""Every subcommand: the engine's, then the app's own."""

_COMMAND_WORD = re.compile(r"[a-z][a-z-]*")
"""What a subcommand looks like: a lowercase word (a file name has a dot, a slash or capitals)."""

_NEEDS_DISPLAY = ("", "xcb", "wayland", "wayland-egl")
"""Qt platform plugins that open windows on an X or Wayland display ('' is Qt's default)."""


def gui_parser() -> argparse.ArgumentParser:
    """The options of the app itself (no subcommand)."""
    ap = argparse.ArgumentParser(
        prog="layerscope",
        description="Explore container image archives. Subcommands: "
        + ", ".join(sorted(SUBCOMMANDS))
        + " (layerscope SUBCOMMAND --help).",
    )
    ap.add_argument("files", nargs="*", help="image archives or OCI layout folders to open")
    ap.add_argument("--sample", action="store_true", help="open the bundled sample image")
    ap.add_argument(
        "--screenshot", metavar="OUT.png", help="render the window offscreen after loading, save, exit"
    )
    ap.add_argument("--select-layer", type=int, metavar="N", help="with --screenshot: select layer N")
    ap.add_argument("--expand", metavar="PATH", help="with --screenshot: expand the tree to PATH")
    ap.add_argument("--theme", choices=("system", "light", "dark"), help="light or dark for this run only")
    return ap


def unknown_command(word: str) -> str | None:
    """Why ``word``, the first argument, is neither a subcommand nor a file: "unknown command ..."
    with the closest subcommand; None when it may be a file to open."""
    if word in SUBCOMMANDS or not _COMMAND_WORD.fullmatch(word) or Path(word).exists():
        return None
    close = difflib.get_close_matches(word, list(SUBCOMMANDS), n=1)
    hint = f"did you mean {close[0]!r}?" if close else "commands: " + ", ".join(SUBCOMMANDS)
    return f"unknown command {word!r} ({hint})"


def missing_display(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> str | None:
    """Why Qt would find no display to open a window on (it aborts then); None when there is one.

    Only X11 and Wayland need one; macOS, Windows and Qt's offscreen plugins do not."""
    if platform in ("darwin", "win32", "cygwin"):
        return None
    plugin = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0]
    if plugin not in _NEEDS_DISPLAY:
        return None
    wanted = {"xcb": ["DISPLAY"], "": ["DISPLAY", "WAYLAND_DISPLAY"]}.get(plugin, ["WAYLAND_DISPLAY"])
    if any(env.get(name) for name in wanted):
        return None
    unset = " and ".join(wanted) + (" are" if len(wanted) > 1 else " is")
    return f"no display: {unset} not set; set DISPLAY or use QT_QPA_PLATFORM=offscreen"


SYSTEM_MALLOC_ENV = "PYTHONMALLOC"


def with_system_malloc(env: Mapping[str, str] | None = None) -> None:
    """On glibc, run the app with Python's allocator set to the C library's (PYTHONMALLOC=malloc):
    start this same command again in this process (exec), once, before Qt is loaded.

    A reopen loads the new image while the old one is still shown, so both are in memory at once,
    their objects interleaved. Python's own allocator gives memory back only in 1 MiB arenas that
    are wholly free, and the new image's objects keep most of the old one's arenas alive: RSS grew
    by 40 % over five reopens of a 2 GB image. glibc's malloc_trim (run after each image is freed,
    core/session.release_memory) returns every free 4 KiB page instead, and RSS stays flat.
    Elsewhere, or when PYTHONMALLOC is set already (the user's choice, or the exec done), nothing."""
    env = os.environ if env is None else env
    if SYSTEM_MALLOC_ENV in env or getattr(sys, "frozen", False) or not sys.platform.startswith("linux"):
        return
    import platform

    if platform.libc_ver()[0] != "glibc" or not sys.executable or sys.orig_argv[1:2] in ([], ["-"]):
        return
    os.environ[SYSTEM_MALLOC_ENV] = "malloc"
    try:
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    except OSError:
        del os.environ[SYSTEM_MALLOC_ENV]  # could not start again: run as we are


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand, or open the app; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        return cli.main(args, SUBCOMMANDS)
    typo = unknown_command(args[0]) if args else None
    if typo is not None:  # before the app's own options complain about the subcommand's
        print(f"layerscope: {typo}", file=sys.stderr)
        return EXIT_BAD_INPUT
    opts = gui_parser().parse_args(args)
    no_display = missing_display()
    if no_display is not None:
        print(f"layerscope: {no_display}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if argv is None:
        with_system_malloc()  # the process's own command line only: never replaces a caller's process
    from layerscope.gui.app import run  # Qt is imported only here

    return run(opts)


if __name__ == "__main__":
    sys.exit(main())
