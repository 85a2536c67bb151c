"""Build small, real-looking container image archives from a declarative description of layers.

A test describes layers as lists of entries (File, Dir, Symlink, ...) and calls `build` to get the
archive in one of the layouts real tools write (see ../shared/docs/FORMATS.md sections 1-3):

    img = Image([Layer([Dir("etc"), File("etc/hosts", b"127.0.0.1 localhost\\n")], created_by="ADD")])
    path = build(img, tmp_path / "img.tar", "docker25", compression="gzip", outer="zstd")

Everything is deterministic (fixed mtimes, gzip mtime 0), so two builds are byte-identical. Layer tars
are written with PAX headers (long and non-ASCII names, SCHILY.xattr.*), end with exactly two zero
blocks like Go's archive/tar (no record padding), and hold only the entries listed, in the order given.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import zstandard

__all__ = [
    "COMPRESSIONS",
    "LAYOUTS",
    "OUTERS",
    "Device",
    "Dir",
    "Entry",
    "Fifo",
    "File",
    "Hardlink",
    "Image",
    "Layer",
    "Opaque",
    "RawMember",
    "Symlink",
    "Whiteout",
    "blob_bytes",
    "build",
    "layer_tar_bytes",
]

LAYOUTS = ("docker-legacy", "docker25", "podman", "oci-archive", "oci-dir")
COMPRESSIONS = ("none", "gzip", "zstd")
OUTERS = ("none", "gzip", "zstd")

MTIME = 1700000000  # 2023-11-14T22:13:20Z, the default mtime of every entry
BLOCK = 512

OCI_LAYOUT = b'{"imageLayoutVersion": "1.0.0"}'
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
_OUTER_SUFFIX = {"gzip": ".gz", "zstd": ".zst"}


# --- layer entries -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class File:
    path: str
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = MTIME
    xattrs: dict[str, bytes] | None = None
    uname: str = ""
    gname: str = ""


@dataclass(frozen=True, slots=True)
class Dir:
    path: str
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    mtime: int = MTIME
    xattrs: dict[str, bytes] | None = None
    uname: str = ""
    gname: str = ""


@dataclass(frozen=True, slots=True)
class Symlink:
    """Tar type 2; `target` is written verbatim (relative, absolute or dangling)."""

    path: str
    target: str
    mode: int = 0o777
    uid: int = 0
    gid: int = 0
    mtime: int = MTIME
    xattrs: dict[str, bytes] | None = None
    uname: str = ""
    gname: str = ""


@dataclass(frozen=True, slots=True)
class Hardlink:
    """Tar type 1; `target` is another path of the image (this layer or an earlier one)."""

    path: str
    target: str
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = MTIME
    xattrs: dict[str, bytes] | None = None
    uname: str = ""
    gname: str = ""


@dataclass(frozen=True, slots=True)
class Whiteout:
    """Deletes `path` from the lower layers: an empty regular file `<dir>/.wh.<name>`."""

    path: str
    mode: int = 0o644
    mtime: int = MTIME


@dataclass(frozen=True, slots=True)
class Opaque:
    """Hides every lower child of `dir`: an empty regular file `<dir>/.wh..wh..opq`."""

    dir: str
    mode: int = 0o644
    mtime: int = MTIME


@dataclass(frozen=True, slots=True)
class Device:
    path: str
    kind: str = "char"  # "char" or "block"
    major: int = 1
    minor: int = 3
    mode: int = 0o666
    uid: int = 0
    gid: int = 0
    mtime: int = MTIME
    xattrs: dict[str, bytes] | None = None
    uname: str = ""
    gname: str = ""


@dataclass(frozen=True, slots=True)
class Fifo:
    path: str
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = MTIME
    xattrs: dict[str, bytes] | None = None
    uname: str = ""
    gname: str = ""


class RawMember:
    """A tar member written exactly as given, for hostile tests: RawMember(name="../x", type=b"0", data=b"").

    Keyword arguments are TarInfo attributes (name, type, mode, linkname, size, pax_headers, ...); the
    name is not normalised and the layer's name_prefix is not applied. `size` defaults to len(data),
    `mtime` to MTIME. tarfile itself still appends "/" to directory names.
    """

    __slots__ = ("data", "fields")

    def __init__(self, data: bytes = b"", **tarinfo: Any) -> None:
        if "name" not in tarinfo:
            raise TypeError("RawMember needs name=")
        self.data = data
        self.fields: dict[str, Any] = tarinfo

    def tarinfo(self) -> tarfile.TarInfo:
        info = tarfile.TarInfo(self.fields["name"])
        info.size = len(self.data)
        info.mtime = MTIME
        for key, value in self.fields.items():
            setattr(info, key, value)
        return info

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawMember) and (self.data, self.fields) == (other.data, other.fields)

    def __hash__(self) -> int:
        return hash((self.data, tuple(sorted(self.fields))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        return f"RawMember({args}, data={self.data!r})"


Entry = File | Dir | Symlink | Hardlink | Whiteout | Opaque | Device | Fifo | RawMember


@dataclass(frozen=True, slots=True)
class Layer:
    """Entries appear in the tar in the order given; parent directories are never added implicitly.

    name_prefix: written before every (normalised) member name and hardlink target, e.g. "./" as
    `docker import` does. eof=False drops the two end-of-archive blocks and the padding of the last
    member, like umoci 0.4.7 `insert`.
    """

    entries: list[Entry]
    created_by: str = ""
    comment: str = ""
    name_prefix: str = ""
    eof: bool = True


@dataclass(frozen=True, slots=True)
class Image:
    """One image. empty_steps: (position in the final history, created_by) of `empty_layer: true` steps.

    config_extra is merged into the config's "config" object (Cmd, Env, Labels, ...); top_extra into the
    top level of the config JSON (e.g. unknown fields).
    """

    layers: list[Layer]
    tags: list[str] = field(default_factory=lambda: ["example.com/test/img:1"])
    empty_steps: list[tuple[int, str]] = field(default_factory=list)
    architecture: str = "amd64"
    os: str = "linux"
    variant: str | None = None
    config_extra: dict[str, Any] = field(default_factory=dict)
    top_extra: dict[str, Any] = field(default_factory=dict)


# --- tar writing -------------------------------------------------------------------------------------


def _norm(path: str) -> str:
    return path.strip("/")


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def _with_prefix(prefix: str, path: str) -> str:
    name = prefix + _norm(path)
    return name or "."


def _xattr_headers(xattrs: dict[str, bytes] | None) -> dict[str, str]:
    # tarfile wants str values; surrogateescape round-trips arbitrary bytes (hdrcharset=BINARY)
    return {f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape") for k, v in (xattrs or {}).items()}


def _entry_member(entry: Entry, prefix: str) -> tuple[tarfile.TarInfo, bytes]:
    if isinstance(entry, RawMember):
        return entry.tarinfo(), entry.data
    if isinstance(entry, Whiteout | Opaque):
        if isinstance(entry, Whiteout):
            parent, _, base = _norm(entry.path).rpartition("/")
            marker = _join(parent, ".wh." + base)
        else:
            marker = _join(_norm(entry.dir), ".wh..wh..opq")
        info = tarfile.TarInfo(prefix + marker)
        info.mode, info.mtime = entry.mode, entry.mtime
        return info, b""

    info = tarfile.TarInfo(_with_prefix(prefix, entry.path))
    data = b""
    if isinstance(entry, File):
        data = entry.data
        info.size = len(data)
    elif isinstance(entry, Dir):
        info.type = tarfile.DIRTYPE
    elif isinstance(entry, Symlink):
        info.type, info.linkname = tarfile.SYMTYPE, entry.target
    elif isinstance(entry, Hardlink):
        info.type, info.linkname = tarfile.LNKTYPE, _with_prefix(prefix, entry.target)
    elif isinstance(entry, Device):
        if entry.kind not in ("char", "block"):
            raise ValueError(f"Device kind must be 'char' or 'block', not {entry.kind!r}")
        info.type = tarfile.CHRTYPE if entry.kind == "char" else tarfile.BLKTYPE
        info.devmajor, info.devminor = entry.major, entry.minor
    elif isinstance(entry, Fifo):
        info.type = tarfile.FIFOTYPE
    else:
        raise TypeError(f"not a layer entry: {entry!r}")
    info.mode, info.uid, info.gid, info.mtime = entry.mode, entry.uid, entry.gid, entry.mtime
    info.uname, info.gname = entry.uname, entry.gname
    info.pax_headers = _xattr_headers(entry.xattrs)
    return info, data


class _TarStream:
    """Tar bytes the way Go's archive/tar writes them: PAX where needed, 2 zero blocks, no record padding."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self._last_pad = 0

    def add(self, info: tarfile.TarInfo, data: bytes = b"") -> None:
        self.buf += info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        self.buf += data
        self._last_pad = -len(data) % BLOCK
        self.buf += bytes(self._last_pad)

    def finish(self, eof: bool = True) -> bytes:
        if eof:
            self.buf += bytes(2 * BLOCK)
        elif self._last_pad:
            del self.buf[-self._last_pad :]
        return bytes(self.buf)


