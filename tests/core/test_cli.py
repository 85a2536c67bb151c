"""The command line as a user meets it: every subcommand and option explains itself, bad input gives
one line and exit 2 (a digest that does not match, a broken .dive-ci, impossible thresholds, a
mistyped subcommand, no display), and `python -m layerscope.core.cli` stays a way in."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from layerscope.core import cli
from layerscope.core.resources import SAMPLE_IMAGE, resource_path
from layerscope.gui import launcher

DIVE_SAMPLE_CI = """---
plugins:
  - plugin1

rules:
  # If the efficiency is measured below X%, mark as failed.
  lowestEfficiency: 0.95
  highestWastedBytes: 20Mb
  highest-user-wasted-percent: 0.5

  plugin1/rule1: error
"""
"""dive's own example .dive-ci (its .data/.dive-ci), a kebab-case key swapped in: must be accepted."""


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("sample") / "sample.docker.tar"
    with resource_path(SAMPLE_IMAGE) as p:
        shutil.copyfile(p, dest)
    return dest


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("layerscope: "), err
    return lines[0]


# ---- help ---------------------------------------------------------------------------------------------
def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    top = cli.build_parser(launcher.SUBCOMMANDS)
    (sub,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    return [("layerscope", top), ("layerscope (app)", launcher.gui_parser())] + [
        (f"layerscope {name}", p) for name, p in sub.choices.items()
    ]


@pytest.mark.parametrize(("name", "parser"), _parsers(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_subcommand_says_what_it_does_and_every_option_has_help(name, parser):
    assert parser.description and parser.description.strip(), f"{name}: no description"
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            assert all(c.help for c in action._choices_actions), f"{name}: a subcommand without help"
            continue
        assert action.help and action.help.strip(), (
            f"{name}: {action.option_strings or action.dest} has no help"
        )


def test_subcommand_help_starts_with_its_one_line_summary(capsys):
    for name, command in launcher.SUBCOMMANDS.items():
        with pytest.raises(SystemExit) as exc:
            cli.main([name, "--help"], launcher.SUBCOMMANDS)
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert (command.description or command.summary).split()[0] in out, name


# ---- inspect --verify ------------------------------------------------------------------------------------
def _corrupt_one_file_byte(src: Path, dest: Path) -> str:
    """Copy ``src`` (a docker save with plain layer tars) flipping one content byte of one layer; returns
    the layer tar's name in the archive."""
    shutil.copyfile(src, dest)
    with tarfile.open(src) as outer:
        for m in outer.getmembers():
            if not (m.isfile() and m.name.endswith(".tar")):
                continue
            f = outer.extractfile(m)
            assert f is not None
            with tarfile.open(fileobj=f) as layer:
                inner = next((x for x in layer.getmembers() if x.isfile() and x.size > 0), None)
            if inner is None:
                continue
            at = m.offset_data + inner.offset_data
            with open(dest, "r+b") as out:
                out.seek(at)
                b = out.read(1)
                out.seek(at)
                out.write(bytes([b[0] ^ 0xFF]))
            return m.name
    raise AssertionError("no layer with file content")


def test_verify_says_verified_when_every_blob_matches(capsys, sample):
    code, out, err = _run(capsys, "inspect", "--verify", str(sample))
    assert code == 0, err
    assert out.rstrip().splitlines()[-1].startswith("verified")


def test_verify_fails_with_one_line_naming_the_layer(capsys, sample, tmp_path):
    bad = tmp_path / "corrupt.docker.tar"
    _corrupt_one_file_byte(sample, bad)
    for argv in (["inspect", "--verify", str(bad)], ["inspect", "--verify", "--json", str(bad)]):
        code, out, err = _run(capsys, *argv)
        assert code == 2, err
        line = _one_line(err)
        assert str(bad) in line and "layer " in line and "verified" not in out
    code, _out, _err = _run(capsys, "inspect", str(bad))  # without --verify nothing reads all the bytes
    assert code == 0


# ---- ci: the .dive-ci file and the thresholds --------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"rules:\n  lowestEfficiency: 0.9\n  \xff\xfe: 1\n", "not UTF-8"),
        (b"rules:\n  lowestEfficency: 0.9\n", "did you mean 'lowestEfficiency'"),
        (b"rules:\n  highest-waste-bytes: 1MB\n", "did you mean 'highest-wasted-bytes'"),
        (b"rules:\n  colour: blue\n", "unknown rule 'colour'"),
        (b"rulez:\n  lowestEfficiency: 0.9\n", "did you mean 'rules'"),
        (b"lowestEfficiency: 0.9\n", "belongs under 'rules:'"),
        (b"this is not a dive config at all\n", "not a section"),
        (b"rules:\n  just some words\n", "not 'rule: value'"),
        (b"rules:\n  lowestEfficiency: lots\n", "not a number"),
        (b"rules:\n  lowestEfficiency: 1.5\n", "from 0 to 1"),
        (b"rules:\n  highestWastedBytes: many\n", "not a byte size"),
        (b"rules:\n  highestUserWastedPercent: -1\n", "0 or more"),
    ],
)
def test_ci_config_problems_are_one_line_exit_2(capsys, sample, tmp_path, content, says):
    cfg = tmp_path / ".dive-ci"
    cfg.write_bytes(content)
    code, out, err = _run(capsys, "ci", str(sample), "--ci-config", str(cfg))
    assert code == 2 and out == ""
    line = _one_line(err)
    assert str(cfg) in line and says in line, line


def test_ci_reads_dives_own_example_config(capsys, sample, tmp_path):
    cfg = tmp_path / ".dive-ci"
    cfg.write_text(DIVE_SAMPLE_CI)
    code, out, err = _run(capsys, "ci", str(sample), "--ci-config", str(cfg), "--json")
    assert code in (0, 1), err
    import json

    rules = {r["name"]: r["threshold"] for r in json.loads(out)["rules"]}
    assert rules == {
        "lowestEfficiency": 0.95,
        "highestWastedBytes": 20_000_000,
        "highestUserWastedPercent": 0.5,
    }


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--base-layers", "99"], "--base-layers 99: the image has only 4 layers"),
        (["--base-layers", "-3"], "--base-layers -3: not a number of layers"),
        (["--lowest-efficiency", "2"], "--lowest-efficiency: 2 is not a ratio from 0 to 1"),
        (["--lowest-efficiency", "high"], "--lowest-efficiency: 'high' is not a number"),
        (["--highest-user-wasted-percent", "-0.1"], "--highest-user-wasted-percent: -0.1 is not a ratio"),
        (["--highest-wasted-bytes", "20 potatoes"], "--highest-wasted-bytes: not a byte size"),
    ],
)
def test_ci_impossible_options_are_one_line_exit_2(capsys, sample, tmp_path, monkeypatch, argv, says):
    monkeypatch.chdir(tmp_path)  # no .dive-ci around
    code, out, err = _run(capsys, "ci", str(sample), *argv)
    assert code == 2 and out == ""
    assert says in _one_line(err)


