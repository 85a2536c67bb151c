"""The Qt binding itself: PySide6 6.12.0 on Python 3.11 dropped a reference to None on every void
call, so a long session aborted with "none_dealloc"; pyproject.toml pins it below 6.12."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_void_calls_keep_the_reference_count_of_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
    assert sys.getrefcount(None) - before > -100
