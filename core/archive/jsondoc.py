"""JSON documents of an archive (index, manifests, configs): parsed within limits, read defensively.

Every value comes from a file that may be hostile: sizes, nesting and the memory of all documents
together are bounded (see ``core.limits``), and the readers below never trust a field's type.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import limits
from ..errors import InvalidJSON
from .records import Platform


def load_json(raw: bytes, what: str, path: Path) -> Any:
    """Parse ``raw``. Raises InvalidJSON when empty, invalid, or nested past MAX_JSON_DEPTH."""
    if not raw.strip():
        raise InvalidJSON(f"{what} is empty", path)
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        msg = str(exc).split(":")[0] if isinstance(exc, ValueError) else "nested too deeply"
        raise InvalidJSON(f"{what} is not valid JSON ({msg})", path) from exc
    if too_deep(doc, limits.MAX_JSON_DEPTH):
        raise InvalidJSON(f"{what} is nested more than {limits.MAX_JSON_DEPTH} levels deep", path)
    return doc


def too_deep(doc: Any, limit: int) -> bool:
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


class JsonBudget:
    """The memory that parsing one archive's JSON documents may take, all documents together."""

    def __init__(self) -> None:
        self.cost = 0

    def charge(self, raw: bytes, what: str, path: Path) -> None:
        """Count ``raw`` against MAX_JSON_COST. Raises InvalidJSON past it."""
        self.cost += json_cost(raw)
        if self.cost > limits.MAX_JSON_COST:
            raise InvalidJSON(
                f"parsing {what} would take the archive's JSON documents past "
                f"{limits.MAX_JSON_COST >> 20:,} MB of memory; LayerScope stops there",
                path,
            )


def json_cost(raw: bytes) -> int:
    """Estimated memory of the parsed document: its text, and every object, array and value in it."""
    return 2 * len(raw) + 80 * (raw.count(b"{") + raw.count(b"[") + raw.count(b","))


# ---- reading fields of untrusted documents -----------------------------------------------------
def size_of(v: Any) -> int:
    """A size from JSON: a non-negative integer that fits in 63 bits, else 0."""
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 63 else 0


def str_list(v: Any) -> list[str]:
    """The strings of a JSON list (anything else: none)."""
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def short(v: object, n: int = 100) -> str:
    """``repr(v)``, cut to about ``n`` characters: values from a hostile document can be huge."""
    r = repr(v[: n + 1]) if isinstance(v, str) else repr(v)
    return r if len(r) <= n else r[:n] + "…"


def annotations_of(d: dict[str, Any]) -> dict[str, str]:
    """The ``annotations`` object of a descriptor, as strings (none when absent or not an object)."""
    a = d.get("annotations")
    return {str(k): str(v) for k, v in a.items()} if isinstance(a, dict) else {}


def platform_of(d: Any) -> Platform | None:
    """The platform an object names with ``os``/``architecture``/``variant``, or None."""
    if not isinstance(d, dict):
        return None
    os_ = d.get("os")
    arch = d.get("architecture")
    if not isinstance(os_, str) or not isinstance(arch, str) or not os_ or not arch:
        return None
    v = d.get("variant")
    return Platform(os_, arch, v if isinstance(v, str) and v else None)


def diff_ids_of(config: dict[str, Any]) -> list[str]:
    """The config's ``rootfs.diff_ids`` (the digests of the uncompressed layers)."""
    rootfs = config.get("rootfs")
    if isinstance(rootfs, dict) and isinstance(rootfs.get("diff_ids"), list):
        return [str(d) for d in rootfs["diff_ids"]]
    return []