def test_ci_accepts_disabled_and_every_layer_as_base(capsys, sample, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(
        capsys, "ci", str(sample), "--base-layers", "4", "--lowest-efficiency", "disabled", "--json"
    )
    assert code in (0, 1) and err == "", err  # 1: a rule failed, as judged
    assert '"status": "skip"' in out


# ---- the launcher: typos and no display ------------------------------------------------------------------
_NO_QT = "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt imported'\n"


def _launch(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None):
    code = (
        "import sys\nfrom layerscope.gui.launcher import main\nrc = main(sys.argv[1:])\n"
        + _NO_QT
        + "sys.exit(rc)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )


def test_a_mistyped_subcommand_is_one_line_exit_2_and_no_window(tmp_path):
    r = _launch(["inpsect", "--json", "X"], cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == "layerscope: unknown command 'inpsect' (did you mean 'inspect'?)"
    assert r.stdout == ""


def test_unknown_command_leaves_files_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert launcher.unknown_command("inspect") is None
    assert launcher.unknown_command("image.tar") is None  # a file name (missing: the window says so)
    assert launcher.unknown_command("./lz") is None
    (tmp_path / "myimage").write_bytes(b"")
    assert launcher.unknown_command("myimage") is None  # exists: a file to open
    assert launcher.unknown_command("exprot") == "unknown command 'exprot' (did you mean 'export'?)"


def test_no_display_is_one_line_exit_2_before_qt():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = _launch(["--sample"], env=env)
    assert r.returncode == 2, r.stderr
    line = r.stderr.strip()
    assert line.startswith("layerscope: no display:") and "QT_QPA_PLATFORM=offscreen" in line
    assert "\n" not in line


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, True),
        ({"DISPLAY": ":0"}, False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, False),
        ({"QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "minimal"}, False),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, True),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "WAYLAND_DISPLAY": "w"}, False),
    ],
)
def test_missing_display(env, missing):
    assert (launcher.missing_display(env, "linux") is not None) is missing
    assert launcher.missing_display(env, "darwin") is None


# ---- python -m ----------------------------------------------------------------------------------------
def test_python_m_runs_the_subcommands(sample):
    r = subprocess.run(
        [sys.executable, "-m", "layerscope.core.cli", "ls", str(sample)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].endswith(" /bin")


# ---- start-up: a command imports its own module only --------------------------------------------
_IMPORTS = """
import sys
from layerscope.core import cli
before = {m for m in sys.modules if m.startswith("layerscope.core.cli.")}
cli.build_parser(only="cat")
after = {m for m in sys.modules if m.startswith("layerscope.core.cli.")}
print(sorted(before), sorted(after - before))
"""


def test_subcommand_modules_are_imported_when_used():
    r = subprocess.run([sys.executable, "-c", _IMPORTS], capture_output=True, text=True, check=True)
    before, new = r.stdout.strip().split("] [")
    assert "cli.ci" not in before and "cli.export" not in before and "cli.cat" not in before
    assert "layerscope.core.cli.cat" in new and "cli.ci'" not in new and "cli.export" not in new


def test_the_whole_help_still_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for name in cli.SUBCOMMANDS:
        assert name in out
    with pytest.raises(SystemExit):
        cli.main(["ci", "--help"])
    assert "--highest-wasted-bytes" in capsys.readouterr().out
