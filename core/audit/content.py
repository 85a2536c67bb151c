"""Secrets by content: which stored files of a layer are worth reading, and reading them in one pass.

A layer's candidates are its regular files that are either named like a secret (core/audit/names.py)
or text of a scannable size outside the package trees (core/audit/known.py; everywhere with
``deep``), binary types (by suffix) and CA bundles left out. They are read in one pass over the layer
(``layers.content.iter_contents``, in offset order), at most ``MAX_AUDIT_FILE_BYTES`` of each, and a
file whose first bytes hold a NUL is binary: only a named file's own format is looked for in it.
What is found comes back as plain values (``FileSecret``), redacted already: no secret value leaves
this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..archive.records import Archive
from ..entry import Entry
from ..errors import LayerScopeError
from ..kinds import EntryType
from ..layers.content import first_bytes, iter_contents
from ..layers.index import LayerIndex
from ..limits import MAX_AUDIT_FILE_BYTES, MAX_AUDIT_FINDINGS_PER_FILE
from ..progress import CancelCheck, check_cancelled
from .finding import Redacted, redact
from .known import in_package_tree, is_ca_bundle, is_published_value, is_test_fixture
from .names import NameKind, name_kind, named_secrets
from .patterns import Match, find_secrets, secret_value
from .rules import Rule

SNIFF_BYTES = 8192
"""Bytes looked at for a NUL to call a file binary (as git and grep do)."""
CANCEL_EVERY = 256
"""Files read between two cancel checks."""

_BINARY_SUFFIXES = frozenset(
    {
     ".so", ".a", ".o", ".ko", ".pyc", ".pyo", ".pyd", ".whl", ".egg", ".jar", ".war", ".ear", ".class",
     ".dex", ".apk", ".deb", ".rpm", ".mo", ".gmo", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".icns",
     ".bmp", ".tif", ".tiff", ".webp", ".avif", ".heic", ".psd", ".xcf", ".svgz", ".woff", ".woff2",
     ".ttf", ".otf", ".eot", ".pfb", ".pdf", ".ps", ".dvi", ".gz", ".tgz", ".xz", ".txz", ".bz2", ".tbz",
     ".zst", ".lz", ".lzma", ".lz4", ".z", ".zip", ".7z", ".rar", ".cab", ".iso", ".img", ".qcow2",
     ".mp3", ".mp4", ".m4a", ".ogg", ".oga", ".opus", ".flac", ".wav", ".avi", ".mkv", ".mov", ".webm",
     ".wasm", ".db", ".sqlite", ".sqlite3", ".bin", ".dat", ".pack", ".idx", ".node", ".dll", ".exe",
     ".lib", ".cache", ".pickle", ".pkl", ".npy", ".npz", ".parquet", ".onnx", ".pt", ".h5", ".hwdb",
     ".cdb", ".gpg", ".kbx",
    }
)  # fmt: skip


def _binary_suffix(base: str) -> bool:
    dot = base.rfind(".")
    if dot <= 0:
        return False
    return base[dot:].lower() in _BINARY_SUFFIXES or ".so." in base


@dataclass(frozen=True, slots=True)
class FileSecret:
    """A secret found in a stored file: the entry (layer ``layer`` stores it), the rule, the
    redacted secret (None for a name-only finding), and whether the file is a published fixture."""

    layer: int
    entry: Entry
    rule: Rule
    secret: Redacted | None
    fixture: bool = False


@dataclass(slots=True)
class LayerSecrets:
    """What reading one layer's candidates found, and what it cost."""

    layer: int
    found: list[FileSecret] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    warnings: list[str] = field(default_factory=list)


Candidate = tuple[Entry, NameKind | None]


def candidates(li: LayerIndex, deep: bool = False) -> list[Candidate]:
    """The regular files of one layer worth reading, each with what its name says it is."""
    out: list[Candidate] = []
    file_t = EntryType.FILE
    limit = MAX_AUDIT_FILE_BYTES
    for e in li.entries:
        if e.type is not file_t or not e.size:
            continue
        path = e.path
        kind = name_kind(path)
        if kind is not None:
            if not is_ca_bundle(path):
                out.append((e, kind))
            continue
        if e.size > limit or _binary_suffix(path[path.rfind("/") + 1 :]) or is_ca_bundle(path):
            continue
        if deep or not in_package_tree(path):
            out.append((e, None))
    return out


