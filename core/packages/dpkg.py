"""Debian and Ubuntu packages: dpkg's ``status`` file, distroless's ``status.d/``, the ``.list`` files.

The control data is deb822 (RFC 822-like paragraphs); python-debian's ``deb822`` parses each
paragraph (continuation lines, field case). The file is split into paragraphs here first, so that one
broken paragraph (binary junk, a cut-off end) costs a warning and that paragraph only: given the
whole file, deb822 stops at the first unparsable line and silently drops everything after it.
"""

from __future__ import annotations

import posixpath
import re

from debian import deb822

from .. import limits
from .model import Ecosystem, Found
from .reading import Located, MetadataReader, joined, text_of

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"
INFO = "var/lib/dpkg/info/"

_FIELDS = ["Package", "Status", "Version", "Architecture", "Installed-Size"]
_ABSENT = {"not-installed", "config-files"}
"""Package states whose files are not on disk (dpkg-query still lists them)."""
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


class DpkgCatalog:
    """dpkg's packages: status (or distroless status.d) for name, version, size; .list for files."""

    ecosystem = Ecosystem.DEB

    def __init__(self) -> None:
        self.found: dict[str, Found] = {}
        self.unsupported: set[str] = set()
        self._status: dict[str, list[dict[str, str]]] = {}  # status file path -> paragraphs
        self._lists: dict[str, tuple[str, ...]] = {}  # "name" or "name:arch" -> files
        self._md5: dict[str, tuple[str, ...]] = {}  # status.d stem -> files
        # paragraph text -> its fields, from the last read: a rewritten status mostly repeats itself
        self._parsed: dict[str, dict[str, str]] = {}

    def wants(self, path: str) -> bool:
        """The status file, status.d entries, and the .list files."""
        if not path.startswith("var/lib/dpkg/"):
            return False
        return (
            path == STATUS or path.startswith(STATUS_D) or (path.startswith(INFO) and path.endswith(".list"))
        )

    def update(self, changed: set[str], files: dict[str, Located], reader: MetadataReader) -> None:
        """Re-read the status files and lists the layer changed."""
        status = {
            p for p in changed if p == STATUS or (p.startswith(STATUS_D) and not p.endswith(".md5sums"))
        }
        md5 = {p for p in changed if p.startswith(STATUS_D) and p.endswith(".md5sums")}
        lists = {p for p in changed if p.startswith(INFO)}
        for p in status | md5 | lists:
            if p not in files:
                self._status.pop(p, None)
                self._lists.pop(_stem(p, ".list"), None)
                self._md5.pop(_stem(p, ".md5sums"), None)
        here = {p: files[p] for p in status if p in files}
        for p, raw in reader.read_many(here, limits.MAX_PACKAGE_DB_BYTES).items():
            self._status[p], self._parsed = _paragraphs(text_of(raw), p, reader, self._parsed)
        for p, raw in reader.read_many(
            {p: files[p] for p in lists if p in files}, limits.MAX_PACKAGE_FILE_BYTES
        ).items():
            self._lists[_stem(p, ".list")] = joined(text_of(raw).splitlines())
        for p, raw in reader.read_many(
            {p: files[p] for p in md5 if p in files}, limits.MAX_PACKAGE_FILE_BYTES
        ).items():
            self._md5[_stem(p, ".md5sums")] = joined(
                line.split(None, 1)[1] for line in text_of(raw).splitlines() if len(line.split(None, 1)) == 2
            )
        self.found = self._packages(reader)

    def _packages(self, reader: MetadataReader) -> dict[str, Found]:
        out: dict[str, Found] = {}
        for source, paras in sorted(self._status.items()):
            for para in paras:
                name = para.get("Package", "")
                version = para.get("Version", "")
                words = para.get("Status", "install ok installed").split()
                if words and words[-1] in _ABSENT:
                    continue
                if not version:
                    reader.warnings.add(
                        f"/{source}: package {name[:100]} has no Version (cut short?); skipped"
                    )
                    continue
                arch = para.get("Architecture") or None
                files = self._lists.get(f"{name}:{arch}") or self._lists.get(name)
                if files is None and source.startswith(STATUS_D):
                    files = self._md5.get(posixpath.basename(source)) or self._md5.get(name)
                key = f"{name}:{arch}" if arch else name
                if len(out) >= limits.MAX_PACKAGES:
                    reader.warnings.add(
                        f"/{source}: more than {limits.MAX_PACKAGES} packages; the rest left out"
                    )
                    return out
                out[key] = Found(
                    key, name, version, _size(para.get("Installed-Size")), files or (), arch, source
                )
        return out


def _stem(path: str, suffix: str) -> str:
    return posixpath.basename(path).removesuffix(suffix)


def _size(text: str | None) -> int | None:
    """Installed-Size (KiB) in bytes."""
    if text is None:
        return None
    try:
        kib = int(text.strip())
    except ValueError:
        return None
    return kib * 1024 if kib >= 0 else None


def _paragraphs(
    text: str, source: str, reader: MetadataReader, known: dict[str, dict[str, str]]
) -> tuple[list[dict[str, str]], dict[str, dict[str, str]]]:
    """The paragraphs of a status file that name a package (each broken one is a warning), and the
    parse of each paragraph (taken from ``known`` where the same text was parsed before)."""
    out: list[dict[str, str]] = []
    parsed: dict[str, dict[str, str]] = {}
    bad = 0
    for n, chunk in enumerate(_PARAGRAPH_BREAK.split(text.replace("\r\n", "\n"))):
        if not chunk.strip():
            continue
        fields = known.get(chunk)
        if fields is None:
            try:
                para = deb822.Deb822(chunk.splitlines(), fields=_FIELDS)
            except (ValueError, UnicodeError):
                para = None
            fields = {k: str(v) for k, v in para.items()} if para is not None else {}
        parsed[chunk] = fields
        if not fields.get("Package"):
            bad += 1
            if bad <= 3:
                reader.warnings.add(f"/{source}: paragraph {n + 1} skipped: no Package field")
            continue
        out.append(fields)
    if bad > 3:
        reader.warnings.add(f"/{source}: {bad - 3} more broken paragraph(s) skipped")
    return out, parsed
