"""Open any image archive a user has and describe the images in it.

Recognised by content, never by file name: legacy ``docker save``; Docker 25+ ``docker save`` (OCI
layout plus ``manifest.json``); containerd-store saves (compressed blobs, nested multi-platform
index, attestations); podman/skopeo ``docker-archive`` (symlinked ``layer.tar``), also with several
images; ``oci-archive``; an OCI layout folder; and any of these as a whole gzip or zstd file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import blobs
from .container import Container, DirContainer, TarContainer
from .errors import (
    CorruptArchive,
    InvalidJSON,
    LayerScopeError,
    MissingBlob,
    NotAnImage,
    UnsupportedFormat,
)
from .tarindex import IndexBudget, StreamSource, read_entries

# media types -------------------------------------------------------------------------------------
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
INDEX_TYPES = {OCI_INDEX, DOCKER_LIST}
MANIFEST_TYPES = {OCI_MANIFEST, DOCKER_MANIFEST}
IMAGE_CONFIG_TYPES = {OCI_CONFIG, DOCKER_CONFIG}
LAYER_TYPE_PREFIXES = (
    "application/vnd.oci.image.layer.",
    "application/vnd.docker.image.rootfs.",
    "application/vnd.docker.image.layer.",
)
EXTRA_LAYER_TYPES = {"application/tar", "application/tar+gzip", "application/x-tar"}
ESTARGZ_ANNOTATIONS = ("containerd.io/snapshot/stargz/toc.digest", "io.containers.estargz.uncompressed-size")

_DIGEST = re.compile(r"^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$")
_HEX64 = re.compile(r"[0-9a-f]{64}")

FORMAT_NAMES = {
    "docker-archive": "docker save (legacy layout)",
    "docker-oci": "docker save (Docker 25+: OCI layout + manifest.json)",
    "oci-archive": "OCI image layout archive",
    "oci-layout": "OCI image layout folder",
    "docker-dir": "unpacked docker save folder",
}

ProgressFn = Callable[[str, int, int], None]
CancelFn = Callable[[], bool]

# ---- limits (see also tarindex) ---------------------------------------------------------------------
MAX_JSON_BYTES = 16 << 20
"""Bytes of one manifest, index or config. Real ones are kilobytes (an index of 10,000 tags is a few
MB); parsing costs up to 25 times the size in memory."""
MAX_JSON_DEPTH = 100
"""Nesting of a JSON document (real ones nest less than 10). Deeper documents are refused, so that no
later step (repr, the GUI's JSON view, json.dump) can hit Python's recursion limit."""
MAX_JSON_COST = 1 << 30
"""Estimated memory of all the JSON documents one archive makes LayerScope parse."""
MAX_LAYERS = 10_000
"""Layers of one image. Container runtimes stop at 128 (overlayfs), so this is far beyond any image
that runs; past it the image is refused rather than making every step slow."""
MAX_MANIFESTS = 100_000
"""Manifest descriptors walked in index.json and the indexes it nests, counting repeats (a few
indexes naming each other many times would otherwise multiply)."""


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        if len(parts) < 2 or len(parts) > 3 or not all(parts):
            raise ValueError(f"platform must be OS/ARCH[/VARIANT], not {text!r}")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


@dataclass(slots=True)
class HistoryStep:
    created: str | None
    created_by: str
    comment: str
    author: str
    empty_layer: bool
    layer: int | None  # index of the layer this step made, None for empty steps

    @property
    def text(self) -> str:
        """What to show for the step: the command, or the comment when there is none (docker import)."""
        return self.created_by or (f"({self.comment})" if self.comment else "")


@dataclass(slots=True)
class LayerDesc:
    """What the manifest and config say about one layer, plus the sniffed compression."""

    index: int
    blob_name: str | None  # member of the container holding the blob; None when not shipped
    digest: str | None
    diff_id: str | None
    media_type: str
    compression: str
    size: int  # stored (blob) size
    annotations: dict[str, str] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    history: HistoryStep | None = None

    @property
    def estargz(self) -> bool:
        return any(k in self.annotations for k in ESTARGZ_ANNOTATIONS)

    @property
    def key(self) -> str:
        """Identity for caching an index: the blob it reads."""
        return self.blob_name or self.digest or f"#{self.index}"


@dataclass(slots=True)
class ImageRecord:
    tags: list[str]
    platform: Platform | None
    manifest_digest: str | None
    manifest: dict[str, Any] | None
    manifest_raw: bytes | None
    config_digest: str
    config: dict[str, Any]
    config_raw: bytes
    layers: list[LayerDesc]
    history: list[HistoryStep]
    index_raw: bytes | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        if self.tags:
            return self.tags[0]
        if self.manifest_digest:
            return self.manifest_digest[:19]
        return self.config_digest[:19]

    def describe(self) -> str:
        plat = f" [{self.platform}]" if self.platform else ""
        return f"{', '.join(self.tags) or '(untagged)'}{plat}"


@dataclass(slots=True)
class Archive:
    path: Path
    format: str
    outer_compression: str | None
    container: Container
    images: list[ImageRecord]
    index_raw: bytes | None
    attestations: list[dict[str, Any]]
    warnings: list[str]
    indexes: dict[str, Any] = field(default_factory=dict)  # layer indexes, by LayerDesc.key
    budget: IndexBudget = field(default_factory=IndexBudget)  # bounds the memory of those indexes

    @property
    def format_name(self) -> str:
        name = FORMAT_NAMES.get(self.format, self.format)
        return f"{name}, {self.outer_compression}-compressed" if self.outer_compression else name

    def select(self, image: str | int | None = None, platform: str | None = None) -> ImageRecord:
        """Pick one image by tag or position and optionally platform (the first when nothing is said).

        Raises LayerScopeError when the choice matches nothing, or several images and the user chose.
        """
        cands = self.images
        if image is not None:
            if isinstance(image, int) or image.isdigit():
                i = int(image)
                if not 0 <= i < len(cands):
                    raise LayerScopeError(f"image index {i} is out of range (0..{len(cands) - 1})", self.path)
                cands = [cands[i]]
            else:
                cands = [im for im in cands if any(t == image or _tag_matches(t, image) for t in im.tags)]
                if not cands:
                    raise LayerScopeError(f"no image tagged {image!r} (have: {self._tag_list()})", self.path)
        if platform is not None:
            try:
                want = Platform.parse(platform)
            except ValueError as exc:
                raise LayerScopeError(str(exc), self.path) from exc
            cands = [im for im in cands if im.platform and _platform_matches(im.platform, want)]
            if not cands:
                have = ", ".join(sorted({str(im.platform) for im in self.images if im.platform})) or "none"
                raise LayerScopeError(f"no image for platform {platform} (have: {have})", self.path)
        if len(cands) > 1 and (image is not None or platform is not None):
            choices = "; ".join(f"#{self.images.index(im)} {im.describe()}" for im in cands)
            raise LayerScopeError(
                f"{len(cands)} images match; choose one with --image or --platform ({choices})", self.path
            )
        return cands[0]

    def _tag_list(self) -> str:
        return ", ".join(t for im in self.images for t in im.tags) or "no tags"

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def familiar(tag: str) -> str:
    """``docker.io/library/x:1`` -> ``x:1``; ``docker.io/a/b:1`` -> ``a/b:1``; anything else unchanged."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if tag.startswith(prefix):
            return tag[len(prefix) :]
    return tag


def add_tag(tags: list[str], tag: str) -> None:
    """Add ``tag`` unless the same reference is there already (the shorter spelling wins)."""
    f = familiar(tag)
    for i, old in enumerate(tags):
        if familiar(old) == f:
            if len(tag) < len(old):
                tags[i] = tag
            return
    tags.append(tag)


def _tag_matches(tag: str, want: str) -> bool:
    """``ubuntu:22.04`` matches ``docker.io/library/ubuntu:22.04`` and ``localhost/ubuntu:22.04``."""
    for prefix in ("docker.io/library/", "docker.io/", "localhost/"):
        if tag.startswith(prefix) and tag[len(prefix) :] == want:
            return True
    return False


def _platform_matches(have: Platform, want: Platform) -> bool:
    return (have.os, have.architecture) == (want.os, want.architecture) and (
        want.variant is None or have.variant == want.variant
    )


# -------------------------------------------------------------------------------------------------
def open_archive(
    path: str | os.PathLike[str], progress: ProgressFn | None = None, cancelled: CancelFn | None = None
) -> Archive:
    """Open an image archive (file or folder) and describe every image in it.

    Raises NotAnImage, UnsupportedFormat, InvalidJSON, MissingBlob, CorruptArchive (all
    LayerScopeError) with a one-line message naming the file.
    """
    p = Path(path)
    try:
        if p.is_dir():
            container: Container = DirContainer(p)
            outer = None
        elif p.exists():
            container, outer = _open_file(p, progress, cancelled)
        else:
            raise LayerScopeError("no such file or folder", p)
    except PermissionError as exc:
        raise LayerScopeError("permission denied", p) from exc
    except IsADirectoryError as exc:
        raise LayerScopeError("is a directory", p) from exc
    except OSError as exc:
        raise LayerScopeError(exc.strerror or str(exc), p) from exc
    return _Reader(container, p, outer).read()


def _open_file(
    p: Path, progress: ProgressFn | None, cancelled: CancelFn | None
) -> tuple[Container, str | None]:
    with open(p, "rb") as f:
        head = f.read(512)
    kind = blobs.sniff(head)
    if kind == blobs.EMPTY:
        raise NotAnImage("the file is empty", p)
    if kind in (blobs.GZIP, blobs.ZSTD):
        return _decompress_outer(p, kind, progress, cancelled), kind
    if kind != blobs.PLAIN:
        if kind in ("bzip2", "xz"):
            raise UnsupportedFormat(f"{kind}-compressed archives are not supported; decompress it first", p)
        raise NotAnImage("not a tar archive or an image folder", p)

    def prog(done: int) -> None:
        if progress is not None:
            progress("reading archive index", done, os.path.getsize(p))

    return TarContainer(p, progress=prog, cancelled=cancelled), None


def _decompress_outer(
    p: Path, kind: str, progress: ProgressFn | None, cancelled: CancelFn | None
) -> Container:
    """A compressed whole archive is not seekable: decompress it once to an unlinked temp file.

    The tar headers are followed while decompressing, so decompression stops shortly after the
    tar's end-of-archive marker (AFTER_END bytes at most): a gzip of zeros claiming gigabytes, or
    junk appended to a real archive, is neither decompressed nor written to disk."""
    from .errors import Cancelled

    total = os.path.getsize(p)
    fd, tmp = tempfile.mkstemp(prefix="layerscope-", suffix=".tar")
    try:
        with open(p, "rb") as raw, os.fdopen(fd, "wb") as out:
            read = blobs.decompressed_reader(raw, kind, f"{kind} data", p)

            def tee(n: int) -> bytes:
                b = read(n)
                if not b:
                    return b
                try:
                    out.write(b)
                except OSError as exc:
                    raise LayerScopeError(
                        f"cannot decompress to a temporary file ({exc.strerror}); free space in "
                        f"{tempfile.gettempdir()} or set TMPDIR",
                        p,
                    ) from exc
                if progress is not None:
                    progress(f"decompressing {kind} archive", raw.tell(), total)
                if cancelled is not None and cancelled():
                    raise Cancelled()
                return b

            head = b""
            while len(head) < 512:
                b = tee(512 - len(head))
                if not b:
                    break
                head += b
            if blobs.sniff(head) != blobs.PLAIN:
                raise NotAnImage(f"the {kind} data inside is not a tar archive", p)
            src = StreamSource(_prepend(head, tee))
            try:
                res = read_entries(src, overlay=False, cancelled=cancelled, label=str(p))
            except CorruptArchive as exc:
                if isinstance(exc.path, str):
                    raise  # the compressed stream itself is damaged
                raise NotAnImage(f"not a readable tar archive ({exc.message.split(': ', 1)[-1]})", p) from exc
        container = TarContainer(Path(tmp), display=p, cancelled=cancelled)
        # decompression stopped AFTER_END bytes past the end marker: say so
        container.warnings = [w for w in res.warnings if "follow the tar's end-of-archive" in w] + (
            container.warnings
        )
        return container
    except CorruptArchive as exc:
        raise CorruptArchive(exc.message.split(": ", 1)[-1], p) from exc
    finally:
        try:
            os.unlink(tmp)  # the mmap keeps the data; the name is gone
        except OSError:
            pass


def _prepend(head: bytes, read: Callable[[int], bytes]) -> Callable[[int], bytes]:
    """``read`` with ``head`` given back first."""
    pending = [head]

    def again(n: int) -> bytes:
        if pending:
            return pending.pop()
        return read(n)

    return again


def _load_json(raw: bytes, what: str, path: Path) -> Any:
    if not raw.strip():
        raise InvalidJSON(f"{what} is empty", path)
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        msg = str(exc).split(":")[0] if isinstance(exc, ValueError) else "nested too deeply"
        raise InvalidJSON(f"{what} is not valid JSON ({msg})", path) from exc
    if _too_deep(doc, MAX_JSON_DEPTH):
        raise InvalidJSON(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep", path)
    return doc


def _too_deep(doc: Any, limit: int) -> bool:
    """Whether lists and objects nest deeper than ``limit`` (without recursing)."""
    stack = [(doc, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict):
            v = v.values()
        elif not isinstance(v, list):
            continue
        for x in v:
            if isinstance(x, dict | list):
                if depth >= limit:
                    return True
                stack.append((x, depth + 1))
    return False


def _json_cost(raw: bytes) -> int:
    """Estimated memory of the parsed document: its text, and every object, array and value in it."""
    return 2 * len(raw) + 80 * (raw.count(b"{") + raw.count(b"[") + raw.count(b","))


def _int(v: Any) -> int:
    """A size from JSON: a non-negative integer that fits in 63 bits, else 0."""
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 63 else 0


def _str_list(v: Any) -> list[str]:
    """The strings of a JSON list (anything else: none)."""
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def _short(v: object, n: int = 100) -> str:
    """``repr(v)``, cut to about ``n`` characters: values from a hostile document can be huge."""
    r = repr(v[: n + 1]) if isinstance(v, str) else repr(v)
    return r if len(r) <= n else r[:n] + "…"


def _blob_name(digest: object, path: Path) -> str:
    if not isinstance(digest, str):
        raise InvalidJSON(f"digest {_short(digest)} is not a string", path)
    m = _DIGEST.match(digest)
    if not m:
        raise InvalidJSON(f"invalid digest {_short(digest)}", path)
    return f"blobs/{m.group(1)}/{m.group(2)}"


def _annotations(d: dict[str, Any]) -> dict[str, str]:
    a = d.get("annotations")
    return {str(k): str(v) for k, v in a.items()} if isinstance(a, dict) else {}


def _platform(d: Any) -> Platform | None:
    if not isinstance(d, dict):
        return None
    os_ = d.get("os")
    arch = d.get("architecture")
    if not isinstance(os_, str) or not isinstance(arch, str) or not os_ or not arch:
        return None
    v = d.get("variant")
    return Platform(os_, arch, v if isinstance(v, str) and v else None)


def _is_layer_type(mt: str) -> bool:
    return mt.startswith(LAYER_TYPE_PREFIXES) or mt in EXTRA_LAYER_TYPES


class _Reader:
    def __init__(self, container: Container, path: Path, outer: str | None) -> None:
        self.c = container
        self.path = path
        self.outer = outer
        self.warnings: list[str] = list(getattr(container, "warnings", []))
        self.attestations: list[dict[str, Any]] = []
        self.unknown_layer_types: list[tuple[str, str]] = []
        self.not_pulled = 0
        self._parsed: dict[str, tuple[Any, bytes]] = {}
        self._json_cost = 0
        self._walked = 0

    def json(self, name: str, what: str) -> tuple[Any, bytes]:
        """A JSON document of the archive, parsed once (documents are looked up again and again when
        indexes repeat them). Raises InvalidJSON past MAX_JSON_BYTES, MAX_JSON_DEPTH, MAX_JSON_COST."""
        got = self._parsed.get(name)
        if got is not None:
            return got
        blob = self.c.blob(name)
        if blob.size > MAX_JSON_BYTES:
            raise InvalidJSON(
                f"{what} is {blob.size:,} bytes; LayerScope reads JSON documents of up to "
                f"{MAX_JSON_BYTES >> 20} MB",
                self.path,
            )
        raw = blob.read_all(MAX_JSON_BYTES)
        self._json_cost += _json_cost(raw)
        if self._json_cost > MAX_JSON_COST:
            raise InvalidJSON(
                f"parsing {what} would take the archive's JSON documents past {MAX_JSON_COST >> 20:,} MB "
                "of memory; LayerScope stops there",
                self.path,
            )
        got = _load_json(raw, what, self.path), raw
        self._parsed[name] = got
        return got

    def read(self) -> Archive:
        c = self.c
        has_index = c.exists("index.json")
        has_layout = c.exists("oci-layout")
        has_manifest = c.exists("manifest.json")
        index_raw = None
        images: list[ImageRecord] = []
        if has_index and (has_layout or not has_manifest):
            fmt = "oci-layout" if c.kind == "dir" else "oci-archive"
            if has_manifest:
                fmt = "docker-oci" if c.kind == "tar" else "docker-dir"
            index, index_raw = self.json("index.json", "index.json")
            if not isinstance(index, dict):
                raise InvalidJSON("index.json is not a JSON object", self.path)
            images = self._walk_index(index, index_raw)
            if has_manifest:
                images = self._merge_docker_manifest(images)
            if not images:
                if self.unknown_layer_types:
                    dg, mt = self.unknown_layer_types[0]
                    raise UnsupportedFormat(
                        f"manifest {dg[:19]} has layers of unknown media type {_short(mt)}", self.path
                    )
                if self.not_pulled:
                    raise MissingBlob(
                        f"none of the {self.not_pulled} platform manifest(s) listed in index.json is "
                        "in the archive",
                        self.path,
                    )
                if self.attestations:
                    raise NotAnImage(
                        "the index holds only artifacts or attestations, no runnable image", self.path
                    )
                if "manifests" not in index:
                    if "layers" in index or "config" in index:
                        raise NotAnImage(
                            "index.json is an image manifest, not an index (no 'manifests')", self.path
                        )
                    raise NotAnImage("index.json lists no manifests", self.path)
                raise NotAnImage("index.json lists no images", self.path)
        elif has_manifest:
            fmt = "docker-archive" if c.kind == "tar" else "docker-dir"
            images = self._merge_docker_manifest([])
            if not images:
                raise NotAnImage("manifest.json lists no images", self.path)
        else:
            if c.exists("repositories"):
                raise UnsupportedFormat(
                    "a Docker v1 save without manifest.json (Docker < 1.10) is not supported", self.path
                )
            if c.kind == "dir":
                raise NotAnImage(
                    "folder holds no index.json or manifest.json: not an image layout", self.path
                )
            names = c.names()
            if names:
                raise NotAnImage(
                    f"a plain tar of {len(names)} file(s) with no manifest.json or index.json: "
                    "it looks like a single filesystem layer, not an image",
                    self.path,
                )
            raise NotAnImage("an empty tar archive", self.path)
        for im in images:
            im.index_raw = index_raw
        return Archive(self.path, fmt, self.outer, c, images, index_raw, self.attestations, self.warnings)

    # ---- OCI index walk ------------------------------------------------------------------------
    def _walk_index(self, index: dict[str, Any], index_raw: bytes) -> list[ImageRecord]:
        found: dict[str, ImageRecord] = {}
        self._walk(index, [], None, found, 0, top=True)
        return list(found.values())

    def _walk(
        self,
        index: dict[str, Any],
        tags: list[str],
        parent_plat: Platform | None,
        found: dict[str, ImageRecord],
        depth: int,
        top: bool = False,
    ) -> None:
        if depth > 8:
            self.warnings.append("index nesting deeper than 8 levels; the rest is ignored")
            return
        mans = index.get("manifests")
        if mans is None:
            return
        if not isinstance(mans, list):
            raise InvalidJSON("'manifests' of an index is not a list", self.path)
        multi = len([m for m in mans if isinstance(m, dict) and _platform(m.get("platform"))]) > 1
        for d in mans:
            if not isinstance(d, dict):
                raise InvalidJSON("an index entry is not an object", self.path)
            self._walked += 1
            if self._walked > MAX_MANIFESTS:
                if self._walked == MAX_MANIFESTS + 1:
                    self.warnings.append(
                        f"the index lists more than {MAX_MANIFESTS:,} manifests (nested indexes counted "
                        "each time they are named); the rest are ignored"
                    )
                return
            ann = _annotations(d)
            my_tags = list(tags)
            if top:
                t = _ref_tag(ann)
                if t:
                    add_tag(my_tags, t)
            mt = str(d.get("mediaType") or "")
            plat = _platform(d.get("platform")) or parent_plat
            digest = d.get("digest")
            try:
                name = _blob_name(digest, self.path)
            except InvalidJSON:
                self.warnings.append(f"index entry with invalid digest {_short(digest)} ignored")
                continue
            is_att = ann.get("vnd.docker.reference.type") == "attestation-manifest" or (
                plat is not None and plat.os == "unknown" and plat.architecture == "unknown"
            )
            if not self.c.exists(name):
                if is_att:
                    self.attestations.append(
                        {"digest": digest, "mediaType": mt, "annotations": ann, "missing": True}
                    )
                elif multi and plat is not None:
                    self.not_pulled += 1
                    self.warnings.append(
                        f"platform {plat} ({str(digest)[:19]}) is listed but its blobs are not "
                        "in the archive (not pulled)"
                    )
                else:
                    raise MissingBlob(
                        f"index.json names manifest {digest} ({_short(mt) if mt else 'no media type'}), "
                        "which is not in the archive",
                        self.path,
                    )
                continue
            doc, raw = self.json(name, f"manifest {str(digest)[:19]}")
            if not isinstance(doc, dict):
                raise InvalidJSON(f"manifest {str(digest)[:19]} is not a JSON object", self.path)
            dmt = str(doc.get("mediaType") or mt)
            if dmt in INDEX_TYPES or ("manifests" in doc and "layers" not in doc):
                self._walk(doc, my_tags, plat, found, depth + 1)
                continue
            if dmt not in MANIFEST_TYPES and "layers" not in doc:
                self.attestations.append({"digest": digest, "mediaType": dmt, "annotations": ann})
                continue
            cfg_desc = doc.get("config")
            cfg_mt = str(cfg_desc.get("mediaType") or "") if isinstance(cfg_desc, dict) else ""
            doc_layers = doc.get("layers")
            odd = [
                str(x.get("mediaType"))
                for x in (doc_layers if isinstance(doc_layers, list) else [])
                if isinstance(x, dict) and x.get("mediaType") and not _is_layer_type(str(x.get("mediaType")))
            ]
            looks_like_image = not doc.get("artifactType") and (not cfg_mt or cfg_mt in IMAGE_CONFIG_TYPES)
            if odd and not is_att and looks_like_image:
                self.unknown_layer_types.append((str(digest), odd[0]))
            if is_att or odd or doc.get("artifactType") or (cfg_mt and cfg_mt not in IMAGE_CONFIG_TYPES):
                self.attestations.append(
                    {
                        "digest": digest,
                        "mediaType": dmt,
                        "annotations": ann,
                        "artifactType": doc.get("artifactType") or cfg_mt,
                        "platform": str(plat) if plat else None,
                    }
                )
                continue
            key = str(digest)
            if key in found:
                for t in my_tags:
                    add_tag(found[key].tags, t)
                if found[key].platform is None and plat is not None:
                    found[key].platform = plat
                continue
            found[key] = self._image_from_manifest(doc, raw, key, my_tags, plat, ann)

    def _image_from_manifest(
        self,
        doc: dict[str, Any],
        raw: bytes,
        digest: str,
        tags: list[str],
        plat: Platform | None,
        ann: dict[str, str],
    ) -> ImageRecord:
        label = f"manifest {digest[:19]}"
        cfg_desc = doc.get("config")
        if not isinstance(cfg_desc, dict):
            raise InvalidJSON(f"{label} has no config descriptor", self.path)
        cfg_name = _blob_name(cfg_desc.get("digest"), self.path)
        if not self.c.exists(cfg_name):
            raise MissingBlob(
                f"config {cfg_desc.get('digest')} named by {label} is not in the archive", self.path
            )
        config, config_raw = self.json(cfg_name, f"config {str(cfg_desc.get('digest'))[:19]}")
        if not isinstance(config, dict):
            raise InvalidJSON(f"config of {label} is not a JSON object", self.path)
        layers_j = doc.get("layers")
        if not isinstance(layers_j, list):
            raise InvalidJSON(f"{label} has no 'layers' list", self.path)
        _check_layer_count(len(layers_j), label, self.path)
        diff_ids = _diff_ids(config)
        layers: list[LayerDesc] = []
        warnings: list[str] = []
        for i, ld in enumerate(layers_j):
            if not isinstance(ld, dict):
                raise InvalidJSON(f"layer {i} of {label} is not an object", self.path)
            mt = str(ld.get("mediaType") or "")
            dg = ld.get("digest")
            bname = _blob_name(dg, self.path)
            size = _int(ld.get("size"))
            urls = (
                [str(u) for u in ld.get("urls") or [] if isinstance(u, str)]
                if isinstance(ld.get("urls"), list)
                else []
            )
            if mt and not _is_layer_type(mt):
                raise UnsupportedFormat(
                    f"layer {i} of {label} has unknown media type {_short(mt)}", self.path
                )
            if self.c.exists(bname):
                blob = self.c.blob(bname)
                comp = blobs.sniff(blob.head())
                if size and blob.size != size:
                    warnings.append(f"layer {i}: manifest says {size} bytes, blob has {blob.size}")
                size = blob.size
            else:
                comp = _compression_from_type(mt)
                warnings.append(
                    f"layer {i} ({str(dg)[:19]}) is not in the archive"
                    + (" (foreign layer)" if urls or "foreign" in mt or "nondistributable" in mt else "")
                )
                bname_opt: str | None = None
                layers.append(
                    LayerDesc(
                        i,
                        bname_opt,
                        str(dg),
                        diff_ids[i] if i < len(diff_ids) else None,
                        mt,
                        comp,
                        size,
                        _annotations(ld),
                        urls,
                    )
                )
                continue
            layers.append(
                LayerDesc(
                    i,
                    bname,
                    str(dg),
                    diff_ids[i] if i < len(diff_ids) else None,
                    mt,
                    comp,
                    size,
                    _annotations(ld),
                    urls,
                )
            )
        return self._finish(
            tags,
            plat,
            digest,
            doc,
            raw,
            "sha256:" + hashlib.sha256(config_raw).hexdigest(),
            config,
            config_raw,
            layers,
            warnings,
            ann,
        )

    def _finish(
        self,
        tags: list[str],
        plat: Platform | None,
        mdigest: str | None,
        manifest: dict[str, Any] | None,
        mraw: bytes | None,
        cdigest: str,
        config: dict[str, Any],
        craw: bytes,
        layers: list[LayerDesc],
        warnings: list[str],
        ann: dict[str, str],
    ) -> ImageRecord:
        diff_ids = _diff_ids(config)
        if len(diff_ids) != len(layers):
            warnings.append(f"config lists {len(diff_ids)} diff_ids for {len(layers)} layers")
        if plat is None:
            plat = _platform(config)
        history = align_history(config, layers, warnings)
        return ImageRecord(
            tags,
            plat,
            mdigest,
            manifest,
            mraw,
            cdigest,
            config,
            craw,
            layers,
            history,
            annotations=ann,
            warnings=warnings,
        )

    # ---- docker manifest.json --------------------------------------------------------------------
    def _merge_docker_manifest(self, images: list[ImageRecord]) -> list[ImageRecord]:
        doc, _raw = self.json("manifest.json", "manifest.json")
        if doc is None:
            raise InvalidJSON("manifest.json is null", self.path)
        if not isinstance(doc, list):
            raise InvalidJSON("manifest.json is not a JSON array", self.path)
        by_config = {im.config_digest: im for im in images}
        out = list(images)
        for n, e in enumerate(doc):
            if not isinstance(e, dict):
                raise InvalidJSON(f"manifest.json entry {n} is not an object", self.path)
            cfg = e.get("Config")
            lays = e.get("Layers")
            if not isinstance(cfg, str) or not cfg or not isinstance(lays, list):
                raise InvalidJSON(f"manifest.json entry {n} has no Config or Layers", self.path)
            _check_layer_count(len(lays), f"manifest.json entry {n}", self.path)
            tags: list[str] = []
            for t in _str_list(e.get("RepoTags")):
                add_tag(tags, t)
            if not self.c.exists(cfg):
                raise MissingBlob(
                    f"config {_short(cfg)} named by manifest.json is not in the archive", self.path
                )
            config, craw = self.json(cfg, f"config {cfg[:100]}")
            if not isinstance(config, dict):
                raise InvalidJSON(f"config {cfg[:100]} is not a JSON object", self.path)
            cdigest = "sha256:" + hashlib.sha256(craw).hexdigest()
            if cdigest in by_config:
                im = by_config[cdigest]
                for t in tags:
                    add_tag(im.tags, t)
                continue
            diff_ids = _diff_ids(config)
            sources = e.get("LayerSources") if isinstance(e.get("LayerSources"), dict) else {}
            layers: list[LayerDesc] = []
            warnings: list[str] = []
            for i, lp in enumerate(lays):
                if not isinstance(lp, str):
                    raise InvalidJSON(f"manifest.json entry {n} layer {i} is not a path", self.path)
                did = diff_ids[i] if i < len(diff_ids) else None
                src = sources.get(did) if did and isinstance(sources, dict) else None
                if not self.c.exists(lp):
                    raise MissingBlob(
                        f"layer {_short(lp)} named by manifest.json is not in the archive", self.path
                    )
                blob = self.c.blob(lp)
                comp = blobs.sniff(blob.head())
                mt = (
                    str(src.get("mediaType"))
                    if isinstance(src, dict) and src.get("mediaType")
                    else (
                        "application/vnd.docker.image.rootfs.diff.tar.gzip"
                        if comp == blobs.GZIP
                        else "application/vnd.oci.image.layer.v1.tar+zstd"
                        if comp == blobs.ZSTD
                        else "application/vnd.docker.image.rootfs.diff.tar"
                    )
                )
                digest = _digest_from_name(lp)
                if isinstance(src, dict) and isinstance(src.get("digest"), str):
                    digest = src["digest"]
                if digest is None and comp in (blobs.PLAIN, blobs.EMPTY):
                    digest = did
                layers.append(LayerDesc(i, lp, digest, did, mt, comp, blob.size))
            out.append(
                self._finish(tags, None, None, None, None, cdigest, config, craw, layers, warnings, {})
            )
            by_config[cdigest] = out[-1]
        return out


def _check_layer_count(n: int, label: str, path: Path) -> None:
    if n > MAX_LAYERS:
        raise UnsupportedFormat(
            f"{label} lists {n:,} layers; LayerScope reads images of up to {MAX_LAYERS:,} layers "
            "(container runtimes stop at 128)",
            path,
        )


def _digest_from_name(name: str) -> str | None:
    base = name.rsplit("/", 1)[-1]
    for suffix in (".tar.gz", ".tgz", ".tar.zst", ".tar", ".gz"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    base = base.removeprefix("sha256:")
    if _HEX64.fullmatch(base):
        return "sha256:" + base
    return None


def _ref_tag(ann: dict[str, str]) -> str | None:
    full = ann.get("io.containerd.image.name")
    if full:
        return full
    ref = ann.get("org.opencontainers.image.ref.name")
    return ref or None


def _compression_from_type(mt: str) -> str:
    if mt.endswith(("gzip", "+gzip")):
        return blobs.GZIP
    if mt.endswith("zstd"):
        return blobs.ZSTD
    return blobs.PLAIN


def _diff_ids(config: dict[str, Any]) -> list[str]:
    rootfs = config.get("rootfs")
    if isinstance(rootfs, dict) and isinstance(rootfs.get("diff_ids"), list):
        return [str(d) for d in rootfs["diff_ids"]]
    return []


def align_history(config: dict[str, Any], layers: list[LayerDesc], warnings: list[str]) -> list[HistoryStep]:
    """Pair history steps with layers: 1:1 over the non-empty steps when the counts agree.

    When they do not, a warning says so, steps pair forward as far as they go, and every layer still
    gets a step (an anonymous one when history runs out).
    """
    raw = config.get("history")
    steps: list[HistoryStep] = []
    if isinstance(raw, list):
        for h in raw:
            if not isinstance(h, dict):
                continue
            steps.append(
                HistoryStep(
                    created=str(h["created"]) if h.get("created") else None,
                    created_by=str(h.get("created_by") or ""),
                    comment=str(h.get("comment") or ""),
                    author=str(h.get("author") or ""),
                    empty_layer=bool(h.get("empty_layer")),
                    layer=None,
                )
            )
    nonempty = [s for s in steps if not s.empty_layer]
    if steps and len(nonempty) != len(layers):
        warnings.append(
            f"history has {len(nonempty)} layer step(s) for {len(layers)} layer(s); paired from the bottom"
        )
    for i, layer in enumerate(layers):
        if i < len(nonempty):
            nonempty[i].layer = i
            layer.history = nonempty[i]
        else:
            s = HistoryStep(None, "", "", "", False, i)
            steps.append(s)
            layer.history = s
    return steps
