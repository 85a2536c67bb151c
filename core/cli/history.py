"""``layerscope history``: the build steps, their instructions and their layers' identities; the
history as a Dockerfile with --dockerfile."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..buildsteps import BuildHistory, as_dockerfile, build_history
from ..usecases.image import open_image
from .exit import EXIT_OK
from .image_options import add_image_options, source_options


def add_arguments(p: argparse.ArgumentParser) -> None:
    """IMAGE, the image choice, --json and --dockerfile."""
    add_image_options(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object: image_id and steps")
    out.add_argument("--dockerfile", action="store_true", help="the history as a Dockerfile")


def run(args: argparse.Namespace) -> int:
    """Print the steps. Raises LayerScopeError (unreadable image)."""
    with open_image(args.file, args.image, args.platform, source_options(args)) as (archive, im):
        history = build_history(archive, im)
        if args.json:
            json.dump(as_json(history), sys.stdout, indent=2)
            print()
        elif args.dockerfile:
            sys.stdout.write(as_dockerfile(history, im.name))
        else:
            print_steps(history)
        for w in history.warnings:
            print(f"warning: {w}", file=sys.stderr)
    return EXIT_OK


def as_json(h: BuildHistory) -> dict[str, Any]:
    """The --json object: image_id, steps (instruction, command, created, empty, layer, identities)."""
    return {
        "image_id": h.image_id,
        "steps": [
            {
                "instruction": s.instruction.value if s.instruction is not None else None,
                "command": s.command,
                "created": s.created,
                "empty": s.empty,
                "layer": s.layer,
                "diff_id": s.diff_id,
                "chain_id": s.chain_id,
                "v1_id": s.v1_id,
                "v1_parent": s.v1_parent,
            }
            for s in h.steps
        ],
    }


def print_steps(h: BuildHistory) -> None:
    """One block per step: number, layer, instruction line; the identities of layer steps."""
    print(f"image id {h.image_id}")
    for s in h.steps:
        where = f"layer {s.layer}" if s.layer is not None and not s.empty else "empty"
        print(f"\n#{s.index} [{where}] {s.created or ''}".rstrip())
        print(f"  {s.command}")
        if s.diff_id:
            print(f"  diff_id  {s.diff_id}")
        if s.chain_id:
            print(f"  ChainID  {s.chain_id}")
        if s.v1_id:
            print(f"  v1 id    {s.v1_id}" + (f" (parent {s.v1_parent})" if s.v1_parent else ""))
