"""JSON mutations: a document (manifest, index, config) parsed and changed: a key removed, a value
retyped (null, list, dict, int, str, bool), huge numbers, deep nesting, hostile strings, long lists,
damaged text, or replaced by another document of the archive.

``how`` (``0 <= how < JSON_HOWS``) picks the change, ``where`` the value in the document.
"""

from __future__ import annotations

import json
import random
from typing import Any

from tests.fuzz.members import Member

#: How many ways :func:`mutate_json` has to change a document.
JSON_HOWS = 20

_DEEP = "\x00DEEP\x00"


def walk_json(doc: Any, limit: int = 5000) -> list[tuple[Any, Any]]:
    """(container, key) of every value in ``doc`` (the root as (None, None)), depth first."""
    out: list[tuple[Any, Any]] = [(None, None)]
    stack = [doc]
    while stack and len(out) < limit:
        v = stack.pop()
        if isinstance(v, dict):
            for k in list(v):
                out.append((v, k))
                stack.append(v[k])
        elif isinstance(v, list):
            for i in range(len(v)):
                out.append((v, i))
                stack.append(v[i])
    return out


def mutate_json(raw: bytes, where: int, how: int, seed: int, other: bytes) -> bytes:
    """The document ``raw`` changed in way ``how`` at value ``where`` (``other``: another document)."""
    rng = random.Random(seed)
    if how == 17:  # damaged text
        choice = rng.randrange(6)
        if choice == 0:
            return raw[: rng.randrange(len(raw) + 1)]
        if choice == 1:
            return raw + b"garbage"
        if choice == 2:
            return b"\xef\xbb\xbf" + raw
        if choice == 3:
            return raw.decode("utf-8", "replace").encode("utf-16")
        if choice == 4:
            return b'{"a": NaN, "b": Infinity, "manifests": -Infinity}'
        return b"   "
    if how == 18:
        return other
    doc = json.loads(raw)
    nodes = walk_json(doc)
    parent, key = nodes[where % len(nodes)]
    deep_depth = rng.choice([50, 990, 10000])
    values: dict[int, Any] = {
        1: None,
        2: [],
        3: {},
        4: 0,
        5: -1,
        6: 10**30,
        7: 1e308,
        8: "str",
        9: True,
        10: _DEEP,
        11: "x" * 100000,
        12: rng.choice(
            [
                "../../outside/canary",
                "/etc/passwd",
                "sha256:" + "0" * 64,
                "sha256:abc",
                "sha256:../../x",
                "",
                "\x00",
                "blobs/sha256/../../outside",
            ]
        ),
        14: [0] * rng.choice([1000, 100000]),
        15: -(10**30),
        16: 1.5,
    }
    if parent is None:
        if how == 0:
            return b"{}"
        new: Any = values.get(how, doc)
        if how == 13:
            new = [doc]
        elif how == 19 and isinstance(doc, list):
            new = doc * rng.choice([2, 1000])
        doc = new
    elif how == 0:
        del parent[key]
    elif how == 13:
        parent[key] = [parent[key]]
    elif how == 19:
        v = parent[key]
        parent[key] = v * rng.choice([2, 1000]) if isinstance(v, list | str) else [v, v]
    else:
        parent[key] = values[how]
    text = json.dumps(doc)
    if _DEEP in text:
        text = text.replace(json.dumps(_DEEP), "[" * deep_depth + "]" * deep_depth)
    return text.encode()


def is_json(m: Member) -> bool:
    """Whether a member is a regular file holding a JSON document (at most 1 MiB)."""
    if not m.info.isfile() or not m.data or len(m.data) > 1 << 20 or m.data.lstrip()[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(m.data)
    except ValueError:
        return False
    return True
