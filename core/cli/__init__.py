"""``layerscope`` subcommands: the engine on the command line, for people and for CI.

One module per subcommand parses its arguments, calls ``core/usecases`` and prints; SUBCOMMANDS
below is the one table that names them. Nothing here imports Qt. Exit status (``exit``): 0 success,
2 bad input (one line on stderr naming the file and the problem), 1 an internal error (``ci``: a
rule failed).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from ..cache import settings as cache_settings
from ..errors import LayerScopeError
from .exit import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK


class Subcommand(NamedTuple):
    """A subcommand: what it does in one line, its arguments, and the function that runs it."""

    summary: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None
    """Its --help text when one line is not enough (default: ``summary``)."""


def _lazy(module: str, summary: str) -> Subcommand:
    """The subcommand of ``core.cli.<module>``, imported only when it is used (a command's start-up
    then pays for its own imports only: ``cat`` and a warm ``ci`` take well under a second)."""

    def add_arguments(p: argparse.ArgumentParser) -> None:
        importlib.import_module(f"{__name__}.{module}").add_arguments(p)

    def run(args: argparse.Namespace) -> int:
        result: int = importlib.import_module(f"{__name__}.{module}").run(args)
        return result

    return Subcommand(summary, add_arguments, run)


SUBCOMMANDS: dict[str, Subcommand] = {
    "inspect": _lazy("inspect", "formats, images, tags, layers and history of an archive"),
    "ls": _lazy("ls", "the merged filesystem up to a layer, or one layer's own changes"),
    "du": _lazy("du", "sizes by folder of the merged filesystem or a layer's own files, as du prints them"),
    "ci": _lazy("ci", "dive-compatible CI rules (efficiency, wasted bytes) plus LayerScope's figures"),
    "export": _lazy("export", "write a layer's files, a folder, or the merged filesystem to a folder or tar"),
    "cat": _lazy("cat", "write one file's bytes to standard output"),
    "diff": _lazy("diff", "what changed between two images, or two layers of one: files, layers, config"),
    "packages": _lazy("packages", "packages (dpkg, apk, rpm, Python, npm, Go), their layers, the OS"),
    "history": _lazy("history", "the build steps with each layer's ChainID and v1 id, or as a Dockerfile"),
    "audit": _lazy("audit", "secrets and risky files an image ships, in every layer, even deleted ones"),
    "cache": _lazy(
        "cache", "the persistent cache of layer indexes and figures: info (folder, size, limit) or clear"
    ),
}
"""The engine's subcommands by the word that runs each, in the order --help lists them. The app adds
its own (install-desktop, uninstall-desktop) when it runs ``main``."""


def build_parser(
    commands: Mapping[str, Subcommand] = SUBCOMMANDS, only: str | None = None
) -> argparse.ArgumentParser:
    """The parser of every subcommand in ``commands``; with ``only``, the others are listed (for
    --help and errors) without their arguments, so that their modules are not imported."""
    ap = argparse.ArgumentParser(prog="layerscope", description="Explore container image archives.")
    sub = ap.add_subparsers(dest="command", required=True)
    for name, command in commands.items():
        p = sub.add_parser(name, help=command.summary, description=command.description or command.summary)
        if only is None or name == only:
            command.add_arguments(p)
    return ap


def _command_word(argv: Sequence[str], commands: Mapping[str, Subcommand]) -> str | None:
    """The subcommand ``argv`` names, when its first word is one (not after an option)."""
    return argv[0] if argv and argv[0] in commands else None


def main(argv: Sequence[str] | None = None, commands: Mapping[str, Subcommand] = SUBCOMMANDS) -> int:
    """Run a subcommand of ``commands``; returns the exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(commands, _command_word(words, commands)).parse_args(words)
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
