"""Cases: a plan applied to a seed gives a mutated archive (a file's bytes or a folder's members), which
is written into the case folder for the worker."""

from __future__ import annotations

import contextlib
import gzip
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

from tests.fuzz.bytemut import apply_byte_ops
from tests.fuzz.compression import compress, decompress
from tests.fuzz.hostile import hostile_members
from tests.fuzz.jsonmut import is_json, mutate_json
from tests.fuzz.members import Member, copy_info, read_dir, tar_bytes
from tests.fuzz.plans import Plan
from tests.fuzz.seeds import Seed
from tests.fuzz.tarfmt import header_offsets, octal


@dataclass
class Case:
    """A mutated archive, ready to be written: a file's bytes or a folder's members."""

    data: bytes | None
    members: list[Member] | None
    suffix: str


def apply_model_op(members: list[Member], op: list[Any]) -> None:
    """Apply one of a plan's ``ops`` to the members, in place."""
    kind = op[0]
    files = [m for m in members if m.info.isfile()]
    if not files:
        return
    if kind == "json":
        docs = [m for m in files if is_json(m)]
        if docs:
            _k, which, where, how, seed = op
            m = docs[which % len(docs)]
            other = docs[(which + 1) % len(docs)].data
            m.data = mutate_json(m.data, where, how, seed, other)
    elif kind == "layer":
        _k, which, inner, recompress, seed = op
        layers = []
        for m in files:
            if len(m.data) >= 32:
                d = decompress(m.data)
                if d is not None and len(d[0]) >= 512 and header_offsets(d[0]):
                    layers.append((m, d))
        if not layers:
            return
        m, (tar, comp) = layers[which % len(layers)]
        for iop in inner:
            if iop[0] == "inject":
                # before one of the members, or after the last one (before the end marker)
                offs = header_offsets(tar)
                if not offs:
                    at = 0
                elif iop[1] % 2:
                    last = offs[-1]
                    at = last + 512 + ((octal(tar[last + 124 : last + 136]) + 511) & ~511)
                else:
                    at = offs[iop[1] // 2 % len(offs)]
                tar = tar[:at] + hostile_members(iop[2], iop[3]) + tar[at:]
            else:
                tar = apply_byte_ops(tar, [iop])
        m.data = compress(tar, recompress, comp, seed)
    elif kind == "swap":
        a, b = files[op[1] % len(files)], files[op[2] % len(files)]
        a.data, b.data = b.data, a.data
    elif kind == "drop":
        members.remove(files[op[1] % len(files)])
    elif kind == "dup":
        m = files[op[1] % len(files)]
        dup = Member(tarfile.TarInfo(m.info.name), m.data[: len(m.data) // 2] if op[2] else m.data)
        members.append(dup)
    elif kind == "link":
        m = files[op[1] % len(files)]
        target = files[op[2] % len(files)].info.name
        how = op[3]
        ti = tarfile.TarInfo(m.info.name)
        if how == 0:
            ti.type, ti.linkname = tarfile.SYMTYPE, "../" * (m.info.name.count("/")) + target
        elif how == 1:
            ti.type, ti.linkname = tarfile.LNKTYPE, target
        elif how == 2:
            ti.type, ti.linkname = tarfile.SYMTYPE, m.info.name.rsplit("/", 1)[-1]  # itself
        elif how == 3:
            ti.type, ti.linkname = tarfile.SYMTYPE, "/outside/canary"
        elif how == 4:
            ti.type, ti.linkname = tarfile.SYMTYPE, "../../../outside/canary"
        else:
            ti.type = tarfile.DIRTYPE
        m.info, m.data = ti, b""


def apply_plan(plan: Plan, seeds: list[Seed]) -> Case:
    """The case a plan makes of its seed (the seed itself is not changed)."""
    seed = seeds[plan["seed"] % len(seeds)]
    members = [Member(copy_info(m.info), m.data) for m in seed.members]
    for op in plan["ops"]:
        apply_model_op(members, op)
    if plan.get("dir") or seed.is_dir:
        files = [m for m in members if m.info.isfile()]
        if plan["bytes"] and files:
            m = files[plan["bytes"][0][1] % len(files)]
            m.data = apply_byte_ops(m.data, [op for op in plan["bytes"] if op[0] != "hdr"])
        return Case(None, members, "")
    data = apply_byte_ops(tar_bytes(members), plan["bytes"])
    suffix = ".tar"
    if plan["outer"] == "gzip":
        data, suffix = gzip.compress(data, 1, mtime=0), ".tar.gz"
    elif plan["outer"] == "zstd":
        data, suffix = zstandard.ZstdCompressor(level=1).compress(data), ".tar.zst"
    if plan["outer"] != "none":
        data = apply_byte_ops(data, [op for op in plan["post"] if op[0] != "hdr"])
    return Case(data, None, suffix)


def write_case(case: Case, folder: Path) -> Path:
    """Write the case's archive into ``folder``; returns its path."""
    if case.data is not None:
        p = folder / ("archive" + case.suffix)
        p.write_bytes(case.data)
        return p
    root = folder / "archive"
    root.mkdir()
    assert case.members is not None
    for m in case.members:
        name = m.info.name.lstrip("/")
        if not name or ".." in name.split("/"):
            continue
        p = root / name
        with contextlib.suppress(OSError):
            p.parent.mkdir(parents=True, exist_ok=True)
            if m.info.isdir():
                p.mkdir(exist_ok=True)
            elif m.info.issym():
                os.symlink(m.info.linkname, p)
            elif m.info.isfile() and not p.exists():
                p.write_bytes(m.data)
    return root


def read_case(archive: Path) -> Case:
    """A case written by :func:`write_case` (a saved reproducer), read back."""
    if archive.is_dir():
        return Case(None, read_dir(archive), "")
    return Case(archive.read_bytes(), None, archive.name.removeprefix("archive"))
