"""Mutation plans: what to do to a seed, drawn at random, as plain JSON (so a failure is reproduced from
its plan).

A plan is ``{"seed": i, "ops": [...], "bytes": [...], "outer": ..., "post": [...], "dir": bool,
"fork": bool}``:

* ``ops``: changes to the archive's members (see :func:`tests.fuzz.cases.apply_model_op`):
  ``["json", which, where, how, seed]``, ``["layer", which, inner_ops, recompress, seed]`` (the
  layer decompressed, given byte ops and ``["inject", at, kind, seed]`` hostile members, compressed
  again), ``["swap", a, b]``, ``["drop", a]``, ``["dup", a, half]``, ``["link", a, target, how]``;
* ``bytes``: byte ops on the archive written as tar (see :mod:`tests.fuzz.bytemut`);
* ``outer``: ``"none"``, ``"gzip"`` or ``"zstd"`` around the whole archive, ``post``: byte ops after it;
* ``dir``: unpack the archive to a folder; ``fork``: index the layers in worker processes.

Every number is reduced modulo whatever it indexes, so any plan applies to any seed.
"""

from __future__ import annotations

import random
from typing import Any

from tests.fuzz.bytemut import FIELD_HOWS
from tests.fuzz.compression import RECOMPRESS
from tests.fuzz.hostile import INJECT_KINDS
from tests.fuzz.jsonmut import JSON_HOWS
from tests.fuzz.tarfmt import FIELD_NAMES

#: A mutation plan (JSON).
Plan = dict[str, Any]


def _big(rng: random.Random) -> int:
    return rng.randrange(1 << 32)


def _header_op(rng: random.Random, kind: str) -> list[Any]:
    return [
        kind,
        _big(rng),
        rng.choice(FIELD_NAMES),
        rng.randrange(FIELD_HOWS),
        rng.random() < 0.7,
        _big(rng),
    ]


def _byte_ops(rng: random.Random, n: int, header_kind: str) -> list[list[Any]]:
    ops: list[list[Any]] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.45:
            ops.append(_header_op(rng, header_kind))
        elif r < 0.75:
            ops.append(["flip", _big(rng), rng.choice([1, 1, 2, 4, 16]), _big(rng)])
        elif r < 0.9:
            ops.append(["trunc", _big(rng)])
        else:
            ops.append(["zero", _big(rng), rng.choice([1, 512, 1024, 4096])])
    return ops


def make_plan(rng: random.Random, n_seeds: int) -> Plan:
    """A random mutation plan."""
    ops: list[list[Any]] = []
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        r = rng.random()
        if r < 0.3:
            ops.append(["json", _big(rng), _big(rng), rng.randrange(JSON_HOWS), _big(rng)])
        elif r < 0.65:
            inner = _byte_ops(rng, rng.choice([0, 1, 1, 2]), "ihdr")
            if rng.random() < 0.5:
                inner.insert(0, ["inject", _big(rng), rng.randrange(INJECT_KINDS), _big(rng)])
            ops.append(["layer", _big(rng), inner, rng.choice(RECOMPRESS), _big(rng)])
        elif r < 0.75:
            ops.append(["swap", _big(rng), _big(rng)])
        elif r < 0.82:
            ops.append(["drop", _big(rng)])
        elif r < 0.87:
            ops.append(["dup", _big(rng), rng.random() < 0.5])
        else:
            ops.append(["link", _big(rng), _big(rng), rng.randrange(6)])
    byte_ops = _byte_ops(rng, rng.choice([0, 0, 0, 1, 1, 2]), "hdr")
    outer = rng.choice(["none"] * 8 + ["gzip", "zstd"])
    post = _byte_ops(rng, rng.choice([0, 0, 1]), "hdr") if outer != "none" else []
    if not ops and not byte_ops and not post:
        ops.append(["json", _big(rng), _big(rng), rng.randrange(JSON_HOWS), _big(rng)])
    return {
        "seed": rng.randrange(n_seeds),
        "ops": ops,
        "bytes": byte_ops,
        "outer": outer,
        "post": post,
        "dir": rng.random() < 0.08,
        "fork": rng.random() < 0.1,
    }


def plain_plan(seed: int, ops: list[list[Any]] | None = None) -> Plan:
    """A plan that applies ``ops`` (none: the seed as it is) and nothing else."""
    return {
        "seed": seed,
        "ops": ops or [],
        "bytes": [],
        "outer": "none",
        "post": [],
        "dir": False,
        "fork": False,
    }
