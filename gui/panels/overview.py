"""The overview: what an image is at a glance, shown in the File tab before anything is selected.

OS, sizes (the files a container sees, stored, uncompressed and compressed), layers, files, the five
biggest folders and the five biggest wasted items, each a link: a folder is selected in the tree, a
wasted item is shown in the layer that stored it (Back returns). Made by the space job
(gui/space_flow.py: core/space/overview.py); this only writes it out.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QEvent, QUrl, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QTextBrowser, QVBoxLayout, QWidget

from layerscope.core.display import human_size, plural
from layerscope.core.space.overview import ImageOverview


class OverviewPanel(QWidget):
    folder_requested = Signal(str)  # a biggest folder: select it
    waste_requested = Signal(str, int)  # a wasted item: path, the layer that stored it

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.overview: ImageOverview | None = None
        self.links: list[str] = []  # what each link shown does, in order (folders, then wasted items)
        self._reading = False
        # A text browser, not a word-wrapped rich-text QLabel in a scroll area: such a label lays its
        # whole document out again for every size question of every layout pass (its minimum size,
        # its height for a width), which cost the GUI thread tens of milliseconds at each progress
        # step of a load. The browser lays it out once per width and scrolls it itself.
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        self.text.anchorClicked.connect(self._clicked)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.text)
        self.show_overview(None)

    def show_overview(self, ov: ImageOverview | None, reading: bool = False) -> None:
        """``ov`` written out (None: not known yet, or no image)."""
        self.overview = ov
        self.links = []
        self._reading = reading
        # links in the palette's link colour (HTML import takes it from the application's palette
        # of that moment, and a theme switched since would leave them dark on dark)
        link = self.palette().color(QPalette.ColorRole.Link).name()
        self.text.document().setDefaultStyleSheet(f"a {{ color: {link}; }}")
        if ov is None:  # as HTML: plain text would keep the last character format (a link's)
            note = "Working out where the bytes went…" if reading else "Select a file in the tree."
            self.text.setHtml(f"<p>{html.escape(note)}</p>")
            self.text.setToolTip("")
            return
        h = human_size
        rows = [
            ("OS", html.escape(ov.os) if ov.os else "not named by its files"),
            ("Files", f"{ov.files:,}, {h(ov.file_bytes)} as a container sees them"),
            ("Layers", f"{ov.layers:,}, storing {h(ov.stored_bytes)} of files"),
            ("Size", f"{h(ov.uncompressed_bytes)} uncompressed, {h(ov.compressed_bytes)} compressed"),
        ]
        out = ["<table cellspacing='2'>"]
        out += [f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in rows]
        out.append("</table>")
        out.append("<p><b>Biggest folders</b></p><table cellspacing='1'>")
        for f in ov.biggest_folders:
            out.append(
                f"<tr><td align='right'>{h(f.bytes)}&nbsp;&nbsp;</td>"
                f"<td><a href='{self._link(f'folder:{f.path}')}'>/{html.escape(f.path)}</a>"
                f" <span style='color:gray'>({plural(f.files, 'file')})</span></td></tr>"
            )
        out.append("</table>")
        note = html.escape(ov.headline.layerscope)
        out.append(f"<p><b>Biggest waste</b> <span style='color:gray'>({note})</span></p>")
        if not ov.biggest_waste:
            out.append("<p>Nothing stored is hidden by a later layer.</p>")
        else:
            out.append("<table cellspacing='1'>")
            for w in ov.biggest_waste:
                out.append(
                    f"<tr><td align='right'>{h(w.size)}&nbsp;&nbsp;</td>"
                    f"<td><a href='{self._link(f'waste:{w.stored_in}:{w.path}')}'>/{html.escape(w.path)}</a>"
                    f"<br><span style='color:gray'>{html.escape(w.why)}</span></td></tr>"
                )
            out.append("</table>")
        self.text.setHtml("".join(out))
        self.text.setToolTip(ov.headline.explanation)

    def changeEvent(self, event: QEvent) -> None:
        """A theme switched live: written out again in its colours."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.show_overview(self.overview, self._reading)

    def _link(self, what: str) -> str:
        """The href of a link that does ``what``: its number (a path never has to survive a URL)."""
        self.links.append(what)
        return f"link:{len(self.links) - 1}"

    def _clicked(self, url: QUrl) -> None:
        _, _, n = url.toString().partition(":")
        if n.isdigit() and int(n) < len(self.links):
            self.activate(self.links[int(n)])

    def activate(self, href: str) -> None:
        """A link of the overview: a folder (select it) or a wasted item (its storing layer)."""
        kind, _, rest = href.partition(":")
        if kind == "folder":
            self.folder_requested.emit(rest)
        elif kind == "waste":
            layer, _, path = rest.partition(":")
            self.waste_requested.emit(path, int(layer))
