"""``layerscope`` subcommands: the engine on the command line, for people and for CI.

One module per subcommand parses its arguments, calls ``core/usecases`` and prints; SUBCOMMANDS
below is the one table that names them. Nothing here imports Qt. Exit status (``exit``): 0 success,
2 bad input (one line on stderr naming the file and the problem), 1 an internal error (``ci``: a
rule failed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from ..cache import settings as cache_settings
from ..errors import LayerScopeError
from . import cache, cat, ci, export, inspect, ls
from .exit import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK


class Subcommand(NamedTuple):
    """A subcommand: what it does in one line, its arguments, and the function that runs it."""

    summary: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None
    """Its --help text when one line is not enough (default: ``summary``)."""


SUBCOMMANDS: dict[str, Subcommand] = {
    "inspect": Subcommand(
        "formats, images, tags, layers and history of an archive", inspect.add_arguments, inspect.run
    ),
    "ls": Subcommand(
        "the merged filesystem up to a layer, or one layer's own changes", ls.add_arguments, ls.run
    ),
    "ci": Subcommand(
        "dive-compatible CI rules (efficiency, wasted bytes) plus LayerScope's figures",
        ci.add_arguments,
        ci.run,
    ),
    "export": Subcommand(
        "write a layer's files, a folder, or the merged filesystem to a folder or tar",
        export.add_arguments,
        export.run,
    ),
    "cat": Subcommand("write one file's bytes to standard output", cat.add_arguments, cat.run),
    "cache": Subcommand(
        "the persistent cache of layer indexes and figures: info (folder, size, limit) or clear",
        cache.add_arguments,
        cache.run,
    ),
}
"""The engine's subcommands by the word that runs each, in the order --help lists them. The app adds
its own (install-desktop, uninstall-desktop) when it runs ``main``."""


def build_parser(commands: Mapping[str, Subcommand] = SUBCOMMANDS) -> argparse.ArgumentParser:
    """The parser of every subcommand in ``commands``."""
    ap = argparse.ArgumentParser(prog="layerscope", description="Explore container image archives.")
    sub = ap.add_subparsers(dest="command", required=True)
    for name, command in commands.items():
        p = sub.add_parser(name, help=command.summary, description=command.description or command.summary)
        command.add_arguments(p)
    return ap


def main(argv: Sequence[str] | None = None, commands: Mapping[str, Subcommand] = SUBCOMMANDS) -> int:
    """Run a subcommand of ``commands``; returns the exit status."""
    args = build_parser(commands).parse_args(argv)
    cache_settings.set_enabled(not getattr(args, "no_cache", False))
    try:
        return commands[args.command].run(args)
    except LayerScopeError as exc:
        sys.stdout.flush()
        print(f"layerscope: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("layerscope: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        print(
            f"layerscope: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr
        )
        return EXIT_INTERNAL
