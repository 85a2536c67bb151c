"""Extended headers: PAX records (for one member or, global, for all after) and GNU long names.

They come before the member they describe; ``Pending`` keeps what has been read until that member
arrives, and hands it over merged (the member's own PAX records win over the global ones).
"""

from __future__ import annotations

from ..errors import CorruptArchive
from ..limits import MAX_XATTR_BYTES
from .header import GNU_LONGLINK, GNU_LONGNAME, PAX_GLOBAL, PAX_LOCAL, cstr, text

PaxRecords = dict[str, str | bytes]
"""PAX key -> value: text, except extended attributes, which stay bytes."""

XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")
"""PAX keys of extended attributes (GNU tar / star, and libarchive)."""


def parse_pax(data: bytes, path_hint: str) -> PaxRecords:
    """PAX records ``"<len> <key>=<value>\\n"``. Raises CorruptArchive (naming ``path_hint``)."""
    out: PaxRecords = {}
    pos = 0
    n = len(data)
    while pos < n:
        if data[pos] == 0:
            break
        sp = data.find(b" ", pos)
        if sp < 0:
            raise CorruptArchive(f"malformed PAX header near {path_hint!r}")
        try:
            length = int(data[pos:sp])
        except ValueError as exc:
            raise CorruptArchive(f"malformed PAX record length near {path_hint!r}") from exc
        if length <= 0 or pos + length > n:
            raise CorruptArchive(f"malformed PAX record near {path_hint!r}")
        rec = data[sp + 1 : pos + length - 1]  # without the trailing newline
        eq = rec.find(b"=")
        if eq < 0:
            raise CorruptArchive(f"malformed PAX record near {path_hint!r}")
        key = rec[:eq].decode("utf-8", "replace")
        val = rec[eq + 1 :]
        out[key] = val if key.startswith(XATTR_PREFIXES) else val.decode("utf-8", "surrogateescape")
        pos += length
    return out


def pax_int(pax: PaxRecords, key: str, default: int) -> int:
    """A PAX number (decimal, possibly with a fraction); ``default`` when absent or not a finite number."""
    v = pax.get(key)
    if not isinstance(v, str):
        return default
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return int(float(v))
    except (ValueError, OverflowError):  # "abc", "nan", "inf", "1e400"
        return default


def pax_xattrs(pax: PaxRecords) -> tuple[dict[str, bytes], int]:
    """(the extended attributes worth keeping, how many were left out): a real name, no NUL,
    MAX_XATTR_BYTES in all."""
    named = {k.split(".", 2)[2]: v for k, v in pax.items() if k.startswith(XATTR_PREFIXES)}
    out: dict[str, bytes] = {}
    total = 0
    for k, v in named.items():
        b = v if isinstance(v, bytes) else v.encode("utf-8", "surrogateescape")
        total += len(k) + len(b)
        if not k or "\x00" in k or total > MAX_XATTR_BYTES:
            continue
        out[k] = b
    return out, len(named) - len(out)


class Pending:
    """The extended headers read since the last member: they apply to the next one (global PAX
    records to every later one)."""

    __slots__ = ("active", "global_pax", "link", "name", "pax")

    def __init__(self) -> None:
        self.global_pax: PaxRecords = {}
        self.pax: PaxRecords = {}
        self.name: str | None = None  # GNU long name
        self.link: str | None = None  # GNU long link target
        self.active = False  # whether the next member has anything to take

    def add(self, typeflag: int, data: bytes) -> None:
        """Keep the data of one extended header. Raises CorruptArchive for malformed PAX records."""
        if typeflag == PAX_LOCAL:
            self.pax = parse_pax(data, self.name or "")
        elif typeflag == PAX_GLOBAL:
            self.global_pax.update(parse_pax(data, ""))
        elif typeflag == GNU_LONGNAME:
            self.name = text(cstr(data))
        elif typeflag == GNU_LONGLINK:
            self.link = text(cstr(data))
        self.active = True

    def take(self) -> tuple[PaxRecords | None, str | None, str | None]:
        """(PAX records, long name, long link) for the member that has arrived; local ones are reset."""
        pax = self.pax
        gpax = self.global_pax
        records = ({**gpax, **pax} if gpax else pax) if (pax or gpax) else None
        name, link = self.name, self.link
        self.clear()
        return records, name, link

    def clear(self) -> None:
        """Forget the local headers (a member that is skipped consumes them too)."""
        self.pax = {}
        self.name = self.link = None
        self.active = bool(self.global_pax)