def layer_tar_bytes(layer: Layer) -> bytes:
    """The uncompressed layer tar (its sha256 is the diff_id)."""
    out = _TarStream()
    for entry in layer.entries:
        out.add(*_entry_member(entry, layer.name_prefix))
    return out.finish(layer.eof)


def blob_bytes(data: bytes, compression: str) -> bytes:
    """`data` compressed as a registry blob would be: "none", "gzip" (mtime 0) or "zstd"."""
    if compression == "none":
        return data
    if compression == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=3, write_checksum=True).compress(data)
    raise ValueError(f"compression must be one of {COMPRESSIONS}, not {compression!r}")


# --- images as blobs ---------------------------------------------------------------------------------


def _json(obj: Any) -> bytes:
    # Go's encoding/json: compact, UTF-8
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _timestamp(step: int) -> str:
    return datetime.fromtimestamp(MTIME + step, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class _Blob:
    data: bytes
    media_type: str
    hex: str

    @classmethod
    def of(cls, data: bytes, media_type: str) -> _Blob:
        return cls(data, media_type, _sha(data))

    @property
    def digest(self) -> str:
        return "sha256:" + self.hex

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)}


@dataclass(frozen=True, slots=True)
class _Planned:
    image: Image
    layers: list[_Blob]
    diff_ids: list[str]  # "sha256:<hex>" of the uncompressed tars
    config: _Blob
    config_json: dict[str, Any]
    manifest: _Blob  # the OCI image manifest


