"""The Layer tab: the selected layer's descriptor, sizes, history entry and warnings as text."""

from __future__ import annotations

from PySide6.QtWidgets import QPlainTextEdit

from layerscope.core.display import exact_size, readable_command, redact_secrets
from layerscope.core.session import LoadedImage


class LayerInfoPanel(QPlainTextEdit):
    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)

    def show_layer(self, session: LoadedImage | None, layer: int | None) -> None:
        """Describe ``layer`` of ``session`` (nothing when either is None)."""
        if session is None or layer is None:
            self.setPlainText("")
            return
        self.setPlainText("\n".join(layer_description(session, layer)))


def layer_description(s: LoadedImage, layer: int) -> list[str]:
    """The Layer tab's lines for ``layer``."""
    li = s.layers[layer]
    d = li.desc
    h = d.history
    lines = [
        f"Layer #{d.index} of {len(s.layers)}",
        f"digest:        {d.digest or '(unknown)'}",
        f"diff_id:       {d.diff_id or '(unknown)'}",
        f"media type:    {d.media_type or '(none)'}",
        f"compression:   {d.compression}{' (eStargz)' if d.estargz else ''}",
        f"stored size:   {exact_size(d.size)}",
        f"tar size:      {exact_size(li.uncompressed_size)}",
        f"entries:       {li.members:,}",
        f"created:       {h.created if h and h.created else '(not recorded)'}",
        f"author:        {h.author if h and h.author else ''}",
        "",
        "command:",
        redact_secrets(h.text) if h else "(no history)",
    ]
    if h is not None and h.text:
        lines += ["", "readable:", readable_command(h.text)]
    if li.metadata:
        lines += ["", "metadata entries (not files):"] + [
            f"  {e.path} ({exact_size(e.size)})" for e in li.metadata
        ]
    if d.annotations:
        lines += ["", "annotations:"] + [f"  {k}: {v}" for k, v in d.annotations.items()]
    if li.warnings:
        lines += ["", "warnings:"] + [f"  {w}" for w in li.warnings]
    return lines
