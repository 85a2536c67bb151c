"""What a file looks like: text (with its encoding), an image, or a hex dump, from a capped read.

Only the first ``cap`` bytes of a file are read for text and hex, so a large file previews without
being loaded whole; images are read whole up to ``IMAGE_CAP``.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from .archive import Archive
from .layers import LayerIndex, read_content
from .tarindex import Entry

TEXT_CAP = 256 * 1024
HEX_CAP = 16 * 1024
IMAGE_CAP = 32 * 1024 * 1024

_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"BM", "bmp"),
    (b"RIFF", "webp"),
)


@dataclass(frozen=True, slots=True)
class Preview:
    kind: str  # text | image | hex | empty
    size: int  # the file's full size
    shown: int  # bytes shown
    text: str = ""
    encoding: str = ""
    image_format: str = ""
    data: bytes = b""

    @property
    def truncated(self) -> bool:
        return self.shown < self.size

    def note(self) -> str:
        if self.kind == "empty":
            return "empty file"
        what = {
            "text": f"text ({self.encoding})",
            "image": f"{self.image_format.upper()} image",
            "hex": "binary (hex)",
        }[self.kind]
        if self.truncated:
            return f"{what}: first {self.shown:,} of {self.size:,} bytes"
        return f"{what}, {self.size:,} bytes"


def image_format(head: bytes, name: str) -> str | None:
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
        return Preview("empty", 0, 0)
    head = read_content(archive, layer.desc, entry, limit=min(size, 4096))
    fmt = image_format(head, name or entry.path)
    if fmt is not None and fmt != "svg" and size <= IMAGE_CAP:
        data = read_content(archive, layer.desc, entry)
        return Preview("image", size, len(data), image_format=fmt, data=data)
    data = head if size <= len(head) else read_content(archive, layer.desc, entry, limit=TEXT_CAP)
    if fmt == "svg" and size <= IMAGE_CAP:
        full = data if len(data) == size else read_content(archive, layer.desc, entry)
        return Preview(
            "image", size, len(full), image_format="svg", data=full, text=full.decode("utf-8", "replace")
        )
    text = decode_text(data, truncated=len(data) < size)
    if text is not None:
        return Preview("text", size, len(data), text=text[0], encoding=text[1])
    data = data[:HEX_CAP]
    return Preview("hex", size, len(data), text=hexdump(data))
