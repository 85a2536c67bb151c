"""``layerscope packages``: the installed packages, the layer that installed each, and what every
layer changed (dpkg, apk, rpm, Python, npm, Go binaries' modules), with the OS the image names."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..display import human_size
from ..packages import LayerPackages, Package, PackageHistory, package_history
from ..session import load
from ..usecases.image import check_layer, open_image
from .exit import EXIT_OK
from .image_options import add_image_options, source_options


def add_arguments(p: argparse.ArgumentParser) -> None:
    """IMAGE, the image choice, --layer and --json."""
    add_image_options(p)
    p.add_argument("--layer", type=int, metavar="N", help="the packages after layer N (default: the top)")
    p.add_argument("--json", action="store_true", help="one JSON object: os, packages, layers")


def run(args: argparse.Namespace) -> int:
    """Print the package table (or JSON). Raises LayerScopeError (unreadable image, bad --layer)."""
    with open_image(args.file, args.image, args.platform, source_options(args)) as (archive, im):
        if args.layer is not None:
            check_layer(archive, im, args.layer)
        loaded = load(archive, im, keep=False)  # kept in the cache after the output
        history = package_history(loaded, args.layer)
        if args.json:
            json.dump(as_json(history), sys.stdout, indent=2)
            print()
        else:
            print_table(history)
        for w in history.warnings:
            print(f"warning: {w}", file=sys.stderr)
        loaded.keep_in_cache()  # the next run reads the merged tree (the output is flushed at exit)
    return EXIT_OK


def _ref(p: Package) -> dict[str, Any]:
    return {"ecosystem": p.ecosystem.value, "name": p.name, "version": p.version}


def layer_json(lp: LayerPackages) -> dict[str, Any]:
    """One layer's changes as the JSON output spells them."""
    return {
        "layer": lp.layer,
        "added": [_ref(p) for p in lp.added],
        "removed": [_ref(p) for p in lp.removed],
        "changed": [
            {
                "ecosystem": u.after.ecosystem.value,
                "name": u.after.name,
                "from": u.before.version,
                "to": u.after.version,
            }
            for u in lp.changed
        ],
    }


def as_json(h: PackageHistory) -> dict[str, Any]:
    """The --json object: os, packages, layers (and unsupported databases, warnings)."""
    os_doc = (
        {"id": h.os.id, "version_id": h.os.version_id, "pretty_name": h.os.pretty_name}
        if h.os is not None
        else {"id": None, "version_id": None, "pretty_name": None}
    )
    return {
        "os": os_doc,
        "packages": [
            {
                "ecosystem": p.ecosystem.value,
                "name": p.name,
                "version": p.version,
                "layer": p.layer,
                "size": p.size,
            }
            for p in h.packages
        ],
        "layers": [layer_json(lp) for lp in h.layers],
        "unsupported": list(h.unsupported),
        "warnings": list(h.warnings),
    }


def print_table(h: PackageHistory) -> None:
    """The OS line, a table of packages, then one line per layer that changed packages."""
    print(f"OS: {h.os.describe() if h.os is not None else 'unknown'}")
    rows = [
        (
            p.ecosystem.value,
            p.name,
            p.version,
            str(p.layer),
            human_size(p.size) if p.size is not None else "-",
        )
        for p in h.packages
    ]
    head = ("ECOSYSTEM", "NAME", "VERSION", "LAYER", "SIZE")
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(5)]
    for r in [head, *rows]:
        print(
            "  ".join(
                v.ljust(w) if c < 4 else v.rjust(w) for c, (v, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
    print(f"{len(h.packages)} package(s)")
    for u in h.unsupported:
        print(f"unsupported: {u}")
    changed = [lp for lp in h.layers if not lp.empty]
    if changed:
        print("\nper layer:")
        for lp in changed:
            print(f"  layer {lp.layer}: {lp.summary()}")