def _history(image: Image) -> list[dict[str, Any]]:
    steps: list[tuple[str, str, bool]] = [(la.created_by, la.comment, False) for la in image.layers]
    for pos, created_by in sorted(image.empty_steps, key=lambda s: s[0]):
        steps.insert(pos, (created_by, "", True))
    history = []
    for i, (created_by, comment, empty) in enumerate(steps):
        entry: dict[str, Any] = {"created": _timestamp(i)}
        if created_by:
            entry["created_by"] = created_by
        if comment:
            entry["comment"] = comment
        if empty:
            entry["empty_layer"] = True
        history.append(entry)
    return history


def _plan(image: Image, compression: str) -> _Planned:
    tars = [layer_tar_bytes(la) for la in image.layers]
    diff_ids = ["sha256:" + _sha(t) for t in tars]
    layers = [_Blob.of(blob_bytes(t, compression), MT_LAYER[compression]) for t in tars]
    history = _history(image)
    config: dict[str, Any] = {"architecture": image.architecture, "os": image.os}
    if image.variant:
        config["variant"] = image.variant
    config["created"] = history[-1]["created"] if history else _timestamp(0)
    config["config"] = {"Cmd": ["/bin/sh"], **image.config_extra}
    config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    config["history"] = history
    config.update(image.top_extra)
    config_blob = _Blob.of(_json(config), MT_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": config_blob.descriptor(),
        "layers": [b.descriptor() for b in layers],
    }
    return _Planned(image, layers, diff_ids, config_blob, config, _Blob.of(_json(manifest), MT_MANIFEST))


def _split_tag(ref: str) -> tuple[str, str]:
    """'example.com:5000/a/b:1' -> ('example.com:5000/a/b', '1'); no tag -> 'latest'."""
    repo, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, "latest"
    return repo, tag


def _full_ref(ref: str) -> str:
    """The containerd spelling: docker.io/library/ added where the reference has no registry."""
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return ref
    return f"docker.io/{ref}" if rest else f"docker.io/library/{ref}"


def _v1_ids(plan: _Planned) -> list[str]:
    """Legacy layer ids: a chain hash over parent and diff_id; the top one also covers the config."""
    ids: list[str] = []
    parent = ""
    for i, diff_id in enumerate(plan.diff_ids):
        top = i == len(plan.diff_ids) - 1
        seed = {"parent": parent, "diff_id": diff_id, "config": plan.config.digest if top else ""}
        parent = _sha(_json(seed))
        ids.append(parent)
    return ids


def _v1_json(plan: _Planned, ids: list[str], i: int, full: bool) -> bytes:
    obj: dict[str, Any] = {"id": ids[i]}
    if i:
        obj["parent"] = ids[i - 1]
    if full:
        cfg = plan.config_json
        obj["created"] = cfg["created"] if i == len(ids) - 1 else "1970-01-01T00:00:00Z"
        obj["container_config"] = {"Cmd": None, "Env": None, "Image": "", "Labels": None}
        if i == len(ids) - 1:
            obj["config"] = cfg["config"]
            obj["architecture"] = cfg["architecture"]
        obj["os"] = cfg["os"]
    return _json(obj)


