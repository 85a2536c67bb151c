"""dive's three CI rules: their thresholds from defaults, a `.dive-ci` file (both key spellings) and
the command line, checked before any image is read, and judged against dive's figures."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .dive_figures import DiveFigures
from .errors import LayerScopeError


class Rule(NamedTuple):
    """One of dive's rules: its ``.dive-ci`` key in both spellings and its default threshold."""

    name: str
    kebab: str
    default: str


RULES = {
    r.name: r
    for r in (
        Rule("lowestEfficiency", "lowest-efficiency", "0.9"),
        Rule("highestWastedBytes", "highest-wasted-bytes", "disabled"),
        Rule("highestUserWastedPercent", "highest-user-wasted-percent", "0.1"),
    )
}
"""The rules by their camelCase name, in the order dive documents them."""

DISABLED = "disabled"
"""The value that turns a rule off."""

_KEYS = {key: r.name for r in RULES.values() for key in (r.name, r.kebab)}
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
    """``20MB`` / ``19Mb`` -> 20000000 / 19000000; ``1MiB`` -> 1048576 (units are case-insensitive).

    Raises ValueError."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a byte size: {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _did_you_mean(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"


def _rule_key(key: str, line: int, path: Path) -> str | None:
    """The rule a ``rules:`` key names; None for a dive plugin's rule (``plugin/rule``), which dive 0.13
    ignores as well. Raises LayerScopeError for any other key."""
    if key in _KEYS:
        return _KEYS[key]
    if "/" in key:
        return None
    raise LayerScopeError(f"line {line}: unknown rule {key!r}{_did_you_mean(key, list(_KEYS))}", path)


def read_dive_ci(path: Path) -> dict[str, str]:
    """Rule name -> value from a .dive-ci file (the YAML dive writes: a ``rules:`` mapping of
    ``key: value`` lines, and dive's ``plugins:`` list, which is skipped).

    Raises LayerScopeError for an unreadable or non-UTF-8 file, an unknown key or section, and a line
    that is not ``key: value``."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise LayerScopeError(f"cannot read CI config ({exc.strerror})", path) from exc
    except UnicodeDecodeError as exc:
        raise LayerScopeError(
            f"CI config is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})", path
        ) from exc
    found: dict[str, str] = {}
    section = ""
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped == "---":
            continue
        key, colon, value = stripped.partition(":")
        key, value = key.strip(), value.strip().strip("\"'")
        if not line.startswith((" ", "\t")):
            if not colon or value or key not in ("rules", "plugins"):
                hint = " (it belongs under 'rules:')" if key in _KEYS else _did_you_mean(key, ["rules"])
                raise LayerScopeError(f"line {n}: {stripped!r} is not a section of .dive-ci{hint}", path)
            section = key
        elif section == "plugins":
            continue  # dive's plugin list; dive 0.13 runs no plugins
        elif not colon or not key or not value:
            raise LayerScopeError(f"line {n}: {stripped!r} is not 'rule: value'", path)
        else:
            name = _rule_key(key, n, path)
            if name is not None:
                found[name] = value
    return found


def check_value(name: str, value: str) -> str:
    """``value`` when it is a threshold rule ``name`` can take, or 'disabled'.

    lowestEfficiency takes a ratio from 0 to 1, highestUserWastedPercent a ratio of 0 or more,
    highestWastedBytes a byte size (``20MB``). Raises ValueError saying what is wrong."""
    if value.strip().lower() == DISABLED:
        return value
    if name == "highestWastedBytes":
        parse_bytes(value)
        return value
    try:
        x = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number (a ratio such as 0.9, or 'disabled')") from None
    if name == "lowestEfficiency" and not 0 <= x <= 1:
        raise ValueError(f"{value} is not a ratio from 0 to 1 (0.9 means 90 %)")
    if not 0 <= x < float("inf"):
        raise ValueError(f"{value} is not a ratio of 0 or more (0.1 means 10 %)")
    return value


def load_rules(config: str | None, options: Mapping[str, str | None]) -> dict[str, str]:
    """Rule name -> threshold: dive's defaults, then the .dive-ci file ``config`` (default: ./.dive-ci
    if there is one), then ``options`` (rule name -> command-line value or None).

    Raises LayerScopeError for a bad file or a bad threshold, naming where it came from."""
    values = {r.name: r.default for r in RULES.values()}
    cfg = Path(config) if config else Path(".dive-ci")
    if config or cfg.is_file():
        for name, value in read_dive_ci(cfg).items():
            try:
                values[name] = check_value(name, value)
            except ValueError as exc:
                raise LayerScopeError(f"{name}: {exc}", cfg) from exc
    for name, option in options.items():
        if option is not None:
            try:
                values[name] = check_value(name, option)
            except ValueError as exc:
                raise LayerScopeError(f"--{RULES[name].kebab}: {exc}") from exc
    return values


def evaluate(values: dict[str, str], figs: DiveFigures) -> list[dict[str, Any]]:
    """PASS/FAIL/SKIP per rule, in dive's order. Raises LayerScopeError for a threshold that
    check_value would refuse."""
    out: list[dict[str, Any]] = []
    for name in ("highestUserWastedPercent", "highestWastedBytes", "lowestEfficiency"):
        raw = values[name]
        if raw.strip().lower() == DISABLED:
            out.append(
                {"name": name, "status": "skip", "value": None, "threshold": None, "detail": "disabled"}
            )
            continue
        try:
            threshold: float = parse_bytes(raw) if name == "highestWastedBytes" else float(raw)
        except ValueError as exc:
            raise LayerScopeError(f"invalid value for {name}: {raw!r}") from exc
        value, failed, detail = _judge(name, raw, threshold, figs)
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


def _judge(name: str, raw: str, threshold: float, figs: DiveFigures) -> tuple[float, bool, str]:
    """(the image's value, whether the rule fails, dive's detail text) for one rule."""
    if name == "lowestEfficiency":
        value: float = figs.efficiency
        failed = value < threshold
        if failed:
            return (
                value,
                failed,
                f"image efficiency is too low (efficiency={value:.4g} < threshold={threshold:g})",
            )
        return value, failed, f"{threshold:g}"
    if name == "highestWastedBytes":
        value = figs.wasted_bytes
        failed = value > threshold
        if failed:
            return value, failed, f"too many bytes wasted (wasted-bytes={value} > threshold={int(threshold)})"
        return value, failed, raw
    value = figs.user_wasted_percent
    failed = value > threshold
    if failed:
        return (
            value,
            failed,
            "too many bytes wasted, relative to the user bytes added "
            f"(%-user-wasted-bytes={value:.2f} > threshold={threshold:g})",
        )
    return value, failed, f"{threshold:g}"
