"""One finding, and the redacted form in which a secret is shown anywhere (text, JSON, GUI)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .rules import Rule, Severity


class Hidden(StrEnum):
    """How a later layer hid the stored bytes: still shipped either way."""

    DELETED = "deleted"
    SHADOWED = "shadowed"


@dataclass(frozen=True, slots=True)
class Redacted:
    """A secret as LayerScope shows it: what kind it is, its first characters, its length, its line.

    Never more than 4 characters, and never more than half the value, so a short password is not
    shown whole.
    """

    kind: str
    prefix: str
    length: int
    line: int | None = None

    def __str__(self) -> str:
        where = f", line {self.line}" if self.line is not None else ""
        return f'{self.kind} "{self.prefix}…" ({self.length} characters{where})'


def redact(kind: str, value: bytes | str, line: int | None = None) -> Redacted:
    """The redacted form of ``value``: only its first characters (see Redacted) are kept."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    shown = text[: min(4, len(text) // 2)]
    printable = "".join(c if c.isprintable() and c not in '"\\' else "?" for c in shown)
    return Redacted(kind, printable, len(text), line)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something risky the image ships.

    ``path`` is the image path (``/etc/x``), None for findings of the config or history. ``layer`` is
    the layer that stores the bytes (for a history step, the layer it made; None when there is none),
    ``hidden_by`` the later layer that deleted or shadowed them (``hidden`` says which) or None when
    the final filesystem still shows them. ``secret`` is the redacted secret, when there is one;
    ``detail`` says what was found in one line, secrets only in their redacted form.
    """

    rule: Rule
    path: str | None
    layer: int | None
    detail: str
    hidden_by: int | None = None
    hidden: Hidden | None = None
    secret: Redacted | None = None

    @property
    def severity(self) -> Severity:
        """The rule's severity."""
        return self.rule.severity

    @property
    def shipped_hidden(self) -> bool:
        """True when a later layer hid the bytes but the image still ships them."""
        return self.hidden_by is not None

    def where(self) -> str:
        """The layers in words: "layer 3", "layer 3, deleted by layer 4: still shipped"."""
        if self.layer is None:
            return "config" if self.path is None else "?"
        if self.hidden_by is None:
            return f"layer {self.layer}"
        how = self.hidden.value if self.hidden is not None else "hidden"
        return f"layer {self.layer}, {how} by layer {self.hidden_by}: still shipped"

    def as_json(self) -> dict[str, object]:
        """The finding as ``audit --json`` lists it."""
        return {
            "rule": self.rule.value,
            "severity": self.severity.value,
            "path": self.path,
            "layer": self.layer,
            "hidden_by": self.hidden_by,
            "detail": self.detail,
        }
