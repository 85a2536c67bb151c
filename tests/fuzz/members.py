"""An archive as a list of members (tar header + data), to be mutated, and back to tar bytes."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Member:
    """One member of an archive being mutated: a tar header (TarInfo) and its data."""

    info: tarfile.TarInfo
    data: bytes = b""


def read_tar(path: Path) -> list[Member]:
    """The members of a tar file, with the data of the regular files."""
    out = []
    with tarfile.open(path) as tf:
        for ti in tf.getmembers():
            data = b""
            if ti.isfile():
                f = tf.extractfile(ti)
                assert f is not None
                data = f.read()
            out.append(Member(ti, data))
    return out


def read_dir(path: Path) -> list[Member]:
    """The folders and files under ``path`` as members (names relative to ``path``)."""
    out = []
    for p in sorted(path.rglob("*")):
        ti = tarfile.TarInfo(p.relative_to(path).as_posix())
        if p.is_dir():
            ti.type = tarfile.DIRTYPE
            out.append(Member(ti))
        else:
            data = p.read_bytes()
            ti.size = len(data)
            out.append(Member(ti, data))
    return out


def copy_info(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    """A fresh TarInfo with the header fields of ``ti`` (so a mutation never changes a seed)."""
    new = tarfile.TarInfo(ti.name)
    for attr in ("size", "mode", "uid", "gid", "mtime", "type", "linkname", "uname", "gname"):
        setattr(new, attr, getattr(ti, attr))
    new.devmajor, new.devminor = ti.devmajor, ti.devminor
    new.pax_headers = dict(ti.pax_headers)
    return new


def tar_bytes(members: list[Member]) -> bytes:
    """The members written as a PAX tar stream."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for m in members:
            ti = m.info
            if ti.isfile() or ti.type not in tarfile.SUPPORTED_TYPES:
                ti.size = len(m.data)
                tf.addfile(ti, io.BytesIO(m.data))
            else:
                ti.size = 0
                tf.addfile(ti)
    return out.getvalue()