def read_bytes(cands: list[Candidate]) -> int:
    """Bytes the reading of these candidates costs at most (for progress)."""
    return sum(min(e.stored_size, MAX_AUDIT_FILE_BYTES) for e, _ in cands)


def scan_layer(
    archive: Archive,
    li: LayerIndex,
    cands: list[Candidate],
    on_bytes: Callable[[int], None] | None = None,
    cancelled: CancelCheck | None = None,
) -> LayerSecrets:
    """Read the candidates of one layer in one pass and look for secrets in each. A layer whose
    bytes cannot be read is a warning. Raises Cancelled."""
    out = LayerSecrets(li.index)
    if not cands:
        return out
    kinds = {e.offset: k for e, k in cands}
    limit = MAX_AUDIT_FILE_BYTES
    try:
        for n, (e, chunks) in enumerate(iter_contents(archive, li.desc, [e for e, _ in cands])):
            if n % CANCEL_EVERY == 0:
                check_cancelled(cancelled)
            data = first_bytes(chunks, limit)
            out.files += 1
            out.bytes += len(data)
            if on_bytes is not None:
                on_bytes(len(data))
            _scan_file(out, e, kinds.get(e.offset), data)
    except LayerScopeError as exc:
        out.warnings.append(
            f"layer {li.index}: its files could not all be read for the audit ({exc.message})"
        )
    return out


def _scan_file(out: LayerSecrets, e: Entry, kind: NameKind | None, data: bytes) -> None:
    fixture = _published(e.path, kind)
    binary = b"\0" in data[:SNIFF_BYTES]
    seen: set[bytes] = set()
    found: list[tuple[Match, bytes]] = []
    key_found = False
    more = False
    for m in _matches(kind, data, binary):
        value = secret_value(m)
        if value in seen:
            continue
        if len(found) >= MAX_AUDIT_FINDINGS_PER_FILE:
            more = True
            break
        seen.add(value)
        found.append((m, value))
        key_found = key_found or m.rule is Rule.PRIVATE_KEY
    lines = _line_numbers(data, [m.offset for m, _ in found])
    for (m, value), line in zip(found, lines, strict=True):
        published = fixture or is_published_value(value)
        out.found.append(FileSecret(out.layer, e, m.rule, redact(m.kind, value, line), published))
    if kind is NameKind.SSH_KEY and not key_found:
        out.found.append(FileSecret(out.layer, e, Rule.SSH_KEY_FILE, None, fixture))
    if more:
        out.warnings.append(
            f"layer {out.layer}: /{e.path}: more than {MAX_AUDIT_FINDINGS_PER_FILE} secrets; "
            f"the first {MAX_AUDIT_FINDINGS_PER_FILE} are listed"
        )


def _published(path: str, kind: NameKind | None) -> bool:
    """True when a secret in this file is a published fixture (core/audit/known.py), not a leak."""
    if kind is NameKind.KEY_FILE and in_package_tree(path):
        return True
    if kind is None or kind is NameKind.KEY_FILE:
        return is_test_fixture(path)
    return in_package_tree(path) and is_test_fixture(path)


def _matches(kind: NameKind | None, data: bytes, binary: bool) -> Iterator[Match]:
    if kind is not None:
        yield from named_secrets(kind, data)
    if not binary:
        yield from find_secrets(data)


def _line_numbers(data: bytes, offsets: list[int]) -> list[int]:
    """The 1-based line of each offset (counted in C, once over the file)."""
    order = sorted(range(len(offsets)), key=offsets.__getitem__)
    lines = [0] * len(offsets)
    line, pos = 1, 0
    for i in order:
        line += data.count(b"\n", pos, offsets[i])
        pos = offsets[i]
        lines[i] = line
    return lines
