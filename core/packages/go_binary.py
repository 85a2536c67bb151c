"""Go binaries: the build info the Go toolchain embeds (Go 1.18 and later), the main module, the Go
version and every dependency module with its version.

A Go binary is told by the Go build-ID note near its start (an ELF note named ``Go``, type 4, in the
first pages; a binary linked without a build ID, ``-ldflags=-buildid=``, has none and is not read).
Its build info is a block that starts with the magic ``\\xff Go buildinf:`` at a 16-byte aligned
offset (the ``.go.buildinfo`` section; near the end of a stripped binary): a 32-byte header (pointer size,
flags), then, when the flags say the strings are inline (Go 1.18+), the Go version and the module
information, each as a uvarint length and its bytes. The module information is text between two
16-byte sentinels, one tab-separated item per line: ``path`` (the main package), ``mod`` (the main
module), ``dep`` (a dependency), ``=>`` (the replacement of the module on the line before), ``build``
(a build setting). Binaries built before Go 1.18 keep pointers to their strings instead: they are
said to be unsupported, not guessed. The layout is the one Go's ``debug/buildinfo`` documents and
``go version -m`` prints; no Python library reads it, so the parser is our own.

Every module of a binary is a package of the ``go`` ecosystem, installed by the layer that wrote
the binary, with the binary as its file; ``stdlib`` is the Go version the binary was built with (as
SBOM tools list it). The main module's size is the binary's; a dependency's is unknown (None).
Binaries are looked for where images keep them: files directly in a ``bin`` or ``sbin`` folder
(``usr/local/bin``, ``go/bin``, ``opt/x/bin``), at the image's root (distroless and scratch images),
and in ``app/`` and ``ko-app/``; an executable elsewhere is not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

from ..entry import Entry
from ..kinds import EntryType
from .model import Ecosystem, Found
from .reading import Located, MetadataReader

MAGIC = b"\xff Go buildinf:"
HEADER = 32
HEAD_BYTES = 16 << 10
"""Bytes read from the start of an executable to tell a Go binary (its build-ID note)."""
MIN_BINARY = 64 << 10
"""Smaller executables are not Go binaries (the smallest Go binary is about a megabyte)."""
MAX_VERSION = 256
MAX_MODINFO = 4 << 20
"""A longer module information block is not believed."""
_FLAG_INLINE = 0x2  # the strings follow the header (Go 1.18+)
_GO_NOTE = re.compile(rb"\x04\x00\x00\x00.{4}\x04\x00\x00\x00Go\x00\x00", re.DOTALL)


class BuildInfoError(ValueError):
    """The bytes after the magic are not build info this parser reads (one line: why)."""


class OldBuildInfo(BuildInfoError):
    """Build info of a binary built before Go 1.18 (pointers, not inline strings): not read."""


@dataclass(frozen=True, slots=True)
class GoModule:
    """A module as the build info lists it; ``replaced_by`` when a ``=>`` line followed it."""

    path: str
    version: str
    sum: str = ""
    replaced_by: GoModule | None = None

    @property
    def effective_version(self) -> str:
        """The version built in: the replacement's when there is one (a local folder has none)."""
        r = self.replaced_by
        if r is None:
            return self.version
        return r.version or f"=> {r.path}"


@dataclass(frozen=True, slots=True)
class GoBuildInfo:
    """What ``go version -m`` prints for one binary."""

    go_version: str
    path: str  # the main package
    main: GoModule | None
    deps: tuple[GoModule, ...]
    settings: tuple[tuple[str, str], ...]


def is_go_binary(head: bytes) -> bool:
    """True for the first bytes of an ELF file that carry Go's build-ID note."""
    return head.startswith(b"\x7fELF") and _GO_NOTE.search(head) is not None


ALIGN = 16
"""The build info block starts at a multiple of 16 bytes (the section's alignment); a copy of the
magic elsewhere (in the Go linker's own read-only data, say) is not it."""


