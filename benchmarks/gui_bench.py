#!/usr/bin/env python3
"""GUI timings and memory on a large image (offscreen), next to the same load without a GUI.

Measures: open -> layer timeline painted; open -> full tree usable; the longest event-loop stall
during the whole load (a 5 ms heartbeat: any gap beyond it is time the event loop was blocked);
Cancel during "analysing" -> cancelled; a layer switch (merged and own-changes views) -> tree shown;
the window's RSS after the first load and after each of five reopens of the same file (with the
stall during those reopens, and the time until the background work after each load, the Waste
table's rows and the lower layers' views, is done: RSS is read then, and the switches are timed
after the last one).

usage: QT_QPA_PLATFORM=offscreen python benchmarks/gui_bench.py IMAGE.tar [--reopens N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from layerscope.core.archive.open import open_archive
from layerscope.core.session import load
from layerscope.gui.app import setup_application
from layerscope.gui.launcher import with_system_malloc
from layerscope.gui.release import releases_pending
from layerscope.gui.window import MainWindow


def headless_analysis(path: Path) -> float:
    t = time.perf_counter()
    a = open_archive(path)
    s = load(a, a.images[0])
    s.view(len(s.layers) - 1, own_changes=False)
    took = time.perf_counter() - t
    a.close()
    return took


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1.0


class StallWatch:
    """--stall-stacks: a thread that prints every thread's stack when the heartbeat is late by 40 ms."""

    def __init__(self, beat: Heartbeat) -> None:
        import threading

        self.beat = beat
        self.main = threading.main_thread().ident
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        import traceback

        reported = 0.0
        while True:
            time.sleep(0.01)
            last = self.beat.last
            if time.perf_counter() - last > 0.04 and last != reported:
                reported = last
                for ident, frame in sys._current_frames().items():
                    if ident == threading_ident():
                        continue
                    who = "GUI" if ident == self.main else f"thread {ident}"
                    stack = "".join(traceback.format_stack(frame)[-6:])
                    print(f"--- stall, {who}:\n{stack}", file=sys.stderr)


def threading_ident() -> int:
    import threading

    return threading.get_ident()


