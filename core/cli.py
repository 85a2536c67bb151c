"""``layerscope`` subcommands: the engine on the command line, for people and for CI.

Nothing here imports Qt. Exit status: 0 success, 2 bad input (one line on stderr naming the file
and the problem), 1 an internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from . import blobs
from .archive import Archive, ImageRecord, open_archive
from .errors import LayerScopeError
from .layers import LayerIndex, load_image, verify_image

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2

SUBCOMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def _human(n: int) -> str:
    import humanize

    return str(humanize.naturalsize(n, binary=False))


def readable_command(created_by: str) -> str:
    """``/bin/sh -c #(nop)  CMD ["sh"]`` -> ``CMD ["sh"]``; ``/bin/sh -c apt ...`` -> ``RUN apt ...``."""
    s = created_by.strip()
    for prefix in ("/bin/sh -c #(nop) ", "|0 /bin/sh -c #(nop) "):
        if s.startswith(prefix):
            return s[len(prefix) :].strip()
    if s.startswith("/bin/sh -c "):
        return "RUN " + s[len("/bin/sh -c ") :].strip()
    if s.startswith("RUN /bin/sh -c "):
        return "RUN " + s[len("RUN /bin/sh -c ") :].strip()
    return s.removesuffix(" # buildkit").strip()


def _compression(c: str) -> str:
    return blobs.PLAIN if c == blobs.EMPTY else c


# ---- inspect ------------------------------------------------------------------------------------
def image_summary(archive: Archive, im: ImageRecord, idx: list[LayerIndex]) -> dict[str, Any]:
    """The JSON object `inspect --json` prints for one image."""
    layers = []
    for d, li in zip(im.layers, idx, strict=True):
        h = d.history
        layers.append(
            {
                "index": d.index,
                "digest": d.digest,
                "diff_id": d.diff_id,
                "media_type": d.media_type,
                "compression": _compression(d.compression),
                "size": d.size,
                "uncompressed_size": li.uncompressed_size,
                "entries": li.members,
                "created_by": h.text if h else "",
                "created": h.created if h else None,
                "empty": False,
            }
        )
    history = [
        {
            "created_by": s.text,
            "created": s.created,
            "comment": s.comment,
            "empty": s.empty_layer,
            "layer": s.layer,
        }
        for s in im.history
    ]
    return {
        "tags": im.tags,
        "platform": str(im.platform) if im.platform else None,
        "manifest_digest": im.manifest_digest,
        "config_digest": im.config_digest,
        "layers": layers,
        "history": history,
        "warnings": im.warnings + [w for li in idx for w in li.warnings],
    }


def cmd_inspect(args: argparse.Namespace) -> int:
    out: TextIO = sys.stdout
    with open_archive(args.file) as archive:
        if args.image is not None or args.platform is not None:
            images = [archive.select(args.image, args.platform)]
        else:
            images = archive.images
        summaries = []
        for im in images:
            idx = load_image(archive, im)
            s = image_summary(archive, im, idx)
            if args.verify:
                s["warnings"].extend(verify_image(archive, im))
            summaries.append(s)
        warnings = list(archive.warnings) + [w for s in summaries for w in s["warnings"]]
        if args.json:
            json.dump(
                {
                    "file": str(archive.path),
                    "format": archive.format,
                    "format_name": archive.format_name,
                    "compressed": archive.outer_compression,
                    "images": summaries,
                    "attestations": archive.attestations,
                    "warnings": warnings,
                },
                out,
                indent=2,
            )
            out.write("\n")
            return EXIT_OK
        out.write(f"{archive.path}: {archive.format_name}\n")
        for im, s in zip(images, summaries, strict=True):
            n = archive.images.index(im)
            out.write(
                f"\nImage #{n}: {', '.join(im.tags) or '(untagged)'}"
                f"{'  [' + str(im.platform) + ']' if im.platform else ''}\n"
            )
            out.write(f"  config {im.config_digest}\n")
            total = sum(ly["size"] for ly in s["layers"])
            out.write(f"  {len(s['layers'])} layers, {_human(total)} stored\n")
            out.write(f"  {'#':>3}  {'digest':<19}  {'comp':<5} {'size':>9} {'entries':>8}  created_by\n")
            for ly in s["layers"]:
                dg = (ly["digest"] or "?")[:19]
                cb = readable_command(ly["created_by"]).replace("\n", " ")
                if len(cb) > 90:
                    cb = cb[:89] + "…"
                out.write(
                    f"  {ly['index']:>3}  {dg:<19}  {ly['compression']:<5} {_human(ly['size']):>9} "
                    f"{ly['entries']:>8}  {cb}\n"
                )
            empties = [h for h in s["history"] if h["empty"]]
            if empties:
                out.write(
                    f"  {len(empties)} history step(s) without a layer: "
                    + "; ".join(readable_command(h["created_by"])[:40] for h in empties[:6])
                    + (" …" if len(empties) > 6 else "")
                    + "\n"
                )
        if archive.attestations:
            out.write(f"\n{len(archive.attestations)} attestation/artifact manifest(s) (not images)\n")
        if warnings:
            out.write(f"\nWarnings ({len(warnings)}):\n")
            for w in warnings:
                out.write(f"  - {w}\n")
    return EXIT_OK


SUBCOMMANDS["inspect"] = cmd_inspect


def _add_image_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "file", help="image archive (docker save, podman save, oci-archive, .tar.gz) or OCI layout folder"
    )
    p.add_argument("--image", help="image tag or position (0, 1, ...) when the archive holds several")
    p.add_argument("--platform", help="OS/ARCH[/VARIANT] of a multi-platform image")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="layerscope", description="Explore container image archives.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inspect", help="formats, images, tags, layers and history of an archive")
    _add_image_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--verify", action="store_true", help="check every blob digest and diff_id (reads all bytes)"
    )
    for extra in _EXTRA_PARSERS:
        extra(sub)
    return ap


_EXTRA_PARSERS: list[Callable[[Any], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; returns the exit status."""
    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        return SUBCOMMANDS[args.command](args)
    except LayerScopeError as exc:
        sys.stdout.flush()
        print(f"layerscope: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("layerscope: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        print(
            f"layerscope: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