def _repositories(plans: list[_Planned], top_id: dict[int, str]) -> bytes:
    repos: dict[str, dict[str, str]] = {}
    for n, plan in enumerate(plans):
        if n not in top_id:
            continue
        for ref in plan.image.tags:
            repo, tag = _split_tag(ref)
            repos.setdefault(repo, {})[tag] = top_id[n]
    return _json(repos)


# --- layouts -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Style:
    """How one producer writes the members of its outer tar."""

    uname: str = ""
    file_mode: int = 0o644
    dir_mode: int = 0o755
    link_mode: int = 0o777
    mtime: int = MTIME


class _OuterTar:
    def __init__(self, style: _Style) -> None:
        self.style = style
        self.stream = _TarStream()
        self.names: list[str] = []

    def _info(self, name: str, kind: bytes, mode: int, mtime: int | None) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode = kind, mode
        info.mtime = self.style.mtime if mtime is None else mtime
        info.uname = info.gname = self.style.uname
        self.names.append(name)
        return info

    def file(self, name: str, data: bytes, mtime: int | None = None) -> None:
        info = self._info(name, tarfile.REGTYPE, self.style.file_mode, mtime)
        info.size = len(data)
        self.stream.add(info, data)

    def dir(self, name: str) -> None:
        self.stream.add(self._info(name, tarfile.DIRTYPE, self.style.dir_mode, None))

    def symlink(self, name: str, target: str) -> None:
        info = self._info(name, tarfile.SYMTYPE, self.style.link_mode, None)
        info.linkname = target
        self.stream.add(info)

    def finish(self) -> bytes:
        return self.stream.finish()


def _unique_blobs(plans: list[_Planned]) -> list[_Blob]:
    blobs: dict[str, _Blob] = {}
    for plan in plans:
        for blob in [*plan.layers, plan.config, plan.manifest]:
            blobs.setdefault(blob.hex, blob)
    return [blobs[h] for h in sorted(blobs)]


def _oci_index(plans: list[_Planned]) -> bytes:
    manifests = []
    for plan in plans:
        desc = plan.manifest.descriptor()
        if plan.image.tags:
            desc["annotations"] = {"org.opencontainers.image.ref.name": _split_tag(plan.image.tags[0])[1]}
        manifests.append(desc)
    return _json({"schemaVersion": 2, "manifests": manifests})


def _oci_archive(plans: list[_Planned]) -> bytes:
    out = _OuterTar(_Style(uname="root"))
    out.dir("blobs/")
    out.dir("blobs/sha256/")
    for blob in _unique_blobs(plans):
        out.file(f"blobs/sha256/{blob.hex}", blob.data)
    out.file("index.json", _oci_index(plans))
    out.file("oci-layout", OCI_LAYOUT)
    return out.finish()


def _oci_dir(plans: list[_Planned], dest: Path) -> None:
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    for blob in _unique_blobs(plans):
        (blobs / blob.hex).write_bytes(blob.data)
    (dest / "index.json").write_bytes(_oci_index(plans))
    (dest / "oci-layout").write_bytes(OCI_LAYOUT)


