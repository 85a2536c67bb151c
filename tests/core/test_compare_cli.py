"""``layerscope diff`` as a user meets it: exit 0 identical, 1 different, 2 bad input with one line;
``--json`` is one object of the documented shape; ``--file`` prints a unified diff, or for binaries
sizes and digests."""

from __future__ import annotations

import json

import pytest

from layerscope.core import cli
from tests.conftest import REAL, need_shared
from tests.imagebuilder import File, Image, Layer, build


@pytest.fixture(autouse=True)
def _corpus() -> None:
    need_shared()


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("layerscope: "), err
    return lines[0]


MULTI = str(REAL / "docker20-multi.save.tar")  # image 0: corpus/docker20-edge:1, image 1: corpus/bbase:1
EDGE = str(REAL / "umoci-edge.oci.tar")


def test_the_same_image_in_two_layouts_exits_0_and_says_identical(capsys):
    code, out, err = _run(capsys, str(REAL / "buildah-run.docker.tar"), str(REAL / "buildah-run.oci.tar"))
    assert code == 0, err
    assert out.splitlines()[-1] == "identical"


def test_an_image_against_its_base_exits_1_with_the_verdict_last(capsys):
    code, out, err = _run(capsys, MULTI, MULTI, "--image-a", "1", "--image-b", "0")
    assert code == 1, err
    lines = out.splitlines()
    assert lines[-1] == "19 files differ (12 added, 6 removed, 1 changed), +14 bytes"
    assert "  ~ file" in out and "/opt/app/config.ini  (content)" in out
    assert any(line.startswith("  - dir") and line.endswith(" /var/log") for line in lines)
    assert "common base: 1 layer" in out and "Env: (unset) -> " in out
    # history steps are named as steps (their numbers are not the layers' above)
    assert any(line.startswith("  + B step #") for line in lines) and "  + B#" not in "\n".join(
        line for line in lines if "step" in line
    )


def test_json_is_one_object_of_the_documented_shape(capsys):
    code, out, err = _run(capsys, MULTI, MULTI, "--image-a", "1", "--image-b", "0", "--json")
    assert code == 1, err
    doc = json.loads(out)
    for key in ("verdict", "shared_layers", "only_a_layers", "only_b_layers", "added", "removed", "changed"):
        assert key in doc
    assert doc["verdict"] == "19 files differ (12 added, 6 removed, 1 changed), +14 bytes"
    assert doc["outcome"] == "different"
    (shared,) = doc["shared_layers"]
    assert shared["a"] == 0 and shared["b"] == 0 and shared["diff_id"].startswith("sha256:")
    assert doc["only_a_layers"] == [] and [x["index"] for x in doc["only_b_layers"]] == [1, 2, 3, 4, 5, 6]
    rows = doc["added"] + doc["removed"] + doc["changed"]
    assert len(rows) == 19
    for row in rows:
        assert set(row) == {"path", "type", "size_a", "size_b", "what"} and row["path"].startswith("/")
    assert doc["changed"] == [
        {"path": "/opt/app/config.ini", "type": "file", "size_a": 4, "size_b": 4, "what": ["content"]}
    ]
    assert {"path": "/var/log", "type": "dir", "size_a": 0, "size_b": None, "what": []} in doc["removed"]
    assert all(r["size_a"] is None for r in doc["added"]) and all(r["size_b"] is None for r in doc["removed"])
    assert doc["size_delta"] == 14 and doc["folder_deltas"]["/var/log"] == -4
    assert doc["config"]["WorkingDir"] == {"a": None, "b": "/opt/app"}
    assert doc["config"]["Labels"]["b"] == {"org.example.corpus": "dockerfile-edge"}
    assert len(doc["config"]["history"]["added"]) == 10 and "Cmd" not in doc["config"]


def test_json_of_identical_images(capsys):
    code, out, _ = _run(capsys, str(REAL / "umoci-edge.docker.tar"), EDGE, "--json", "--strict")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "identical" and doc["strict"] is True
    assert [(s["a"], s["b"]) for s in doc["shared_layers"]] == [(i, i) for i in range(8)]
    assert doc["added"] == doc["removed"] == doc["changed"] == [] and doc["size_delta"] == 0
    assert doc["config"] == {}


