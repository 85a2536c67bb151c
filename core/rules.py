"""dive's three CI rules, its `.dive-ci` file (both key spellings) and its byte-size notation."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from .analysis import DiveFigures
from .errors import LayerScopeError

# rule name -> (kebab-case key, default)
RULES = {
    "lowestEfficiency": ("lowest-efficiency", "0.9"),
    "highestWastedBytes": ("highest-wasted-bytes", "disabled"),
    "highestUserWastedPercent": ("highest-user-wasted-percent", "0.1"),
}
_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "kib": 2**10,
    "m": 10**6,
    "mb": 10**6,
    "mib": 2**20,
    "g": 10**9,
    "gb": 10**9,
    "gib": 2**30,
    "t": 10**12,
    "tb": 10**12,
    "tib": 2**40,
}


def parse_bytes(text: str) -> int:
    """``20MB`` / ``19Mb`` -> 20000000 / 19000000; ``1MiB`` -> 1048576 (units are case-insensitive)."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a byte size: {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _read_dive_ci(path: Path) -> dict[str, str]:
    """The ``rules:`` mapping of a .dive-ci file (a small YAML subset: ``key: value`` lines)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LayerScopeError(f"cannot read CI config ({exc.strerror})", path) from exc
    rules: dict[str, str] = {}
    in_rules = False
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#") or line.strip() == "---":
            continue
        if not line.startswith((" ", "\t")):
            in_rules = line.strip() == "rules:"
            continue
        if in_rules and ":" in line:
            k, v = line.strip().split(":", 1)
            rules[k.strip()] = v.strip().strip("\"'")
    return rules


def load_rules(args: argparse.Namespace) -> dict[str, str]:
    """Thresholds from defaults, then the .dive-ci file, then command-line options."""
    values = {name: default for name, (_k, default) in RULES.items()}
    cfg = Path(args.ci_config) if args.ci_config else Path(".dive-ci")
    if args.ci_config or cfg.is_file():
        found = _read_dive_ci(cfg)
        for name, (kebab, _d) in RULES.items():
            for key in (name, kebab):
                if key in found:
                    values[name] = found[key]
    for name, (kebab, _d) in RULES.items():
        v = getattr(args, kebab.replace("-", "_"), None)
        if v is not None:
            values[name] = str(v)
    return values


def evaluate(values: dict[str, str], figs: DiveFigures) -> list[dict[str, Any]]:
    """PASS/FAIL/SKIP per rule, in dive's order."""
    out: list[dict[str, Any]] = []
    for name in ("highestUserWastedPercent", "highestWastedBytes", "lowestEfficiency"):
        raw = values[name]
        if raw.strip().lower() == "disabled":
            out.append(
                {"name": name, "status": "skip", "value": None, "threshold": None, "detail": "disabled"}
            )
            continue
        try:
            threshold: float = parse_bytes(raw) if name == "highestWastedBytes" else float(raw)
        except ValueError as exc:
            raise LayerScopeError(f"invalid value for {name}: {raw!r}") from exc
        if name == "lowestEfficiency":
            value: float = figs.efficiency
            failed = value < threshold
            detail = (
                f"image efficiency is too low (efficiency={value:.4g} < threshold={threshold:g})"
                if failed
                else f"{threshold:g}"
            )
        elif name == "highestWastedBytes":
            value = figs.wasted_bytes
            failed = value > threshold
            detail = (
                f"too many bytes wasted (wasted-bytes={value} > threshold={int(threshold)})"
                if failed
                else raw
            )
        else:
            value = figs.user_wasted_percent
            failed = value > threshold
            detail = (
                "too many bytes wasted, relative to the user bytes added "
                f"(%-user-wasted-bytes={value:.2f} > threshold={threshold:g})"
                if failed
                else f"{threshold:g}"
            )
        out.append(
            {
                "name": name,
                "status": "fail" if failed else "pass",
                "value": value,
                "threshold": threshold,
                "detail": detail,
            }
        )
    return out