def find_build_info(chunks: Iterable[bytes]) -> GoBuildInfo | None:
    """The build info of the binary whose bytes ``chunks`` gives, read only up to the block's end;
    None when the bytes hold no aligned magic. Raises BuildInfoError."""
    tail = b""  # the last bytes before the chunk, where a magic may begin
    base = 0  # the file offset of ``tail``'s first byte
    block: bytearray | None = None
    for c in chunks:
        if block is not None:
            block += c
        else:
            window = tail + c
            at = _aligned(window, base)
            if at < 0:
                keep = len(MAGIC) - 1
                base += max(0, len(window) - keep)
                tail = window[-keep:]
                continue
            block = bytearray(window[at:])
        need = _needed(block)
        if need is not None and len(block) >= need:
            return parse_build_info(bytes(block[:need]))
    return parse_build_info(bytes(block)) if block is not None else None  # it says what is missing


def _aligned(window: bytes, base: int) -> int:
    """The first magic in ``window`` at an aligned file offset (``window`` starts at ``base``)."""
    at = window.find(MAGIC)
    while at >= 0 and (base + at) % ALIGN:
        at = window.find(MAGIC, at + 1)
    return at


def _needed(block: bytearray) -> int | None:
    """How many bytes the block takes, once its header and length fields are there (else None);
    a length past the limits is the block's end already (``parse_build_info`` then says so)."""
    if len(block) < HEADER:
        return None
    if block[14] not in (4, 8) or not block[15] & _FLAG_INLINE:
        return HEADER
    n1, at = _uvarint(block, HEADER)
    if n1 is None:
        return None
    if n1 > MAX_VERSION:
        return at
    n2, at2 = _uvarint(block, at + n1)
    if n2 is None:
        return None
    return at2 + min(n2, MAX_MODINFO + 1)


def parse_build_info(block: bytes) -> GoBuildInfo:
    """The build info in ``block`` (from the magic on). Raises BuildInfoError."""
    if not block.startswith(MAGIC):
        raise BuildInfoError("no Go build info magic")
    if len(block) < HEADER:
        raise BuildInfoError("the Go build info header is cut short")
    ptr, flags = block[14], block[15]
    if ptr not in (4, 8):
        raise BuildInfoError(f"a Go build info pointer size of {ptr}")
    if not flags & _FLAG_INLINE:
        raise OldBuildInfo("built before Go 1.18 (its build info is not inline): not read")
    version, at = _string(block, HEADER, MAX_VERSION, "Go version")
    modinfo, _ = _string(block, at, MAX_MODINFO, "module information")
    try:
        go_version = version.decode("utf-8")
        text = _unwrap(modinfo).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BuildInfoError("the Go build info is not UTF-8 text") from exc
    if not go_version.strip() or "\n" in go_version:
        raise BuildInfoError(f"a Go version {go_version[:40]!r}")
    return _modules(go_version, text)


def _string(block: bytes | bytearray, at: int, limit: int, what: str) -> tuple[bytes, int]:
    n, start = _uvarint(block, at)
    if n is None:
        raise BuildInfoError(f"the length of the {what} is cut short")
    if n > limit:
        raise BuildInfoError(f"the {what} claims {n} bytes")
    end = start + n
    if end > len(block):
        raise BuildInfoError(f"the {what} is cut short")
    return bytes(block[start:end]), end


def _uvarint(block: bytes | bytearray, at: int) -> tuple[int | None, int]:
    """A uvarint at ``at`` and the offset after it; (None, at) when the bytes end first. Raises
    BuildInfoError for one longer than ten bytes."""
    value = shift = 0
    for i in range(at, min(at + 10, len(block))):
        b = block[i]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i + 1
        shift += 7
    if len(block) >= at + 10:
        raise BuildInfoError("a length in the Go build info does not end")
    return None, at


def _unwrap(modinfo: bytes) -> bytes:
    """The module information without the 16-byte (binary) sentinels around it."""
    if len(modinfo) >= 33 and modinfo[-17] == 0x0A:
        return modinfo[16:-16]
    return modinfo


