"""The ``layerscope`` command: subcommands run the engine without Qt; anything else opens the app.

layerscope                      open the window
layerscope FILE...              open these archives, one window each
layerscope --sample             open the bundled sample image
layerscope inspect FILE ...     (and the other subcommands) never import Qt
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from layerscope.core import cli


def gui_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="layerscope",
        description="Explore container image archives. Subcommands: "
        + ", ".join(sorted(cli.SUBCOMMANDS))
        + " (layerscope SUBCOMMAND --help).",
    )
    ap.add_argument("files", nargs="*", help="image archives or OCI layout folders to open")
    ap.add_argument("--sample", action="store_true", help="open the bundled sample image")
    ap.add_argument(
        "--screenshot", metavar="OUT.png", help="render the window offscreen after loading, save, exit"
    )
    ap.add_argument("--select-layer", type=int, metavar="N", help="with --screenshot: select layer N")
    ap.add_argument("--expand", metavar="PATH", help="with --screenshot: expand the tree to PATH")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in cli.SUBCOMMANDS:
        return cli.main(args)
    opts = gui_parser().parse_args(args)
    from layerscope.gui.app import run  # Qt is imported only here

    return run(opts)


if __name__ == "__main__":
    sys.exit(main())
