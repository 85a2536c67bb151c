"""How the CLI and the window show engine values to people: sizes, modes, history commands."""

from __future__ import annotations

import functools
from collections.abc import Callable

from .kinds import EntryType

_naturalsize: Callable[..., str] | None = None


def human_size(n: int) -> str:
    """``1234567`` -> ``1.2 MB``, ``116`` -> ``116 bytes`` (decimal units, as dive and docker print
    them: the one unit system the CLI and the window use)."""
    if abs(n) < 1000:
        return plural(n, "byte")
    global _naturalsize
    if _naturalsize is None:
        # imported once, where something is first shown (not at every call: an import statement runs
        # PySide's import hook in Python, a cost per row when a table is filled)
        from humanize import naturalsize

        _naturalsize = naturalsize
    return str(_naturalsize(n, binary=False))


def exact_size(n: int) -> str:
    """``116`` -> ``116 bytes``; ``7612345`` -> ``7.6 MB (7,612,345 bytes)``: the exact count once."""
    if abs(n) < 1000:
        return plural(n, "byte")
    return f"{human_size(n)} ({n:,} bytes)"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1, "entry"`` -> ``1 entry``; ``3, "entry"`` -> ``3 entries``; ``2, "key"`` -> ``2 keys``.

    ``many`` spells an irregular plural; otherwise ``-y`` after a consonant becomes ``-ies``, ``-s``,
    ``-x``, ``-ch`` and ``-sh`` take ``-es``, and anything else ``-s``. Counts get thousands separators.
    """
    if n == 1:
        return f"1 {word}"
    if many is None:
        if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
            many = word[:-1] + "ies"
        elif word.endswith(("s", "x", "ch", "sh")):
            many = word + "es"
        else:
            many = word + "s"
    return f"{n:,} {many}"


def readable_command(created_by: str) -> str:
    """``/bin/sh -c #(nop)  CMD ["sh"]`` -> ``CMD ["sh"]``; ``/bin/sh -c apt ...`` -> ``RUN apt ...``,
    with each secret value the step spells out in its redacted form (``redact_secrets``): how a build
    step is shown anywhere (the timeline, History, the CLI). ``plain_command`` keeps them."""
    return redact_secrets(plain_command(created_by))


@functools.lru_cache(maxsize=4096)
def redact_secrets(command: str) -> str:
    """A build step's command line with the secrets the audit finds in it (core/audit/history.py)
    in their redacted form."""
    global _redacted_command
    if _redacted_command is None:
        from .audit.history import redacted_command  # the audit imports this module

        _redacted_command = redacted_command
    return _redacted_command(command)


_redacted_command: Callable[[str], str] | None = None


def plain_command(created_by: str) -> str:
    """``readable_command`` with secrets as they are: for the audit, which looks for them."""
    s = created_by.strip()
    for prefix in ("/bin/sh -c #(nop) ", "|0 /bin/sh -c #(nop) "):
        if s.startswith(prefix):
            return s[len(prefix) :].strip()
    if s.startswith("/bin/sh -c "):
        return "RUN " + s[len("/bin/sh -c ") :].strip()
    if s.startswith("RUN /bin/sh -c "):
        return "RUN " + s[len("RUN /bin/sh -c ") :].strip()
    return s.removesuffix(" # buildkit").strip()


_TYPE_CHAR: dict[str, str] = {
    EntryType.DIR: "d",
    EntryType.SYMLINK: "l",
    EntryType.CHAR: "c",
    EntryType.BLOCK: "b",
    EntryType.FIFO: "p",
    EntryType.SOCKET: "s",
}


def mode_string(kind: str, mode: int) -> str:
    """``-rwxr-xr-x`` style, with setuid/setgid/sticky; ``kind`` is an EntryType (or its word)."""
    chars = _TYPE_CHAR.get(kind, "-")
    for who in range(3):
        bits = (mode >> (6 - 3 * who)) & 7
        r = "r" if bits & 4 else "-"
        w = "w" if bits & 2 else "-"
        x = "x" if bits & 1 else "-"
        special = mode & (0o4000 >> who)
        if special:
            x = ("s" if who < 2 else "t") if bits & 1 else ("S" if who < 2 else "T")
        chars += r + w + x
    return chars