def _modules(go_version: str, text: str) -> GoBuildInfo:
    path = ""
    main: GoModule | None = None
    deps: list[GoModule] = []
    settings: list[tuple[str, str]] = []
    last: str | None = None  # "mod" or "dep": what a "=>" line replaces
    for line in text.split("\n"):
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "path":
            path = rest
        elif kind in ("mod", "dep") and fields[0]:
            m = GoModule(fields[0], _at(fields, 1), _at(fields, 2))
            if kind == "mod":
                main = m
            else:
                deps.append(m)
            last = kind
        elif kind == "=>" and last is not None and fields[0]:
            r = GoModule(fields[0], _at(fields, 1), _at(fields, 2))
            if last == "mod" and main is not None:
                main = GoModule(main.path, main.version, main.sum, r)
            elif deps:
                d = deps[-1]
                deps[-1] = GoModule(d.path, d.version, d.sum, r)
            last = None
        elif kind == "build":
            key, _, value = rest.partition("=")
            settings.append((key, value))
    return GoBuildInfo(go_version, path, main, tuple(deps), tuple(settings))


def _at(fields: list[str], i: int) -> str:
    return fields[i] if i < len(fields) else ""


# ---- the catalog ---------------------------------------------------------------------------------
_WHERE = frozenset({"app", "ko-app"})


class GoCatalog:
    """The modules of the Go binaries where images keep them (see the module docstring)."""

    ecosystem = Ecosystem.GO

    def __init__(self) -> None:
        self.found: dict[str, Found] = {}
        self.unsupported: set[str] = set()

    def wants(self, path: str) -> bool:
        """A file at the root, directly in a ``bin`` or ``sbin`` folder, or in ``app/``, ``ko-app/``."""
        i = path.rfind("/")
        if i < 0:
            return True
        folder = path[:i]
        return folder[folder.rfind("/") + 1 :] in ("bin", "sbin") or folder in _WHERE

    def update(self, changed: set[str], files: dict[str, Located], reader: MetadataReader) -> None:
        """Read the build info of each Go binary the layer wrote (its modules replace the old ones):
        one pass over each executable's bytes, stopped after its first chunk when it is not Go."""
        for key in [k for k in self.found if k.split("\t", 1)[0] in changed]:
            del self.found[key]
        candidates: dict[str, Located] = {}
        for p in changed:
            where = files.get(p)
            if where is not None and _executable(reader.target(p, where)[0]):
                candidates[p] = where
        if not candidates:
            return
        for paths, chunks in reader.stream_many(candidates):
            first = next(chunks, b"")
            if not is_go_binary(first[:HEAD_BYTES]):
                continue  # another executable: no further chunk is read
            try:
                info = find_build_info(chain([first], chunks))
            except OldBuildInfo:
                self.unsupported.update(
                    f"/{p}: a Go binary built before Go 1.18 (its build info is not read)" for p in paths
                )
                continue
            except BuildInfoError as exc:
                reader.warnings.add(
                    ", ".join(f"/{p}" for p in paths) + f": a Go binary whose build info is not read: {exc}"
                )
                continue
            if info is None:
                reader.warnings.add(
                    ", ".join(f"/{p}" for p in paths)
                    + ": a Go binary whose build info is not read: no build info"
                )
                continue
            for p in paths:
                self.found.update(_packages(p, reader.target(p, candidates[p])[0].size, info))


def _executable(e: Entry) -> bool:
    return e.type is EntryType.FILE and bool(e.mode & 0o111) and e.size >= MIN_BINARY


def _packages(binary: str, size: int, info: GoBuildInfo) -> dict[str, Found]:
    """The binary's modules as packages, keyed by the binary's path and the module's (another
    program written over the binary is other packages; a new build of it, other versions)."""
    files = (binary,)
    main = info.main
    if main is not None:
        name, version = main.path, main.effective_version
    else:  # built outside module mode (GOPATH, as Debian builds its Go packages)
        name, version = info.path or binary.rsplit("/", 1)[-1], "(devel)"
    rows = [(name, version, size), ("stdlib", info.go_version, None)]
    rows.extend((d.path, d.effective_version, None) for d in info.deps)
    out: dict[str, Found] = {}
    for module, v, weight in rows:
        key = f"{binary}\t{module}"
        out[key] = Found(key, module, v, weight, files, None, binary)
    return out