class Heartbeat:
    """A 5 ms timer; the longest gap between two beats since ``reset`` is the worst stall."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.reset()
        self.timer.start()

    def reset(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def worst_ms(self) -> float:
        return round(self.worst * 1000, 1)


def run_until(app: QApplication, start: Callable[[], None], signal: object, timeout: float = 120.0) -> float:
    """Call ``start``, run the event loop until ``signal`` fires; seconds it took. The loop sleeps
    in Qt's dispatcher as the app's does (no polling that would take the GIL from the worker)."""
    fired: list[float] = []
    loop = QEventLoop()

    def on(*_args: object) -> None:
        if not fired:
            fired.append(time.perf_counter())
        loop.quit()

    signal.connect(on)  # type: ignore[attr-defined]
    QTimer.singleShot(int(timeout * 1000), loop.quit)
    t0 = time.perf_counter()
    start()
    if not fired:
        loop.exec()
    signal.disconnect(on)  # type: ignore[attr-defined]
    if not fired:
        raise SystemExit(f"timed out waiting for {signal}")
    return fired[0] - t0


def settle(app: QApplication, seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def settle_released(app: QApplication, timeout: float = 60.0) -> None:
    """Wait until the images a window let go of are freed (the controller's release jobs), then a
    little more: RSS measured before that would count the old image as well."""
    end = time.perf_counter() + timeout
    settle(app, 0.05)  # the controller starts its release job from a zero timer
    while releases_pending() and time.perf_counter() < end:
        settle(app, 0.05)
    settle(app, 0.3)


def wait_prepared(app: QApplication, w: MainWindow, timeout: float = 60.0) -> None:
    """Until the background work after a load (the Waste table's rows, the lower layers' views) is done."""
    end = time.perf_counter() + timeout
    while w.controller.after_load.preparing and time.perf_counter() < end:
        settle(app, 0.02)


def first_load(app: QApplication, w: MainWindow, path: Path, beat: Heartbeat) -> dict[str, float]:
    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def painted() -> None:
        if "timeline" not in marks and w.timeline_model.rowCount() > 0:
            w.timeline.viewport().repaint()
            marks["timeline"] = time.perf_counter() - t0
            poll.stop()  # a 1 ms Python timer left running would take the interpreter lock from the load

    poll = QTimer()
    poll.setInterval(1)
    poll.timeout.connect(painted)
    poll.start()
    beat.reset()
    marks["tree"] = run_until(app, lambda: w.open_path(path), w.loaded)
    poll.stop()
    for r in range(min(5, w.tree_model.rowCount())):  # the tree is usable: expand as a user would
        w.tree.expand(w.tree_model.index(r, 0))
    app.processEvents()
    marks["tree_expanded"] = time.perf_counter() - t0
    marks["stall"] = beat.worst_ms()
    return marks


def layer_switches(app: QApplication, w: MainWindow, beat: Heartbeat) -> dict[str, float]:
    """Each layer below the top, merged then own changes (first time: nothing cached), then back."""
    s = w.session
    assert s is not None
    n = len(s.layers)
    merged: list[float] = []
    own: list[float] = []
    beat.reset()
    c = w.controller
    for layer in range(n - 2, -1, -1):
        if c.own_changes:
            own.append(run_until(app, lambda: c.set_own_changes(False), w.view_ready))
        merged.append(run_until(app, lambda layer=layer: c.select_layer(layer), w.view_ready))
        own.append(run_until(app, lambda: c.set_own_changes(True), w.view_ready))
    run_until(app, lambda: w.controller.set_own_changes(False), w.view_ready)
    top = run_until(app, lambda: w.controller.select_layer(n - 1), w.view_ready)
    return {
        "merged_max": round(max(merged, default=0), 3),
        "own_max": round(max(own, default=0), 3),
        "top": round(top, 3),
        "stall": beat.worst_ms(),
    }


def cancel_in_analysis(app: QApplication, w: MainWindow, path: Path) -> float:
    """Open, press Cancel as soon as the stage is "analysing": seconds until it is cancelled."""
    c = w.controller
    asked: list[float] = []

    def stage(name: str, _done: int, _total: int) -> None:
        if name == "analysing" and not asked:
            asked.append(time.perf_counter())
            c.cancel()

    c.progressed.connect(stage)
    run_until(app, lambda: w.open_path(path), c.cancelled)
    c.progressed.disconnect(stage)
    return round(time.perf_counter() - asked[0], 3) if asked else -1.0


def treemap_first_paint(app: QApplication, w: MainWindow, path: Path) -> tuple[float, list[float]]:
    """Open, and as soon as the tree is usable show the treemap (View > Treemap) while the background
    work after the load runs: seconds until its first picture is painted. Then, once the work after
    the load is done, zoom into the three biggest folders of the root and back (Back), each a first
    visit: the seconds of each zoom and each return until its picture is painted."""
    run_until(app, lambda: w.open_path(path), w.loaded)
    space = w.explorer.space
    panel = space.treemap
    view = panel.view
    t0 = time.perf_counter()
    if view.treemap is None:
        run_until(app, space.treemap_action.trigger, space.flow.treemap_ready)
    else:
        space.treemap_action.trigger()
    view.repaint()
    first = round(time.perf_counter() - t0, 3)
    settle_released(app)
    wait_prepared(app, w)
    tm = view.treemap
    assert tm is not None
    folders = sorted((t for t in tm.tiles if t.folder and t.depth == 0 and t.path), key=lambda t: -t.bytes)
    zooms: list[float] = []
    for tile in folders[:3]:
        for step in (lambda p=tile.path: panel.zoom(p), panel.back_action.trigger):
            t = time.perf_counter()
            run_until(app, step, space.flow.treemap_ready)
            app.processEvents()
            view.repaint()
            zooms.append(round(time.perf_counter() - t, 3))
    return first, zooms


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("image", type=Path)
    ap.add_argument("--reopens", type=int, default=5)
    ap.add_argument("--memory-only", action="store_true", help="first load and reopens only")
    ap.add_argument("--stall-stacks", action="store_true", help="print the stacks at each stall")
    opts = ap.parse_args()
    with_system_malloc()  # as the layerscope command does (PYTHONMALLOC=malloc on glibc: an exec)
    path = opts.image
    headless_first = headless_analysis(path)  # also warms the persistent cache, as a GUI open would
    app = setup_application()  # as the layerscope command makes it (theme, icon, event filters)
    w = MainWindow()
    w.resize(1280, 800)
    w.show()
    beat = Heartbeat()
    if opts.stall_stacks:
        StallWatch(beat)
    marks = first_load(app, w, path, beat)
    t_loaded = time.perf_counter()
    settle_released(app)
    wait_prepared(app, w)
    first_prepared = time.perf_counter() - t_loaded
    marks["stall_until_loaded"] = marks["stall"]
    marks["stall"] = beat.worst_ms()  # the whole load: the background work after it too
    # the memory target: RSS after the first load, then after each of five reopens of the same file,
    # nothing in between (layer switches and the cancel come after)
    rss_first = rss_mb()
    reopen_rss: list[float] = []
    reopen_stall = 0.0
    reopen_s: list[float] = []
    prepared_s: list[float] = []
    for _ in range(opts.reopens):
        beat.reset()
        reopen_s.append(run_until(app, lambda: w.open_path(path), w.loaded))
        t_loaded = time.perf_counter()
        settle_released(app)
        wait_prepared(app, w)
        prepared_s.append(time.perf_counter() - t_loaded)
        reopen_stall = max(reopen_stall, beat.worst_ms())
        reopen_rss.append(round(rss_mb(), 1))
    if opts.memory_only:
        print(json.dumps({"rss_after_first_mb": round(rss_first, 1), "rss_after_reopens_mb": reopen_rss}))
        return 0
    switches = layer_switches(app, w, beat)
    cancel_s = cancel_in_analysis(app, w, path)
    treemap_s, zoom_s = treemap_first_paint(app, w, path)
    w.close()
    app.processEvents()
    analysis = min(headless_analysis(path) for _ in range(2))  # the better of two: less noise
    out = {
        "image": str(path),
        "open_to_timeline_s": round(marks.get("timeline", -1), 3),
        "open_to_tree_usable_s": round(marks["tree"], 3),
        "tree_expanded_s": round(marks["tree_expanded"], 3),
        "headless_first_run_s": round(headless_first, 3),
        "headless_analysis_s": round(analysis, 3),
        "tree_minus_analysis_s": round(marks["tree"] - analysis, 3),
        "longest_event_loop_stall_ms": marks["stall"],
        "stall_until_loaded_ms": marks["stall_until_loaded"],
        "loaded_to_background_prepared_first_s": round(first_prepared, 3),
        "layer_switch_merged_max_s": switches["merged_max"],
        "layer_switch_changes_max_s": switches["own_max"],
        "layer_switch_back_to_top_s": switches["top"],
        "layer_switch_stall_ms": switches["stall"],
        "cancel_in_analysing_s": cancel_s,
        "treemap_first_paint_after_tree_s": treemap_s,
        "treemap_zoom_and_back_s": zoom_s,
        "reopen_s": [round(x, 3) for x in reopen_s],
        "reopen_longest_stall_ms": reopen_stall,
        "loaded_to_background_prepared_s": [round(x, 3) for x in prepared_s],
        "rss_after_first_mb": round(rss_first, 1),
        "rss_after_reopens_mb": reopen_rss,
        "rss_ratio_after_reopens": round(reopen_rss[-1] / rss_first, 3) if reopen_rss else None,
    }
    print(json.dumps(out, indent=2))
    (Path(__file__).parent / "gui_results.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