def _docker25(plans: list[_Planned]) -> bytes:
    out = _OuterTar(_Style())
    manifests = {p.manifest.hex for p in plans}
    out.dir("blobs/")
    out.dir("blobs/sha256/")
    for blob in _unique_blobs(plans):
        # Docker writes the manifests it generates with mtime 0, the stored blobs with their own time
        out.file(f"blobs/sha256/{blob.hex}", blob.data, 0 if blob.hex in manifests else None)
    index = []
    for plan in plans:
        for ref in plan.image.tags:
            desc = plan.manifest.descriptor()
            desc["annotations"] = {
                "io.containerd.image.name": _full_ref(ref),
                "org.opencontainers.image.ref.name": _split_tag(ref)[1],
            }
            index.append(desc)
    out.file("index.json", _json({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": index}))
    entries = []
    for plan in plans:
        by_diff_id = dict(zip(plan.diff_ids, plan.layers, strict=True))
        sources = {d: by_diff_id[d].descriptor() for d in sorted(by_diff_id)}
        entries.append(
            {
                "Config": f"blobs/sha256/{plan.config.hex}",
                "RepoTags": plan.image.tags or None,
                "Layers": [f"blobs/sha256/{b.hex}" for b in plan.layers],
                "LayerSources": sources,
            }
        )
    out.file("manifest.json", _json(entries), 0)
    out.file("oci-layout", OCI_LAYOUT, 0)
    top = {n: p.layers[-1].hex for n, p in enumerate(plans) if p.layers}
    out.file("repositories", _repositories(plans, top), 0)
    return out.finish()


def _docker_legacy(plans: list[_Planned]) -> bytes:
    out = _OuterTar(_Style(uname="root"))
    # top-level name -> what goes there: ("config", blob) or ("layer", (plan, ids, i))
    top: dict[str, tuple[str, Any]] = {}
    first_dir_of: dict[str, str] = {}  # blob hex -> the v1 dir that holds the real layer.tar
    entries = []
    top_ids: dict[int, str] = {}
    for n, plan in enumerate(plans):
        ids = _v1_ids(plan)
        for i, v1 in enumerate(ids):
            top.setdefault(v1, ("layer", (plan, ids, i)))
            # the first dir saved holds the bytes; a later dir with the same layer links to it
            first_dir_of.setdefault(plan.layers[i].hex, v1)
        if ids:
            top_ids[n] = ids[-1]
        top.setdefault(f"{plan.config.hex}.json", ("config", plan.config))
        entries.append(
            {
                "Config": f"{plan.config.hex}.json",
                "RepoTags": plan.image.tags or None,
                "Layers": [f"{v1}/layer.tar" for v1 in ids],
            }
        )
    # docker walks its temp folder in lexical order, then adds manifest.json and repositories
    for name in sorted(top):
        kind, what = top[name]
        if kind == "config":
            out.file(name, what.data)
            continue
        plan, ids, i = what
        blob = plan.layers[i]
        out.dir(f"{name}/")
        out.file(f"{name}/VERSION", b"1.0")
        out.file(f"{name}/json", _v1_json(plan, ids, i, full=True))
        if first_dir_of[blob.hex] == name:
            out.file(f"{name}/layer.tar", blob.data)
        else:
            out.symlink(f"{name}/layer.tar", f"../{first_dir_of[blob.hex]}/layer.tar")
    out.file("manifest.json", _json(entries), 0)
    out.file("repositories", _repositories(plans, top_ids), 0)
    return out.finish()


def _podman(plans: list[_Planned]) -> bytes:
    out = _OuterTar(_Style(file_mode=0o444, link_mode=0, mtime=0))
    written: set[str] = set()
    entries = []
    top_ids: dict[int, str] = {}
    for n, plan in enumerate(plans):
        for blob in plan.layers:
            if blob.hex not in written:
                written.add(blob.hex)
                out.file(f"{blob.hex}.tar", blob.data)
        if plan.config.hex not in written:
            written.add(plan.config.hex)
            out.file(f"{plan.config.hex}.json", plan.config.data)
        ids = _v1_ids(plan)
        for i, v1 in enumerate(ids):
            if v1 in written:
                continue
            written.add(v1)
            out.symlink(f"{v1}/layer.tar", f"../{plan.layers[i].hex}.tar")
            out.file(f"{v1}/VERSION", b"1.0")
            out.file(f"{v1}/json", _v1_json(plan, ids, i, full=i == len(ids) - 1))
        if ids:
            top_ids[n] = ids[-1]
        entries.append(
            {
                "Config": f"{plan.config.hex}.json",
                "RepoTags": plan.image.tags,
                "Layers": [f"{b.hex}.tar" for b in plan.layers],
            }
        )
    out.file("manifest.json", _json(entries))
    out.file("repositories", _repositories(plans, top_ids))
    return out.finish()


_TAR_LAYOUTS = {
    "docker-legacy": _docker_legacy,
    "docker25": _docker25,
    "podman": _podman,
    "oci-archive": _oci_archive,
}


def build(
    images: Image | Sequence[Image],
    dest: Path,
    layout: str,
    compression: str = "none",
    outer: str = "none",
) -> Path:
    """Write `images` to `dest` in `layout`; return the path written (dest + .gz/.zst when `outer` is set).

    Raises ValueError for an unknown layout, compression or outer, or `outer` with "oci-dir".
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {COMPRESSIONS}, not {compression!r}")
    if outer not in OUTERS:
        raise ValueError(f"outer must be one of {OUTERS}, not {outer!r}")
    plans = [_plan(im, compression) for im in ([images] if isinstance(images, Image) else images)]
    dest = Path(dest)
    if layout == "oci-dir":
        if outer != "none":
            raise ValueError("an oci-dir is a folder: it has no outer compression")
        _oci_dir(plans, dest)
        return dest
    data = _TAR_LAYOUTS[layout](plans)
    if outer != "none":
        data = blob_bytes(data, outer)
        dest = dest.with_name(dest.name + _OUTER_SUFFIX[outer])
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return dest
