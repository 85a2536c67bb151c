"""``layerscope ci``: dive's CI rules (efficiency, wasted bytes) plus LayerScope's waste figures."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from ..display import human_size
from ..errors import LayerScopeError
from ..rules import RULES, evaluate, load_rules
from ..usecases.image import open_image
from .exit import EXIT_FAILED, EXIT_OK
from .image_options import add_image_options, source_options

if TYPE_CHECKING:
    from ..dive_figures import DiveFigures
    from ..waste import LayerScopeFigures

SHOWN_INEFFICIENT = 20
"""dive's inefficient files listed in the text form."""
SHOWN_WASTED = 10
"""LayerScope's wasted paths listed in the text form."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """FILE, the image choice, the config file, one option per rule, --base-layers and --json."""
    add_image_options(p)
    p.add_argument(
        "--ci-config",
        metavar="FILE",
        help="a .dive-ci file (default: .dive-ci in the current folder, if any)",
    )
    p.add_argument(
        "--lowest-efficiency",
        metavar="RATIO",
        help="fail below this efficiency, 0..1 (default 0.9), or 'disabled'",
    )
    p.add_argument(
        "--highest-wasted-bytes",
        metavar="SIZE",
        help="fail above this many wasted bytes, e.g. 20MB (default: disabled)",
    )
    p.add_argument(
        "--highest-user-wasted-percent",
        metavar="RATIO",
        help="fail above this ratio of wasted to user-added bytes (default 0.1), or 'disabled'",
    )
    p.add_argument(
        "--base-layers",
        type=int,
        default=0,
        metavar="N",
        help="leave the first N layers out of LayerScope's waste",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    """Judge the image; exit 1 when a rule fails. Raises LayerScopeError."""
    options = {name: getattr(args, r.kebab.replace("-", "_")) for name, r in RULES.items()}
    rules = load_rules(args.ci_config, options)
    if args.base_layers < 0:
        raise LayerScopeError(f"--base-layers {args.base_layers}: not a number of layers (0 or more)")
    with open_image(args.file, args.image, args.platform, source_options(args)) as (archive, im):
        if args.base_layers > len(im.layers):
            raise LayerScopeError(
                f"--base-layers {args.base_layers}: the image has only {len(im.layers)} layers", archive.label
            )
        if args.json:
            from ..usecases.figures import ci_json_parts

            parts = ci_json_parts(archive, im, args.base_layers)
        else:
            from ..usecases.figures import ci_figures

            dive, ours = ci_figures(archive, im, args.base_layers)
    if args.json:
        results = evaluate(rules, parts.dive)
        passed = all(r["status"] != "fail" for r in results)
        # json.dumps of the whole document, its figure sections spliced in as the text they were kept
        # as (the C encoder; json.dump is not): the same bytes as one json.dumps(doc, ensure_ascii=False)
        sys.stdout.write(
            f'{{"image": {json.dumps(im.name, ensure_ascii=False)}, "dive": {parts.dive_json}, '
            f'"layerscope": {parts.ours_json}, "rules": {json.dumps(results, ensure_ascii=False)}, '
            f'"passed": {json.dumps(passed)}}}\n'
        )
    else:
        results = evaluate(rules, dive)
        passed = all(r["status"] != "fail" for r in results)
        out = sys.stdout
        out.write(f"{archive.label} ({im.describe()}): {len(im.layers)} layers\n\n")
        _print_dive(out, dive)
        _print_ours(out, ours)
        _print_results(out, results, passed)
    return EXIT_OK if passed else EXIT_FAILED


def _print_dive(out: TextIO, dive: DiveFigures) -> None:
    out.write("dive-compatible figures (as dive 0.13.1 computes them):\n")
    out.write(f"  efficiency: {dive.efficiency * 100:.4f} %\n")
    out.write(f"  wastedBytes: {dive.wasted_bytes} bytes ({human_size(dive.wasted_bytes)})\n")
    out.write(f"  userWastedPercent: {dive.user_wasted_percent * 100:.4f} %\n")
    if dive.inefficient_files:
        out.write("  Inefficient files:\n  Count  Wasted Space  File Path\n")
        for p, c, s in dive.inefficient_files[:SHOWN_INEFFICIENT]:
            out.write(f"  {c:>5}  {human_size(s):>12}  {p}\n")


def _print_ours(out: TextIO, ours: LayerScopeFigures) -> None:
    out.write(
        "\nLayerScope figures (bytes stored but hidden in the final filesystem; kept copies not counted):\n"
    )
    out.write(
        f"  stored: {human_size(ours.stored_bytes)}, visible: {human_size(ours.visible_bytes)}, "
        f"wasted: {human_size(ours.wasted_bytes)} ({ours.wasted_percent * 100:.2f} % of stored"
        f"{', base layers excluded: ' + str(ours.base_layers) if ours.base_layers else ''})\n"
    )
    for w in ours.wasted[:SHOWN_WASTED]:
        out.write(
            f"  {human_size(w.size):>10}  /{w.path}  (layers {', '.join(map(str, w.layers))}"
            f"{'; deleted' if w.deleted else ''})\n"
        )


def _print_results(out: TextIO, results: list[dict[str, Any]], passed: bool) -> None:
    out.write("\nResults:\n")
    for r in results:
        detail = f" ({r['detail']})" if r.get("detail") else ""
        out.write(f"  {r['status'].upper()}: {r['name']}{detail}\n")
    n_fail = sum(r["status"] == "fail" for r in results)
    n_pass = sum(r["status"] == "pass" for r in results)
    n_skip = sum(r["status"] == "skip" for r in results)
    out.write(
        f"Result:{'PASS' if passed else 'FAIL'} [Total:{len(results)}] [Passed:{n_pass}] [Failed:{n_fail}] "
        f"[Warn:0] [Skipped:{n_skip}]\n"
    )
