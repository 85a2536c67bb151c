"""What the two configs say differently: the run settings people set in a Dockerfile, the platform,
and the build history (steps added, removed, changed)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..archive.records import HistoryStep, ImageRecord
from ..kinds import ChangeKind


class ConfigKey(StrEnum):
    """A setting of the image config compared (the config's own spelling, as ``docker inspect`` shows)."""

    ENV = "Env"
    CMD = "Cmd"
    ENTRYPOINT = "Entrypoint"
    WORKING_DIR = "WorkingDir"
    USER = "User"
    EXPOSED_PORTS = "ExposedPorts"
    VOLUMES = "Volumes"
    LABELS = "Labels"
    PLATFORM = "platform"


@dataclass(frozen=True, slots=True)
class SettingChange:
    """A setting whose value differs: A's and B's (None where a side does not set it)."""

    key: ConfigKey
    a: Any
    b: Any


@dataclass(frozen=True, slots=True)
class StepChange:
    """A history step only in A (REMOVED), only in B (ADDED), or in both places changed (MODIFIED):
    its position in each side's history and its command there."""

    change: ChangeKind
    a: int | None
    b: int | None
    text_a: str | None
    text_b: str | None


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    """The settings that differ, in ``ConfigKey`` order, and the history steps that do."""

    settings: tuple[SettingChange, ...]
    history: tuple[StepChange, ...]

    @property
    def same(self) -> bool:
        """True when no setting and no step differs."""
        return not self.settings and not self.history

    @property
    def keys(self) -> list[str]:
        """The names of what differs, for a verdict: the settings, then ``history``."""
        return [str(s.key) for s in self.settings] + (["history"] if self.history else [])


def setting(image: ImageRecord, key: ConfigKey) -> Any:
    """The value of ``key`` in an image's config (None when unset); the platform as ``os/arch[/variant]``."""
    if key is ConfigKey.PLATFORM:
        c = image.config
        parts = [c.get("os"), c.get("architecture"), c.get("variant")]
        if not parts[0] and image.platform is not None:
            return str(image.platform)
        return "/".join(str(p) for p in parts if p) or None
    run = image.config.get("config")
    if not isinstance(run, dict):
        return None
    value = run.get(str(key))
    return None if value in (None, [], {}, "") else value


def _step_key(s: HistoryStep, strict: bool) -> tuple[object, ...]:
    return (s.created_by, s.comment, s.empty_layer, s.created if strict else None)


def compare_history(
    a: Sequence[HistoryStep], b: Sequence[HistoryStep], strict: bool = False
) -> list[StepChange]:
    """Steps added, removed and changed from A's history to B's, in order (matched as diff(1)
    matches lines; a step's creation time counts only when ``strict``)."""
    ka = [_step_key(s, strict) for s in a]
    kb = [_step_key(s, strict) for s in b]
    out: list[StepChange] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for k in range(pairs):
            out.append(StepChange(ChangeKind.MODIFIED, i1 + k, j1 + k, a[i1 + k].text, b[j1 + k].text))
        for i in range(i1 + pairs, i2):
            out.append(StepChange(ChangeKind.REMOVED, i, None, a[i].text, None))
        for j in range(j1 + pairs, j2):
            out.append(StepChange(ChangeKind.ADDED, None, j, None, b[j].text))
    return out


def compare_config(
    a: ImageRecord,
    b: ImageRecord,
    strict: bool = False,
    history_a: Sequence[HistoryStep] | None = None,
    history_b: Sequence[HistoryStep] | None = None,
) -> ConfigDiff:
    """The settings and history steps that differ between A's config and B's (``history_*``: the
    steps to compare instead of the images' whole histories)."""
    settings = []
    for key in ConfigKey:
        va, vb = setting(a, key), setting(b, key)
        if va != vb:
            settings.append(SettingChange(key, va, vb))
    steps = compare_history(
        a.history if history_a is None else history_a, b.history if history_b is None else history_b, strict
    )
    return ConfigDiff(tuple(settings), tuple(steps))
