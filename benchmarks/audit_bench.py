#!/usr/bin/env python3
"""The audit against one pass of GNU tools over the image's text files.

usage: python benchmarks/audit_bench.py [--image /work/bench-corpus/large/big.docker.tar] [--json OUT]
                                       [--work DIR]

The image is loaded once (not timed: the audit runs after an image is shown). Then, each timed:

* ``audit``: ``core.audit.audit`` as ``layerscope audit`` runs it (second core: half the layers in a
  forked child), one core, and ``--all-files`` (package trees scanned by content too);
* the baseline, one pass over the text files: each layer unpacked by GNU tar into a temporary
  folder (not timed), then ``xargs -0 grep -a -l -F -f KEYWORDS`` over the layer's text candidates
  (GNU grep's multi-string search, with the audit's keywords), from a warm page cache. The text
  candidates are every regular file up to the audit's size limit without a binary suffix, in every
  layer: what ``--all-files`` reads. A second baseline, ``xargs cat``, is the read alone.
  (``tar -xOf - -T LIST`` was the first idea: GNU tar matches each member against the whole list,
  quadratic with 60,000 names.)

Ratios are audit / baseline; the plain docker-archive (uncompressed layers) only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from layerscope.core.audit import audit
from layerscope.core.audit.content import candidates
from layerscope.core.audit.patterns import PATTERNS
from layerscope.core.session import load
from layerscope.core.usecases.image import open_image

KEYWORDS = [
    b"PRIVATE KEY", b"PuTTY-User-Key-File-", b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"AIza", b"AccountKey=",
    b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_", b"github_pat_", b"glpat-", b"gldt-", b"glrt-", b"glft-",
    b"glptt-", b"glsoat-", b"xoxa-", b"xoxb-", b"xoxe-", b"xoxo-", b"xoxp-", b"xoxr-", b"xoxs-",
    b"hooks.slack.com/", b"npm_", b"pypi-AgE", b"eyJ",
]  # fmt: skip
"""The literals of core/audit/patterns.py's cheap tests, spelled out for grep -F."""


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def layer_spans(archive: Path) -> dict[str, tuple[int, int]]:
    """Member name -> (offset of its data, size) for each layer tar of a docker-archive."""
    with tarfile.open(archive) as t:
        return {m.name: (m.offset_data, m.size) for m in t.getmembers() if m.isfile()}


def extract(archive: Path, spans: dict[str, tuple[int, int]], blob: str, dest: Path) -> None:
    """One layer's files, unpacked by GNU tar into ``dest`` (not timed)."""
    off, size = spans[blob]
    dest.mkdir(parents=True)
    cmd = (
        f"dd if={archive} bs=1M iflag=skip_bytes,count_bytes skip={off} count={size} status=none"
        f" | tar -x --no-same-owner -C {dest} -f -"
    )
    subprocess.run(["bash", "-o", "pipefail", "-c", cmd], check=True)


def baseline(roots: list[tuple[Path, Path]], keywords: Path, sink: str) -> float:
    """Seconds for one pass over every layer's text files: GNU grep -F of the keywords, or cat."""
    total = 0.0
    for root, listing in roots:
        tool = f"grep -a -l -F -f {keywords} --" if sink == "grep" else "cat --"
        cmd = f"LC_ALL=C xargs -0 -a {listing} {tool} > /dev/null"
        subprocess.run(["bash", "-c", "sync"], check=False)
        t0 = time.perf_counter()
        subprocess.run(["bash", "-c", cmd], cwd=root, check=False)
        total += time.perf_counter() - t0
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", default="/work/bench-corpus/large/big.docker.tar")
    ap.add_argument("--json", metavar="OUT", help="also write the figures here")
    ap.add_argument(
        "--work", metavar="DIR", help="where the layers are unpacked for the baseline (default: TMPDIR)"
    )
    args = ap.parse_args()
    image = Path(args.image)
    assert len(KEYWORDS) >= len(PATTERNS)
    with open_image(image) as (archive, im):
        t_load, loaded = timed(lambda: load(archive, im))
        print(f"{image.name}: {len(loaded.layers)} layers, loaded in {t_load:.1f} s (not counted)")
        deep_lists = []
        text_bytes = 0
        for li in loaded.layers:
            cands = candidates(li, deep=True)
            text_bytes += sum(e.size for e, _ in cands)
            deep_lists.append((li.desc.blob_name or "", [e.raw_name or e.path for e, _ in cands]))
        n_text = sum(len(n) for _, n in deep_lists)
        print(f"text candidates in all layers: {n_text} files, {text_bytes / 1e6:.0f} MB")
        runs = {}
        for label, kw in (
            ("audit (CLI: two cores)", {"second_core": True}),
            ("audit (one core)", {}),
            ("audit --all-files (two cores)", {"second_core": True, "deep": True}),
            ("audit --all-files (one core)", {"deep": True}),
        ):
            t, rep = timed(lambda kw=kw: audit(loaded, **kw))  # type: ignore[misc]
            runs[label] = t
            print(f"{label:<32} {t:6.2f} s  {len(rep.findings)} findings, {rep.files_read} files, "
                  f"{rep.bytes_read / 1e6:.0f} MB read, {rep.fixtures} fixtures")  # fmt: skip
    spans = layer_spans(image)
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        keywords = Path(tmp, "keywords")
        keywords.write_bytes(b"\n".join(KEYWORDS) + b"\n")
        roots = []
        for n, (blob, names) in enumerate(deep_lists):
            root = Path(tmp, f"layer{n}")
            extract(image, spans, blob, root)
            listing = Path(tmp, f"list{n}")
            listing.write_bytes(b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in names))
            roots.append((root, listing))
        for _ in range(2):  # the first pass warms the page cache for both
            runs["baseline: grep -F keywords"] = baseline(roots, keywords, "grep")
            runs["baseline: cat (read only)"] = baseline(roots, keywords, "cat")
    for label in ("baseline: grep -F keywords", "baseline: cat (read only)"):
        print(f"{label:<32} {runs[label]:6.2f} s")
    grep = runs["baseline: grep -F keywords"]
    print("\nratio audit / (grep -F over the extracted text files):")
    for label, t in runs.items():
        if label.startswith("audit"):
            print(f"  {label:<32} {t / grep:5.2f}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"seconds": runs, "text_files": n_text, "text_bytes": text_bytes})
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
