#!/usr/bin/env python3
"""GUI timings on a large image (offscreen): open -> layer timeline painted, open -> full tree usable,
and the longest event-loop stall during the load, next to the same load without a GUI.

usage: QT_QPA_PLATFORM=offscreen python benchmarks/gui_bench.py IMAGE.tar
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from layerscope.core.archive import open_archive
from layerscope.core.session import load
from layerscope.gui.window import MainWindow


def headless_analysis(path: Path) -> float:
    t = time.perf_counter()
    a = open_archive(path)
    s = load(a, a.images[0])
    s.view(len(s.layers) - 1, own_changes=False)
    return time.perf_counter() - t


def main() -> int:
    path = Path(sys.argv[1])
    sys.setswitchinterval(0.0002)  # as layerscope.gui.app.run does
    app = QApplication(sys.argv[:1])
    w = MainWindow()
    w.resize(1280, 800)
    w.show()
    marks: dict[str, float] = {}
    stalls: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:  # a 5 ms heartbeat: any gap beyond it is time the event loop was blocked
        now = time.perf_counter()
        stalls.append(now - last[0])
        last[0] = now

    beat = QTimer()
    beat.setInterval(5)
    beat.timeout.connect(tick)

    def painted() -> None:
        if "timeline" not in marks and w.timeline_model.rowCount() > 0:
            w.timeline.viewport().repaint()
            marks["timeline"] = time.perf_counter() - t0

    poll = QTimer()
    poll.setInterval(1)
    poll.timeout.connect(painted)

    def done() -> None:
        marks["tree"] = time.perf_counter() - t0
        # the tree is usable: expand the top folders as a user would
        for r in range(min(5, w.tree_model.rowCount())):
            w.tree.expand(w.tree_model.index(r, 0))
        app.processEvents()
        marks["tree_expanded"] = time.perf_counter() - t0
        QTimer.singleShot(50, app.quit)

    w.loaded.connect(done)
    beat.start()
    poll.start()
    t0 = time.perf_counter()
    last[0] = t0
    w.open_path(path)
    app.exec()
    analysis = headless_analysis(path)
    worst = max(stalls) * 1000 if stalls else 0.0
    out = {
        "image": str(path),
        "open_to_timeline_s": round(marks.get("timeline", -1), 3),
        "open_to_tree_usable_s": round(marks["tree"], 3),
        "tree_expanded_s": round(marks["tree_expanded"], 3),
        "headless_analysis_s": round(analysis, 3),
        "tree_minus_analysis_s": round(marks["tree"] - analysis, 3),
        "longest_event_loop_stall_ms": round(worst, 1),
    }
    print(json.dumps(out, indent=2))
    (Path(__file__).parent / "gui_results.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
