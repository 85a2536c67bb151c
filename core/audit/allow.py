"""What the user accepts: rules and paths the audit does not report, from a ``.layerscope-audit`` file
and the command line, as a ``.dive-ci`` file does for dive's rules (core/rules.py).

The file is a small YAML subset::

    # rules not reported anywhere
    rules:
      - running-as-root
    # paths not reported for any rule: * within one name, ** across folders
    paths:
      - /opt/app/tests/**
    # one rule not reported at some paths
    allow:
      - setuid: /usr/bin/*

It is read before any image is, so that a mistake in it costs no load.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LayerScopeError
from .finding import Finding
from .rules import Rule, parse_rule

DEFAULT_FILE = ".layerscope-audit"
"""The allow-list read from the current folder when no other is named."""

_SECTIONS = ("rules", "paths", "allow")


def path_pattern(glob: str) -> re.Pattern[str]:
    """A path glob as an expression over image paths: ``*`` and ``?`` stay within one name, ``**``
    crosses folders; a leading ``/`` is optional. Raises ValueError for an empty glob."""
    g = glob.strip().lstrip("/")
    if not g:
        raise ValueError("an empty path pattern")
    out = []
    i = 0
    while i < len(g):
        if g.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif g.startswith("**", i):
            out.append(".*")
            i += 2
        elif g[i] == "*":
            out.append("[^/]*")
            i += 1
        elif g[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(g[i]))
            i += 1
    return re.compile("/" + "".join(out))


@dataclass(frozen=True, slots=True)
class AllowList:
    """Rules not reported anywhere, paths not reported for any rule, and (rule, path) pairs."""

    rules: frozenset[Rule] = frozenset()
    paths: tuple[str, ...] = ()
    rule_paths: tuple[tuple[Rule, str], ...] = ()
    _paths: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)
    _rule_paths: tuple[tuple[Rule, re.Pattern[str]], ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def of(
        cls,
        rules: Iterable[Rule] = (),
        paths: Iterable[str] = (),
        rule_paths: Iterable[tuple[Rule, str]] = (),
    ) -> AllowList:
        """An allow-list of these; raises ValueError for an empty path pattern."""
        ps, rps = tuple(paths), tuple(rule_paths)
        return cls(
            frozenset(rules),
            ps,
            rps,
            tuple(path_pattern(p) for p in ps),
            tuple((r, path_pattern(p)) for r, p in rps),
        )

    def merged(self, other: AllowList) -> AllowList:
        """Both allow-lists in one."""
        return AllowList.of(
            self.rules | other.rules, self.paths + other.paths, self.rule_paths + other.rule_paths
        )

    def allows(self, f: Finding) -> bool:
        """True when ``f`` is not to be reported."""
        if f.rule in self.rules:
            return True
        if f.path is None:
            return False
        if any(p.fullmatch(f.path) for p in self._paths):
            return True
        return any(r is f.rule and p.fullmatch(f.path) for r, p in self._rule_paths)


def read_allow_file(path: Path) -> AllowList:
    """The allow-list a ``.layerscope-audit`` file names (format: this module's docstring).

    Raises LayerScopeError for an unreadable or non-UTF-8 file, an unknown section or rule, and a line
    that is not ``- item`` under a section."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise LayerScopeError(f"cannot read audit allow-list ({exc.strerror})", path) from exc
    except UnicodeDecodeError as exc:
        raise LayerScopeError(f"audit allow-list is not UTF-8 text (offset {exc.start})", path) from exc
    rules: list[Rule] = []
    paths: list[str] = []
    pairs: list[tuple[Rule, str]] = []
    section = ""
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped == "---":
            continue
        try:
            if not line.startswith((" ", "\t", "-")):
                key, colon, rest = stripped.partition(":")
                if not colon or rest.strip() or key.strip() not in _SECTIONS:
                    raise ValueError(f"{stripped!r} is not a section (sections: {', '.join(_SECTIONS)})")
                section = key.strip()
                continue
            if not stripped.startswith("- ") or not section:
                raise ValueError(f"{stripped!r} is not '- item' under a section")
            item = stripped[2:].strip().strip("\"'")
            if section == "rules":
                rules.append(parse_rule(item))
            elif section == "paths":
                path_pattern(item)
                paths.append(item)
            else:
                rule, colon, glob = item.partition(":")
                if not colon:
                    raise ValueError(f"{item!r} is not 'rule: path'")
                glob = glob.strip().strip("\"'")
                path_pattern(glob)
                pairs.append((parse_rule(rule), glob))
        except ValueError as exc:
            raise LayerScopeError(f"line {n}: {exc}", path) from exc
    return AllowList.of(rules, paths, pairs)


def load_allow_list(config: str | None, rules: Iterable[str] = (), paths: Iterable[str] = ()) -> AllowList:
    """The allow-list of the file ``config`` (default: ./.layerscope-audit when there is one) plus the
    command line's rules and paths. Raises LayerScopeError naming the bad file, rule or pattern."""
    cfg = Path(config) if config else Path(DEFAULT_FILE)
    base = read_allow_file(cfg) if config or cfg.is_file() else AllowList()
    try:
        extra = AllowList.of([parse_rule(r) for r in rules], list(paths))
    except ValueError as exc:
        raise LayerScopeError(f"--allow: {exc}") from exc
    return base.merged(extra)