def test_layers_compares_two_points_of_one_image(capsys):
    code, out, err = _run(capsys, EDGE, "--layers", "6..7", "--json")
    assert code == 1, err
    doc = json.loads(out)
    assert {r["path"] for r in doc["removed"]} == {"/srv", "/srv/blob.bin", "/srv/www", "/srv/www/index.html"}
    assert doc["added"] == doc["changed"] == []
    assert doc["size_delta"] == -300_012 and doc["a"]["top_layer"] == 6 and doc["b"]["top_layer"] == 7
    code, out, _ = _run(capsys, EDGE, "--layers", "4..4")
    assert code == 0 and out.splitlines()[-1] == "identical"


def test_file_prints_a_unified_diff_of_config_ini(capsys):
    expected = "--- a/opt/app/config.ini\n+++ b/opt/app/config.ini\n@@ -1 +1 @@\n-v=1\n+v=2\n"
    code, out, err = _run(capsys, EDGE, "--layers", "1..2", "--file", "/opt/app/config.ini")
    assert (code, out) == (1, expected), err
    code, out, err = _run(
        capsys, MULTI, MULTI, "--image-a", "1", "--image-b", "0", "--file", "/opt/app/config.ini"
    )
    assert (code, out) == (1, expected), err
    # symlinks are followed: /etc/app.ini -> ../opt/app/config.ini in layer 5
    code, out, _ = _run(capsys, EDGE, "--layers", "5..5", "--file", "/etc/app.ini")
    assert (code, out) == (0, "")


def test_file_only_on_one_side_diffs_against_dev_null(capsys):
    code, out, _ = _run(capsys, EDGE, "--layers", "0..1", "--file", "/srv/www/index.html")
    assert code == 1
    assert out.splitlines()[:2] == ["--- /dev/null", "+++ b/srv/www/index.html"] and "+<h1>hi</h1>" in out


def test_a_binary_file_shows_sizes_and_digests(capsys, tmp_path):
    a = build(Image([Layer([File("bin/tool", b"\x7fELF\0\1\2" * 10)])]), tmp_path / "a.tar", "docker25")
    b = build(Image([Layer([File("bin/tool", b"\x7fELF\0\1\3" * 11)])]), tmp_path / "b.tar", "oci-archive")
    code, out, _ = _run(capsys, str(a), str(b), "--file", "/bin/tool")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "Files /bin/tool differ (binary)"
    assert lines[1].startswith("  A: 70 bytes  sha256:") and lines[2].startswith("  B: 77 bytes  sha256:")
    code, out, _ = _run(capsys, str(a), str(b), "--file", "/bin/tool", "--json")
    doc = json.loads(out)
    assert doc["text"] is False and doc["a"]["size"] == 70 and doc["a"]["digest"] != doc["b"]["digest"]
    code, out, _ = _run(capsys, str(a), str(a), "--file", "/bin/tool")
    assert (code, out) == (0, "")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([EDGE], "give two images"),
        ([EDGE, EDGE, "--layers", "0..1"], "one image, not two"),
        ([EDGE, "--layers", "3-5"], "expected I..J"),
        ([EDGE, "--layers", "0..8"], "layer 8 is out of range (0..7)"),
        ([EDGE, EDGE, "--path", "/no/such/dir"], "/no/such/dir: no such path in either image"),
        ([EDGE, EDGE, "--file", "/no/such/file"], "no such file in either image"),
        ([EDGE, EDGE, "--file", "/opt/app"], "is a directory"),
        ([EDGE, EDGE, "--file", "/x", "--path", "/opt"], "--file and --path"),
        ([EDGE, str(REAL / "no-such-archive.tar")], "no-such-archive.tar"),
        ([MULTI, MULTI, "--image-b", "7"], "image index 7 is out of range"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, says):
    code, out, err = _run(capsys, *argv)
    assert code == 2, (out, err)
    assert says in _one_line(err)
