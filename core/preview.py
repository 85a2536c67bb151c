"""What a file looks like: text (with its encoding), an image, or a hex dump, from a capped read.

Only the first PREVIEW_TEXT_CAP bytes of a file are read for text and hex, so a large file previews
without being loaded whole; images are read whole up to PREVIEW_IMAGE_CAP (core/limits.py).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from enum import StrEnum

from .archive.records import Archive
from .entry import Entry
from .layers.content import read_content
from .layers.index import LayerIndex
from .limits import PREVIEW_HEX_CAP, PREVIEW_IMAGE_CAP, PREVIEW_TEXT_CAP

_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"BM", "bmp"),
    (b"RIFF", "webp"),
)


class PreviewKind(StrEnum):
    """How a file is shown."""

    TEXT = "text"
    IMAGE = "image"
    HEX = "hex"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class Preview:
    """What a file looks like: ``shown`` of its ``size`` bytes, as text, an image or a hex dump.

    ``text`` holds the decoded text or the hex dump (an SVG's source too), ``data`` an image's bytes.
    """

    kind: PreviewKind
    size: int
    shown: int
    text: str = ""
    encoding: str = ""
    image_format: str = ""
    data: bytes = b""

    @property
    def truncated(self) -> bool:
        """True when less than the whole file is shown."""
        return self.shown < self.size

    def note(self) -> str:
        """One line saying what is shown: ``text (UTF-8), 1,234 bytes``."""
        if self.kind is PreviewKind.EMPTY:
            return "empty file"
        what = {
            PreviewKind.TEXT: f"text ({self.encoding})",
            PreviewKind.IMAGE: f"{self.image_format.upper()} image",
            PreviewKind.HEX: "binary (hex)",
        }[self.kind]
        if self.truncated:
            return f"{what}: first {self.shown:,} of {self.size:,} bytes"
        return f"{what}, {self.size:,} bytes"


def image_format(head: bytes, name: str) -> str | None:
    """The image format the first bytes (or, for SVG, the name) show, or None."""
    for magic, fmt in _IMAGE_MAGIC:
        if head.startswith(magic):
            if fmt == "webp" and head[8:12] != b"WEBP":
                continue
            return fmt
    low = name.lower()
    if low.endswith((".svg", ".svgz")) or b"<svg" in head[:1024]:
        return "svg"
    return None


def decode_text(data: bytes, truncated: bool) -> tuple[str, str] | None:
    """(text, encoding) when ``data`` reads as text, else None (binary)."""
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    for bom, enc in boms:
        if data.startswith(bom):
            try:
                return data.decode(enc, "replace"), enc.removesuffix("-sig").upper()
            except UnicodeDecodeError:
                return None
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        # a capped read may cut a multi-byte character in two at the very end
        if truncated and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8"), "UTF-8"
    sample = data[:8192]
    printable = sum(1 for b in sample if b >= 0x20 or b in (9, 10, 13))
    if sample and printable / len(sample) > 0.95:
        return data.decode("latin-1"), "ISO-8859-1"
    return None


def hexdump(data: bytes) -> str:
    """``offset  hex bytes  text`` lines, 16 bytes each."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        hexpart = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{off:08x}  {hexpart:<47}  {text}")
    return "\n".join(lines)


def preview(archive: Archive, layer: LayerIndex, entry: Entry, name: str = "") -> Preview:
    """Preview one file entry of ``layer``. Raises LayerScopeError for unreadable data."""
    size = entry.size
    if size == 0:
        return Preview(PreviewKind.EMPTY, 0, 0)
    head = read_content(archive, layer.desc, entry, limit=min(size, 4096))
    fmt = image_format(head, name or entry.path)
    if fmt is not None and fmt != "svg" and size <= PREVIEW_IMAGE_CAP:
        data = read_content(archive, layer.desc, entry)
        return Preview(PreviewKind.IMAGE, size, len(data), image_format=fmt, data=data)
    data = head if size <= len(head) else read_content(archive, layer.desc, entry, limit=PREVIEW_TEXT_CAP)
    if fmt == "svg" and size <= PREVIEW_IMAGE_CAP:
        full = data if len(data) == size else read_content(archive, layer.desc, entry)
        text = full.decode("utf-8", "replace")
        return Preview(PreviewKind.IMAGE, size, len(full), image_format="svg", data=full, text=text)
    decoded = decode_text(data, truncated=len(data) < size)
    if decoded is not None:
        return Preview(PreviewKind.TEXT, size, len(data), text=decoded[0], encoding=decoded[1])
    data = data[:PREVIEW_HEX_CAP]
    return Preview(PreviewKind.HEX, size, len(data), text=hexdump(data))
