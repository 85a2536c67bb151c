"""Read shared/corpus/real/EXPECTED.md and trees/*.tsv: the independent oracles for real archives."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ExpLayer:
    compression: str  # none | gzip | zstd
    tar_bytes: int
    entries: int
    created_by: str


@dataclass
class ExpImage:
    tags: list[str]
    layers: list[ExpLayer] = field(default_factory=list)
    tree: str | None = None


def parse_expected(path: Path) -> dict[str, list[ExpImage]]:
    out: dict[str, list[ExpImage]] = {}
    cur: list[ExpImage] | None = None
    for line in path.read_text().splitlines():
        m = re.match(r"^## (\S+\.tar)$", line)
        if m:
            cur = out.setdefault(m.group(1), [])
            continue
        if cur is None:
            continue
        m = re.match(r"^- image #(\d+) (.*?): (\d+) layers", line)
        if m:
            tags = [] if m.group(2) == "(untagged)" else m.group(2).split(", ")
            t = re.search(r"`(trees/[^`]+)`", line)
            cur.append(ExpImage(tags, tree=t.group(1) if t else None))
            continue
        m = re.match(r"^\| (\d+) \| ([^|]*) \| ([\d,]+) \| ([\d,]+) \| (.*?) \|", line)
        if m and cur:
            comp = m.group(2).split()[-1] if m.group(2).strip() else "none"
            cur[-1].layers.append(
                ExpLayer(comp, int(m.group(3).replace(",", "")), int(m.group(4).replace(",", "")), m.group(5))
            )
    return out


@dataclass(frozen=True)
class TreeRow:
    path: str
    type: str  # d f l p c b
    mode: int
    uid: int
    gid: int
    size: int | None
    digest_or_target: str
    xattrs: str


def read_tree(path: Path) -> dict[str, TreeRow]:
    rows: dict[str, TreeRow] = {}
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line:
            continue
        p, t, mode, ug, _nlink, size, extra, xattrs = line.split("\t")
        uid, gid = ug.split(":")
        rows[p] = TreeRow(p, t, int(mode, 8), int(uid), int(gid), int(size) if size else None, extra, xattrs)
    return rows
