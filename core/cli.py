"""``layerscope`` subcommands: the engine on the command line, for people and for CI.

Nothing here imports Qt. Exit status: 0 success, 2 bad input (one line on stderr naming the file
and the problem), 1 an internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
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


# ---- ls and ci -----------------------------------------------------------------------------------
def _load_tree(args: argparse.Namespace, archive: Archive, upto: int | None = None):  # type: ignore[no-untyped-def]
    from .merge import merge

    im = archive.select(args.image, args.platform)
    idx = load_image(archive, im)
    return im, idx, merge(idx, upto=upto, archive=archive)


def _row(path: str, e: Any, layer: int, change: str) -> dict[str, Any]:
    """One `ls --json` row; ``e`` is None for a directory implied by its children."""
    if e is None:
        return {
            "path": "/" + path,
            "type": "dir",
            "size": 0,
            "mode": 0o755,
            "uid": 0,
            "gid": 0,
            "link": None,
            "layer": layer,
            "change": change,
        }
    link = "/" + e.link if e.type == "hardlink" and e.link else e.link
    return {
        "path": "/" + path,
        "type": e.type,
        "size": e.size,
        "mode": e.mode,
        "uid": e.uid,
        "gid": e.gid,
        "link": link,
        "layer": layer,
        "change": change,
    }


def listing(tree: Any, layer: int | None, view: str) -> list[dict[str, Any]]:
    """Rows of `ls --json`: the merged tree up to the tree's top layer, or one layer's own changes
    (removed entries only there)."""
    if view == "merged":
        return [
            _row(p, tree.nodes[p].entry, tree.nodes[p].layer, tree.change_of(p)) for p in sorted(tree.nodes)
        ]
    assert layer is not None
    return [_row(c.path, c.entry, layer, c.kind) for c in tree.layer_view(layer)]


def cmd_ls(args: argparse.Namespace) -> int:
    out: TextIO = sys.stdout
    with open_archive(args.file) as archive:
        im = archive.select(args.image, args.platform)
        n = len(im.layers)
        layer = n - 1 if args.layer is None else args.layer
        if not 0 <= layer < n:
            raise LayerScopeError(f"layer {layer} is out of range (0..{n - 1})", archive.path)
        _im, _idx, tree = _load_tree(args, archive, upto=layer)
        rows = listing(tree, layer, args.view)
        if args.json:
            # one row per line, through the C encoder: 200k rows in well under a second
            out.write("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n")
            return EXIT_OK
        marks = {"added": "+", "modified": "~", "removed": "-", "unmodified": " "}
        for r in rows:
            mode = mode_string(r["type"], r["mode"])
            arrow = " => " if r["type"] == "hardlink" else " -> "  # a hard link names the same file
            link = f"{arrow}{r['link']}" if r["link"] else ""
            out.write(
                f"{marks[r['change']]} {mode} {r['uid']:>5}:{r['gid']:<5} {r['size']:>12}  "
                f"#{r['layer']:<3} {r['path']}{link}\n"
            )
    return EXIT_OK


_TYPE_CHAR = {
    "dir": "d",
    "symlink": "l",
    "char": "c",
    "block": "b",
    "fifo": "p",
    "socket": "s",
}


def mode_string(kind: str, mode: int) -> str:
    """``-rwxr-xr-x`` style, with setuid/setgid/sticky."""
    chars = _TYPE_CHAR.get(kind, "-")
    for who in range(3):
        bits = (mode >> (6 - 3 * who)) & 7
        r = "r" if bits & 4 else "-"
        w = "w" if bits & 2 else "-"
        x = "x" if bits & 1 else "-"
        special = mode & (0o4000 >> who)
        if special:
            x = ("s" if who < 2 else "t") if bits & 1 else ("S" if who < 2 else "T")
        chars += r + w + x
    return chars


def cmd_ci(args: argparse.Namespace) -> int:
    from .analysis import dive_figures, layerscope_figures
    from .rules import evaluate, load_rules

    rules = load_rules(args)
    out: TextIO = sys.stdout
    from .merge import merge
    from .parallel import fork_call
    from .session import quiet_gc

    with open_archive(args.file) as archive, quiet_gc():
        im = archive.select(args.image, args.platform)
        idx = load_image(archive, im, fork=True)
        dive_result = fork_call(lambda: dive_figures(idx))  # on the other core, while we merge
        tree = merge(idx, archive=archive)
        ours = layerscope_figures(idx, tree, base_layers=args.base_layers)
        dive = dive_result()
    results = evaluate(rules, dive)
    passed = all(r["status"] != "fail" for r in results)
    if args.json:
        doc = {
            "image": im.name,
            "dive": dive.as_json(),
            "layerscope": ours.as_json(),
            "rules": results,
            "passed": passed,
        }
        out.write(json.dumps(doc, ensure_ascii=False))  # json.dumps uses the C encoder; json.dump does not
        out.write("\n")
        return 0 if passed else 1
    out.write(f"{archive.path} ({im.describe()}): {len(im.layers)} layers\n\n")
    out.write("dive-compatible figures (as dive 0.13.1 computes them):\n")
    out.write(f"  efficiency: {dive.efficiency * 100:.4f} %\n")
    out.write(f"  wastedBytes: {dive.wasted_bytes} bytes ({_human(dive.wasted_bytes)})\n")
    out.write(f"  userWastedPercent: {dive.user_wasted_percent * 100:.4f} %\n")
    if dive.inefficient_files:
        out.write("  Inefficient files:\n  Count  Wasted Space  File Path\n")
        for p, c, s in dive.inefficient_files[:20]:
            out.write(f"  {c:>5}  {_human(s):>12}  {p}\n")
    out.write(
        "\nLayerScope figures (bytes stored but hidden in the final filesystem; kept copies not counted):\n"
    )
    out.write(
        f"  stored: {_human(ours.stored_bytes)}, visible: {_human(ours.visible_bytes)}, "
        f"wasted: {_human(ours.wasted_bytes)} ({ours.wasted_percent * 100:.2f} % of stored"
        f"{', base layers excluded: ' + str(ours.base_layers) if ours.base_layers else ''})\n"
    )
    for w in ours.wasted[:10]:
        out.write(
            f"  {_human(w.size):>10}  /{w.path}  (layers {', '.join(map(str, w.layers))}"
            f"{'; deleted' if w.deleted else ''})\n"
        )
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
    return 0 if passed else 1


SUBCOMMANDS["ls"] = cmd_ls
SUBCOMMANDS["ci"] = cmd_ci


def _ls_ci_parsers(sub: Any) -> None:
    p = sub.add_parser("ls", help="the merged filesystem up to a layer, or one layer's own changes")
    _add_image_args(p)
    p.add_argument("--layer", type=int, help="layer index (default: the top layer)")
    p.add_argument("--view", choices=["merged", "layer"], default="merged")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser(
        "ci", help="dive-compatible CI rules (efficiency, wasted bytes) plus LayerScope's figures"
    )
    _add_image_args(p)
    p.add_argument("--ci-config", help="a .dive-ci file (default: .dive-ci in the current folder, if any)")
    p.add_argument("--lowest-efficiency")
    p.add_argument("--highest-wasted-bytes")
    p.add_argument("--highest-user-wasted-percent")
    p.add_argument(
        "--base-layers", type=int, default=0, help="leave the first N layers out of LayerScope's waste"
    )
    p.add_argument("--json", action="store_true")


_EXTRA_PARSERS.append(_ls_ci_parsers)


# ---- export and cat --------------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    from .export import export, export_as_stored, layer_items, merged_items

    dest = Path(args.to)
    with open_archive(args.file) as archive:
        im = archive.select(args.image, args.platform)
        n = len(im.layers)
        layer = args.layer if args.layer is not None else args.upto
        if layer is not None and not 0 <= layer < n:
            raise LayerScopeError(f"layer {layer} is out of range (0..{n - 1})", archive.path)
        idx = load_image(archive, im)
        if args.as_stored:
            if args.layer is None:
                raise LayerScopeError("--as-stored needs --layer N")
            res = export_as_stored(
                archive, idx[args.layer], dest, decompress=not args.compressed, force=args.force
            )
            print(f"layerscope: wrote layer {args.layer} as stored ({res.bytes} bytes) to {res.dest}")
            return EXIT_OK
        from .merge import merge

        tree = merge(idx, upto=n - 1 if layer is None else layer, archive=archive)
        if args.merged:
            items = merged_items(tree, args.path or "")
            deletes = None
        else:
            items, deletes = layer_items(tree, args.layer, args.path or "")
        res = export(
            archive, tree, items, dest, deletes=deletes, force=args.force, keep_special_bits=args.keep_setuid
        )
    print(f"layerscope: {res.summary()}")
    for s in res.skipped[:50]:
        print(f"  skipped {s}")
    if len(res.skipped) > 50:
        print(f"  ... and {len(res.skipped) - 50} more skipped")
    for w in res.warnings[:20]:
        print(f"  warning: {w}")
    return EXIT_OK


def resolve_path(tree: Any, path: str) -> str:
    """Follow symlinks (inside the image root) along ``path``; returns the merged tree path."""
    parts = [p for p in path.strip("/").split("/") if p]
    cur: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if cur:
                cur.pop()
            continue
        cand = "/".join([*cur, part])
        node = tree.nodes.get(cand)
        if node is not None and node.entry is not None and node.entry.type == "symlink":
            hops += 1
            if hops > 40:
                raise LayerScopeError(f"/{path.strip('/')}: too many levels of symbolic links")
            target = node.entry.link or ""
            if target.startswith("/"):
                cur = []
            parts = [p for p in target.split("/") if p] + parts
            continue
        cur.append(part)
    return "/".join(cur)


def cmd_cat(args: argparse.Namespace) -> int:
    from .layers import read_content
    from .merge import merge

    with open_archive(args.file) as archive:
        im = archive.select(args.image, args.platform)
        idx = load_image(archive, im)
        want = args.path.strip("/")
        if args.layer is not None:
            if not 0 <= args.layer < len(idx):
                raise LayerScopeError(f"layer {args.layer} is out of range (0..{len(idx) - 1})", archive.path)
            tree = merge(idx, upto=args.layer)
            own = tree.layer_entries(args.layer)
            e = own.get(want)
            if e is None:
                raise LayerScopeError(f"/{want} is not among layer {args.layer}'s own files", archive.path)
            layer = args.layer
            if e.type == "hardlink":
                node = tree.resolve(want)
                if node is None or node.entry is None:
                    raise LayerScopeError(f"/{want}: hardlink to a missing file", archive.path)
                e, layer = node.entry, node.layer
        else:
            tree = merge(idx)
            real = resolve_path(tree, want)
            node = tree.resolve(real)
            if node is None:
                raise LayerScopeError(f"/{want}: no such file in the image", archive.path)
            if node.entry is None or node.entry.type == "dir":
                raise LayerScopeError(f"/{want} is a directory", archive.path)
            e, layer = node.entry, node.layer
        if e.type != "file":
            raise LayerScopeError(f"/{want} is a {e.type}, not a file", archive.path)
        out = sys.stdout.buffer
        from .layers import iter_contents

        if e.extra and "sparse" in e.extra:
            out.write(read_content(archive, idx[layer].desc, e))
        else:
            for _e, chunks in iter_contents(archive, idx[layer].desc, [e]):
                for c in chunks:
                    out.write(c)
        out.flush()
    return EXIT_OK


SUBCOMMANDS["export"] = cmd_export
SUBCOMMANDS["cat"] = cmd_cat


def _export_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "export", help="write a layer's files, a folder, or the merged filesystem to a folder or tar"
    )
    _add_image_args(p)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--layer", type=int, help="export layer N's own files (whiteouts listed in WHITEOUTS.txt)"
    )
    what.add_argument("--merged", action="store_true", help="export the merged filesystem")
    p.add_argument("--upto", type=int, help="with --merged: merge layers 0..N only")
    p.add_argument("--as-stored", action="store_true", help="with --layer: the layer's tar byte for byte")
    p.add_argument("--compressed", action="store_true", help="with --as-stored: keep the blob's compression")
    p.add_argument("--path", help="only this file or folder (absolute path in the image)")
    p.add_argument("--to", required=True, help="destination folder, or a .tar / .tar.gz file")
    p.add_argument("--force", action="store_true", help="replace an existing destination")
    p.add_argument("--keep-setuid", action="store_true", help="keep setuid/setgid bits in a folder export")
    p = sub.add_parser("cat", help="write one file's bytes to standard output")
    _add_image_args(p)
    p.add_argument("path", help="absolute path in the image")
    p.add_argument("--layer", type=int, help="the file as layer N stored it (default: the merged top)")


_EXTRA_PARSERS.append(_export_parsers)


# ---- desktop integration ---------------------------------------------------------------------------
def cmd_install_desktop(args: argparse.Namespace) -> int:
    from .desktop import install

    try:
        return install(default_for_tar=args.default_for_tar)
    except OSError as exc:
        print(f"layerscope: install-desktop: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


def cmd_uninstall_desktop(args: argparse.Namespace) -> int:
    from .desktop import uninstall

    try:
        return uninstall()
    except OSError as exc:
        print(f"layerscope: uninstall-desktop: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


SUBCOMMANDS["install-desktop"] = cmd_install_desktop
SUBCOMMANDS["uninstall-desktop"] = cmd_uninstall_desktop


def _desktop_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "install-desktop",
        help="for the current user: menu entry, icons, image archive MIME types, open on double-click",
        description="Install LayerScope's desktop entry, MIME types and icons under $XDG_DATA_HOME "
        "(~/.local/share), refresh the desktop caches and make LayerScope the default for docker and "
        "OCI image archives. Run it again after moving the installation.",
    )
    p.add_argument(
        "--default-for-tar",
        action="store_true",
        help="also make LayerScope the default for all tars (.tar, .tar.gz, .tar.zst); "
        "uninstall-desktop gives them back",
    )
    sub.add_parser(
        "uninstall-desktop",
        help="remove what install-desktop wrote",
        description="Remove exactly what install-desktop wrote and refresh the desktop caches.",
    )


_EXTRA_PARSERS.append(_desktop_parsers)


if __name__ == "__main__":
    sys.exit(main())
