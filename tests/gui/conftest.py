from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    """Each GUI test gets its own settings file: the user's recent files are never touched."""
    monkeypatch.setenv("LAYERSCOPE_SETTINGS", str(tmp_path / "settings.ini"))
