"""Pair the config's build history with the layers it made."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .records import HistoryStep


def _step(h: dict[str, Any]) -> HistoryStep:
    return HistoryStep(
        created=str(h["created"]) if h.get("created") else None,
        created_by=str(h.get("created_by") or ""),
        comment=str(h.get("comment") or ""),
        author=str(h.get("author") or ""),
        empty_layer=bool(h.get("empty_layer")),
        layer=None,
    )


def align_history(
    config: dict[str, Any], layer_count: int, warnings: list[str]
) -> tuple[tuple[HistoryStep, ...], tuple[HistoryStep, ...]]:
    """Pair history steps with layers: 1:1 over the non-empty steps when the counts agree.

    Returns (every step, in order; the step of each layer). When the counts disagree a warning says
    so, steps pair forward as far as they go, and every layer still gets a step (an anonymous one,
    added at the end, when history runs out).
    """
    raw = config.get("history")
    steps = [_step(h) for h in raw if isinstance(h, dict)] if isinstance(raw, list) else []
    nonempty = [i for i, s in enumerate(steps) if not s.empty_layer]
    if steps and len(nonempty) != layer_count:
        warnings.append(
            f"history has {len(nonempty)} layer step(s) for {layer_count} layer(s); paired from the bottom"
        )
    per_layer: list[HistoryStep] = []
    for layer in range(layer_count):
        if layer < len(nonempty):
            at = nonempty[layer]
            steps[at] = replace(steps[at], layer=layer)
            per_layer.append(steps[at])
        else:
            step = HistoryStep(None, "", "", "", False, layer)
            steps.append(step)
            per_layer.append(step)
    return tuple(steps), tuple(per_layer)
