"""Every subcommand takes references: the same image from a registry, the Docker engine and its file
compares as the same content (``diff`` exits 0 or 1 only on metadata), and ``cat``, ``export``,
``packages``, ``history``, ``du`` and ``audit`` read it as they read the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerscope.core.cli import main
from tests.conftest import REAL
from tests.sources.daemons import Engine
from tests.sources.registry_server import Registries, registries


@pytest.fixture
def regs() -> Registries:
    return registries()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(var, raising=False)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _unnamed(out: str) -> object:
    doc = json.loads(out)
    if isinstance(doc, dict):
        for key in ("image", "file", "source", "tags", "name"):
            doc.pop(key, None)
    return doc


def test_a_registry_image_has_the_content_of_its_file(regs, capsys):
    ref = regs.open.ref("corpus/umoci-edge:1")
    code, out, err = _run(capsys, "diff", ref, str(REAL / "umoci-edge.oci.tar"), "--json")
    assert code in (0, 1), err
    d = json.loads(out)
    assert (d["added"], d["removed"], d["changed"], d["size_delta"]) == ([], [], [], 0)
    assert d["only_a_layers"] == [] and d["only_b_layers"] == []


def test_subcommands_read_a_registry_image_as_its_file(regs, capsys, tmp_path):
    ref = regs.open.ref("corpus/umoci-edge:1")
    file = str(REAL / "umoci-edge.oci.tar")
    for argv in (
        ["cat", "{}", "/opt/app/config.ini"],
        ["history", "{}", "--json"],
        ["packages", "{}", "--json"],
        ["du", "{}", "--json"],
        ["audit", "{}", "--json", "--fail-on", "high"],
    ):
        via_ref = _run(capsys, *[a.replace("{}", ref) for a in argv])
        via_file = _run(capsys, *[a.replace("{}", file) for a in argv])
        assert via_ref[0] == via_file[0], (argv, via_ref[2])
        if "--json" in argv:  # the same but for what the image is called (a tag vs registry/repo:tag)
            assert _unnamed(via_ref[1]) == _unnamed(via_file[1]), argv
        else:
            assert via_ref[1] == via_file[1], argv
    dest = tmp_path / "out.tar"
    code, _out, err = _run(capsys, "export", ref, "--merged", "--to", str(dest))
    assert code == 0, err
    assert dest.stat().st_size > 0


def test_a_docker_engine_image_diffs_as_its_file(dockerd: Engine, capsys, monkeypatch):
    for k, v in dockerd.env.items():
        monkeypatch.setenv(k, v)
    loaded = next(im for im in dockerd.images if im.reference == "docker-daemon:corpus/bbase:1")
    code, out, err = _run(
        capsys, "diff", loaded.reference, str(loaded.corpus), "--image-b", str(loaded.image), "--json"
    )
    assert code in (0, 1), err
    d = json.loads(out)
    assert (d["added"], d["removed"], d["changed"]) == ([], [], [])
    assert len(d["shared_layers"]) == 1


def test_tls_verify_false_and_creds_reach_the_registry(regs, capsys):
    ref = regs.basic.ref("corpus/umoci-edge:1")
    code, _out, err = _run(capsys, "inspect", ref)
    assert code == 2 and "\n" not in err.strip()
    code, out, err = _run(capsys, "inspect", ref, "--creds", "alice:wonderland", "--tls-verify=false")
    assert code == 0, err
    assert out.startswith(f"{ref}: ")
