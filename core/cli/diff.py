"""``layerscope diff``: what changed between two images, or between two layers of one.

Exit status as diff(1): 0 identical, 1 different (metadata included), 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from typing import Any, TextIO

from ..compare.config import ConfigDiff
from ..compare.diff import ImageDiff, diff_sides, range_sides, steps_upto
from ..compare.files import FileDifference
from ..compare.layers import Layer
from ..compare.side import Side, side_of
from ..compare.textdiff import FileComparison, compare_file
from ..compare.verdict import signed_size
from ..display import exact_size, human_size, plural, readable_command, redact_secrets
from ..errors import LayerScopeError
from ..kinds import ChangeKind
from ..session import LoadedImage, load
from ..usecases.image import open_image
from .exit import EXIT_OK
from .image_options import add_cache_option, add_source_options, source_options

EXIT_DIFFERENT = 1
"""The two sides differ (as diff(1) exits)."""

MARKS = {ChangeKind.ADDED: "+", ChangeKind.REMOVED: "-", ChangeKind.MODIFIED: "~"}
"""The mark before each path of the text form."""

_RANGE = re.compile(r"^\s*(\d+)\s*\.\.\s*(\d+)\s*$")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """A and B (or one image and --layers), the image choice, --strict, --path, --file, --json."""
    p.add_argument(
        "a",
        metavar="A",
        help="the old image: an archive or OCI layout folder (any reference the other subcommands take)",
    )
    p.add_argument("b", metavar="B", nargs="?", help="the new image, compared with A (omit it with --layers)")
    p.add_argument(
        "--layers",
        metavar="I..J",
        help="compare one image with itself: merged up to layer I against merged up to layer J",
    )
    p.add_argument("--image", metavar="TAG|N", help="image tag or position in both archives (or in the one)")
    p.add_argument("--image-a", metavar="TAG|N", help="image tag or position in A (default: --image)")
    p.add_argument("--image-b", metavar="TAG|N", help="image tag or position in B (default: --image)")
    p.add_argument("--platform", metavar="OS/ARCH", help="OS/ARCH[/VARIANT] of multi-platform images")
    p.add_argument("--strict", action="store_true", help="count mtimes and history timestamps too")
    p.add_argument("--path", metavar="DIR", help="compare only this folder (the verdict is on its files)")
    p.add_argument(
        "--file", metavar="PATH", help="print a unified diff of this one file (binary: sizes and digests)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_cache_option(p)
    add_source_options(p)


def layer_range(text: str) -> tuple[int, int]:
    """``"2..5"`` -> ``(2, 5)``. Raises LayerScopeError for anything else."""
    m = _RANGE.match(text)
    if m is None:
        raise LayerScopeError(f"--layers {text!r}: expected I..J, two layer numbers such as 0..3")
    return int(m.group(1)), int(m.group(2))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
    except OSError:
        return False


def run(args: argparse.Namespace) -> int:
    """Compare and print, as text or JSON. Raises LayerScopeError (bad input: exit 2)."""
    if args.file is not None and args.path is not None:
        raise LayerScopeError("--file and --path: give one of them")
    image_a = args.image_a if args.image_a is not None else args.image
    image_b = args.image_b if args.image_b is not None else args.image
    with contextlib.ExitStack() as stack:
        history = None
        if args.layers is not None:
            if args.b is not None:
                raise LayerScopeError("--layers compares two layers of one image: give one image, not two")
            i, j = layer_range(args.layers)
            archive, im = stack.enter_context(
                open_image(args.a, image_a, args.platform, source_options(args, args.a))
            )
            loaded = load(archive, im)
            a, b = range_sides(loaded, i, j)
            history = (steps_upto(im, i), steps_upto(im, j))
        else:
            if args.b is None:
                raise LayerScopeError("give two images to compare (A B), or one with --layers I..J")
            la, lb = _load_two(stack, args, image_a, image_b)
            a, b = side_of(la, label="A"), side_of(lb, label="B")
        if args.file is not None:
            found = compare_file(a, b, args.file)
            if args.json:
                _print_json(sys.stdout, _file_json(found))
            else:
                _print_file(sys.stdout, found)
            return EXIT_OK if found.same else EXIT_DIFFERENT
        d = diff_sides(a, b, args.strict, args.path, history=history)
        if args.json:
            _print_json(sys.stdout, diff_json(d, args.a, args.b or args.a))
        else:
            _print_text(sys.stdout, d, args.a, args.b or args.a)
        return EXIT_OK if d.verdict.identical else EXIT_DIFFERENT


def _load_two(
    stack: contextlib.ExitStack, args: argparse.Namespace, image_a: str | None, image_b: str | None
) -> tuple[LoadedImage, LoadedImage]:
    """Both images loaded; two images of one archive share its layer indexes (read once)."""
    a, b, platform = args.a, args.b, args.platform
    archive_a, im_a = stack.enter_context(open_image(a, image_a, platform, source_options(args, a)))
    la = load(archive_a, im_a)
    if _same_file(a, b):
        return la, load(archive_a, archive_a.select(image_b, platform), cache=la.cache)
    archive_b, im_b = stack.enter_context(open_image(b, image_b, platform, source_options(args, b)))
    return la, load(archive_b, im_b)


# ---- JSON -------------------------------------------------------------------------------------------
def _file_row(d: FileDifference) -> dict[str, Any]:
    return {
        "path": "/" + d.path,
        "type": d.type,
        "size_a": d.size_a,
        "size_b": d.size_b,
        "what": list(d.what),
    }


def _side_json(side: Side, source: str) -> dict[str, Any]:
    return {
        "source": source,
        "image": side.image.name,
        "tags": list(side.image.tags),
        "layers": len(side.image.layers),
        "top_layer": side.top,
    }


def _config_json(c: ConfigDiff) -> dict[str, Any]:
    out: dict[str, Any] = {str(s.key): {"a": s.a, "b": s.b} for s in c.settings}
    if c.history:
        steps: dict[str, list[dict[str, Any]]] = {"added": [], "removed": [], "changed": []}
        for h in c.history:
            if h.change is ChangeKind.ADDED:
                steps["added"].append({"b": h.b, "created_by": _shown(h.text_b)})
            elif h.change is ChangeKind.REMOVED:
                steps["removed"].append({"a": h.a, "created_by": _shown(h.text_a)})
            else:
                steps["changed"].append(
                    {"a": h.a, "b": h.b, "created_by_a": _shown(h.text_a), "created_by_b": _shown(h.text_b)}
                )
        out["history"] = steps
    return out


def diff_json(d: ImageDiff, source_a: str, source_b: str) -> dict[str, Any]:
    """The object ``diff --json`` prints (``path`` of each file absolute; sizes in bytes, B minus A)."""
    layers = d.layers
    return {
        "verdict": d.verdict.text,
        "outcome": d.verdict.outcome,
        "a": _side_json(d.a, source_a),
        "b": _side_json(d.b, source_b),
        "strict": d.strict,
        "path": "/" + d.scope if d.scope else None,
        "shared_layers": [{"diff_id": s.diff_id, "a": s.a, "b": s.b, "size": s.size} for s in layers.shared],
        "base_layers": layers.base,
        "only_a_layers": [{"index": x.index, "diff_id": x.diff_id, "size": x.size} for x in layers.only_a],
        "only_b_layers": [{"index": x.index, "diff_id": x.diff_id, "size": x.size} for x in layers.only_b],
        "added": [_file_row(x) for x in d.files.added],
        "removed": [_file_row(x) for x in d.files.removed],
        "changed": [_file_row(x) for x in d.files.changed],
        "size_delta": d.files.size_delta,
        "folder_deltas": {"/" + f: n for f, n in sorted(d.files.folder_delta.items())},
        "config": _config_json(d.config),
    }


def _file_json(f: FileComparison) -> dict[str, Any]:
    return {
        "path": f.path,
        "same": f.same,
        "text": f.text,
        "too_large": f.too_large,
        "a": {"size": f.a.size, "digest": f.a.digest},
        "b": {"size": f.b.size, "digest": f.b.digest},
        "diff": list(f.lines),
    }


def _print_json(out: TextIO, obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


# ---- text -------------------------------------------------------------------------------------------
def _side_line(name: str, side: Side, source: str) -> str:
    up = "" if side.whole else f", up to layer {side.top}"
    return f"{name}: {source} {side.image.describe()} ({plural(len(side.image.layers), 'layer')}{up})"


def _value(v: object) -> str:
    return "(unset)" if v is None else json.dumps(v, ensure_ascii=False)


def _sizes(d: FileDifference) -> str:
    if d.change is ChangeKind.ADDED:
        return f"{d.size_b:,}"
    if d.change is ChangeKind.REMOVED or d.size_a == d.size_b:
        return f"{d.size_a:,}"
    return f"{d.size_a:,} -> {d.size_b:,}"


def _print_layers(out: TextIO, d: ImageDiff) -> None:
    ly = d.layers
    base = f"common base: {plural(ly.base, 'layer')}" + (f" ({human_size(ly.base_size)})" if ly.base else "")
    out.write(
        f"layers: {len(ly.shared)} shared, {len(ly.only_a)} only in A, {len(ly.only_b)} only in B; {base}\n"
    )
    if ly.same:
        return
    for s in ly.shared:
        out.write(f"  = A#{s.a:<3} B#{s.b:<3} {s.diff_id[:19]}  {human_size(s.size)}\n")
    for mark, side, layers in (("-", "A", ly.only_a), ("+", "B", ly.only_b)):
        for x in layers:
            out.write(f"  {mark} {side}#{x.index:<8} {_layer_text(x)}\n")


def _layer_text(x: Layer) -> str:
    return f"{(x.diff_id or '(no diff_id)')[:19]}  {human_size(x.size)}  {readable_command(x.created_by)}"


def _print_config(out: TextIO, c: ConfigDiff) -> None:
    if c.settings:
        out.write("config:\n")
        for s in c.settings:
            out.write(f"  {s.key}: {_value(s.a)} -> {_value(s.b)}\n")
    if c.history:
        out.write("history (steps numbered as `layerscope history` does; layers are above):\n")
        for h in c.history:
            if h.change is ChangeKind.ADDED:
                out.write(f"  + B step #{h.b}  {readable_command(h.text_b or '')}\n")
            elif h.change is ChangeKind.REMOVED:
                out.write(f"  - A step #{h.a}  {readable_command(h.text_a or '')}\n")
            else:
                out.write(f"  ~ A step #{h.a}  {readable_command(h.text_a or '')}\n")
                out.write(f"    B step #{h.b}  {readable_command(h.text_b or '')}\n")


def _print_text(out: TextIO, d: ImageDiff, source_a: str, source_b: str) -> None:
    out.write(_side_line("A", d.a, source_a) + "\n")
    out.write(_side_line("B", d.b, source_b) + "\n")
    _print_layers(out, d)
    _print_config(out, d.config)
    diffs = d.files.differences()
    if diffs:
        scope = f" under /{d.scope}" if d.scope else ""
        out.write(f"files{scope}:\n")
        for f in diffs:
            what = f"  ({', '.join(f.what)})" if f.what else ""
            out.write(f"  {MARKS[f.change]} {f.type:<8} {_sizes(f):>22}  /{f.path}{what}\n")
    big = d.files.biggest_folders()
    if big:
        out.write("size by folder (B minus A):\n")
        for folder, n in big:
            out.write(f"  {signed_size(n):>12}  /{folder}\n")
    out.write(d.verdict.text + "\n")


def _print_file(out: TextIO, f: FileComparison) -> None:
    if f.same:
        return
    if f.text:
        for line in f.lines:
            out.write(line + "\n")
        return
    kind = "too large for a text diff" if f.too_large else "binary"
    out.write(f"Files {f.path} differ ({kind})\n")
    for name, v in (("A", f.a), ("B", f.b)):
        if v.size is None:
            out.write(f"  {name}: (no such file)\n")
        else:
            out.write(f"  {name}: {exact_size(v.size)}  {v.digest}\n")


def _shown(text: str | None) -> str | None:
    """A step's command as JSON gives it: with its secret values redacted (never in full)."""
    return redact_secrets(text) if text is not None else None
