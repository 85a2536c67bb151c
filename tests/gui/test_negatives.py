"""Every negative fixture of shared/corpus/peer gives its clear one-line message in the window, and the
window stays usable."""

from __future__ import annotations

import pytest

from layerscope.gui.window import MainWindow
from tests.conftest import PEER, REAL, need_shared
from tests.core.test_archive_peer import NEGATIVE


@pytest.mark.parametrize("rel", sorted(NEGATIVE))
def test_negative_fixture_message_in_the_window(rel, qtbot):
    need_shared()
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=30000):
        w.open_path(PEER / rel)
    assert w.message.isVisible()
    text = w.message.text()
    assert NEGATIVE[rel] in text and str(PEER / rel) in text and "\n" not in text
    assert w.session is None and w.stack.currentIndex() == 0
    with qtbot.waitSignal(w.loaded, timeout=30000):
        w.open_path(REAL / "umoci-insert.oci.tar")
    assert w.session is not None and not w.message.isVisible()
