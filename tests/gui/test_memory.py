"""Memory across reopens: the app runs on the C library's allocator where glibc can give memory back.

On the 2 GB benchmark image, RSS after five reopens was 1.4x the first load's with Python's own
allocator (fragmented 1 MiB arenas, kept alive by the new image's objects) and about 1.03x with
PYTHONMALLOC=malloc plus malloc_trim (benchmarks/gui_bench.py --memory-only). These tests keep the
launcher choosing it, and only where it helps.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from layerscope.gui import launcher


class Exec(Exception):
    pass


def _record_exec(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str], str | None]]:
    """os.execv recorded, not run; PYTHONMALLOC unset, and unset again after the test (the launcher
    sets it before its exec: it must not leak into the subprocesses of later tests)."""
    monkeypatch.setenv("PYTHONMALLOC", "")
    monkeypatch.delenv("PYTHONMALLOC")
    calls: list[tuple[str, list[str], str | None]] = []

    def fake_execv(path: str, args: list[str]) -> None:
        calls.append((path, list(args), os.environ.get("PYTHONMALLOC")))
        raise Exec

    monkeypatch.setattr(os, "execv", fake_execv)
    return calls


def test_the_app_starts_again_on_the_system_allocator_on_glibc(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr("platform.libc_ver", lambda *a, **k: ("glibc", "2.36"))
    monkeypatch.setattr(sys, "orig_argv", ["/venv/bin/python", "/venv/bin/layerscope", "big.tar"])
    calls = _record_exec(monkeypatch)
    with pytest.raises(Exec):
        launcher.with_system_malloc()
    assert calls == [(sys.executable, [sys.executable, "/venv/bin/layerscope", "big.tar"], "malloc")]


@pytest.mark.parametrize(
    "platform_name, libc, env",
    [
        ("linux", ("glibc", "2.36"), {"PYTHONMALLOC": "pymalloc"}),  # the user's choice, or done
        ("linux", ("musl", ""), {}),
        ("darwin", ("", ""), {}),
        ("win32", ("", ""), {}),
    ],
)
def test_nothing_changes_elsewhere(monkeypatch, platform_name, libc, env):
    calls = _record_exec(monkeypatch)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(sys, "platform", platform_name)
    monkeypatch.setattr("platform.libc_ver", lambda *a, **k: libc)
    launcher.with_system_malloc()
    assert calls == []
    assert os.environ.get("PYTHONMALLOC") == env.get("PYTHONMALLOC")


def test_a_caller_of_main_is_never_replaced(monkeypatch):
    """main(argv) from another program (tests, an embedding) opens the app in place."""
    calls = _record_exec(monkeypatch)
    import layerscope.gui.app as app

    monkeypatch.setattr(app, "run", lambda opts: 7)
    monkeypatch.setattr(launcher, "missing_display", lambda *a, **k: None)
    assert launcher.main(["some.tar"]) == 7
    assert calls == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_the_launched_app_runs_on_the_system_allocator(tmp_path):
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc only")
    probe = (
        "import sys, os\n"
        "import layerscope.gui.app as app\n"
        "app.run = lambda opts: print('PYTHONMALLOC=' + os.environ.get('PYTHONMALLOC', ''),"
        " sys.argv[1:]) or 0\n"
        "from layerscope.gui.launcher import main\n"
        "sys.exit(main())\n"
    )
    script = tmp_path / "probe.py"
    script.write_text(probe)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONMALLOC"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = subprocess.run(
        [sys.executable, str(script), "x.tar"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "PYTHONMALLOC=malloc ['x.tar']"
