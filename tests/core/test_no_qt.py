"""Core never imports Qt: importing every module of layerscope.core leaves PySide6 out of sys.modules."""

import subprocess
import sys


def test_core_imports_no_qt() -> None:
    code = (
        "import pkgutil, importlib, sys, layerscope.core as c\n"
        "mods = [m.name for m in pkgutil.walk_packages(c.__path__, 'layerscope.core.')]\n"
        "[importlib.import_module(m) for m in mods]\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]\n"
        "assert len(mods) >= 5, mods\n"
        "assert not bad, bad\n"
        "print(len(mods))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_subcommands_do_not_import_qt(tmp_path) -> None:
    code = (
        "import sys\n"
        "from layerscope.gui.launcher import main\n"
        "rc = main(['inspect', sys.argv[1]])\n"
        "assert not [m for m in sys.modules if m.startswith('PySide6')]\n"
    )
    missing = tmp_path / "missing.tar"
    r = subprocess.run([sys.executable, "-c", code, str(missing)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "no such file" in r.stderr
