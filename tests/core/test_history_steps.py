"""History as build steps: instructions from the classic and BuildKit forms, ChainIDs checked against
the ones a real dockerd stores for the corpus images (its layerdb), v1 ids against the legacy layer
folders dockerd's ``docker save`` wrote, the Dockerfile and JSON output."""

from __future__ import annotations

import io
import itertools
import json
import tarfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from layerscope.core.archive.open import open_archive
from layerscope.core.buildsteps import Instruction, as_dockerfile, build_history, chain_ids, classify
from layerscope.core.cli import main
from tests.conftest import REAL, need_shared
from tests.sources.daemons import DOCKER_LOADS, Engine

INS = Instruction
CASES = [
    ('/bin/sh -c #(nop)  CMD ["sh"]', INS.CMD, 'CMD ["sh"]'),
    ("/bin/sh -c #(nop) ADD file:abc123 in / ", INS.ADD, "ADD file:abc123 in /"),
    ("/bin/sh -c #(nop) COPY dir:ff00 in /app ", INS.COPY, "COPY dir:ff00 in /app"),
    ("/bin/sh -c #(nop)  ENV PATH=/usr/bin:/bin", INS.ENV, "ENV PATH=/usr/bin:/bin"),
    ("/bin/sh -c #(nop)  EXPOSE 80/tcp", INS.EXPOSE, "EXPOSE 80/tcp"),
    (
        "/bin/sh -c apt-get update && apt-get install -y jq",
        INS.RUN,
        "RUN apt-get update && apt-get install -y jq",
    ),
    ("|2 A=1 B=two /bin/sh -c echo $A $B", INS.RUN, "RUN echo $A $B"),
    ("|0 /bin/sh -c #(nop)  WORKDIR /x", INS.WORKDIR, "WORKDIR /x"),
    ("RUN /bin/sh -c apk add --no-cache curl # buildkit", INS.RUN, "RUN apk add --no-cache curl"),
    ("RUN |1 V=3 /bin/sh -c make V=$V # buildkit", INS.RUN, "RUN make V=$V"),
    ("COPY app.py /app/ # buildkit", INS.COPY, "COPY app.py /app/"),
    ("ADD https://example.org/x.tgz / # buildkit", INS.ADD, "ADD https://example.org/x.tgz /"),
    ("ENV A=1 B=2", INS.ENV, "ENV A=1 B=2"),
    ('CMD ["python" "app.py"]', INS.CMD, 'CMD ["python" "app.py"]'),
    ("EXPOSE map[443/tcp:{} 80/tcp:{}]", INS.EXPOSE, "EXPOSE 443/tcp 80/tcp"),
    ("ARG VERSION=1", INS.ARG, "ARG VERSION=1"),
    ("WORKDIR /src", INS.WORKDIR, "WORKDIR /src"),
    ("buildah copy bbroot/ /", None, "buildah copy bbroot/ /"),
    ("L1 base: files", None, "L1 base: files"),
    ("", None, ""),
]


@pytest.mark.parametrize(("created_by", "instruction", "command"), CASES)
def test_instruction_and_command(created_by, instruction, command):
    assert classify(created_by) == (instruction, command)


def test_chain_id_rule():
    a, b, c = ("sha256:" + ch * 64 for ch in "abc")
    ids = chain_ids([a, b, c])
    assert ids[0] == a
    import hashlib

    assert ids[1] == "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    assert ids[2] == "sha256:" + hashlib.sha256(f"{ids[1]} {c}".encode()).hexdigest()
    assert chain_ids([a, None, c]) == [a, None, None]


def _v1_folders(path: Path) -> dict[str, str | None]:
    """v1 id -> parent as Python's tarfile reads the layer folders' json files."""
    out: dict[str, str | None] = {}
    with tarfile.open(path) as t:
        for m in t.getmembers():
            if m.name.endswith("/json") and m.isfile():
                doc = json.load(t.extractfile(m))  # type: ignore[arg-type]
                out[doc["id"]] = doc.get("parent")
    return out


@pytest.mark.parametrize(
    "name", ["docker20-edge.save.tar", "docker20-multi.save.tar", "podman-multi.docker.tar"]
)
def test_v1_ids_are_the_layer_folders_chain(name):
    need_shared()
    folders = _v1_folders(REAL / name)
    with open_archive(REAL / name) as a:
        for im in a.images:
            steps = [s for s in build_history(a, im).steps if s.layer is not None and not s.empty]
            ids = [s.v1_id for s in steps]
            assert all(ids), (name, im.tags)
            assert steps[0].v1_parent is None and folders[ids[0]] is None  # type: ignore[index]
            for below, s in itertools.pairwise(steps):
                assert s.v1_parent == below.v1_id == folders[s.v1_id]  # type: ignore[index]
            if name.startswith("docker20"):  # dockerd's manifest names each layer by its folder
                assert [f"{v}/layer.tar" for v in ids] == [d.blob_name for d in im.layers]


def test_oci_archives_have_no_v1_ids():
    need_shared()
    with open_archive(REAL / "umoci-edge.oci.tar") as a:
        h = build_history(a, a.images[0])
    assert all(s.v1_id is None for s in h.steps) and h.image_id == a.images[0].config_digest


def _layerdb(engine: Engine) -> dict[str, str]:
    """ChainID -> diff_id of every layer the engine stores (its layerdb: one folder per ChainID)."""
    out = {}
    for diff in engine.socket.parent.glob("root-*/image/*/layerdb/sha256/*/diff"):
        out["sha256:" + diff.parent.name] = diff.read_text().strip()
    return out


def test_chain_ids_match_dockerds_layerdb(dockerd):
    stored = _layerdb(dockerd)
    assert stored
    checked = 0
    for f in DOCKER_LOADS:
        with open_archive(REAL / f) as a:
            for im in a.images:
                for s in build_history(a, im).steps:
                    if s.chain_id is not None:
                        assert stored.get(s.chain_id) == s.diff_id, (f, s.index)
                        checked += 1
    assert checked >= 15


def test_dockerfile_and_json(capsys):
    need_shared()
    archive = str(REAL / "docker20-edge.save.tar")
    with open_archive(archive) as a:
        text = as_dockerfile(build_history(a, a.images[0]), "corpus/docker20-edge:1")
    lines = text.splitlines()
    assert (
        "COPY file:38fa7cecf9e2903038f286bd551caa9ff02c04a4950737897edb14b6eb63b17c /opt/app/added.txt"
        in lines
    )
    assert any(line.startswith("# source gone: file:38fa7cec") for line in lines)
    assert "RUN rm /opt/app/data/a.txt" in lines and lines[-1] == 'CMD ["/bin/sh"]'
    assert "# (busybox rootfs imported with docker import)" in lines
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["history", archive, "--json"]) == 0
    doc = json.loads(out.getvalue())
    assert doc["image_id"].startswith("sha256:ec92e547")
    for s in doc["steps"]:
        assert {"instruction", "command", "empty", "layer", "diff_id", "chain_id", "v1_id"} <= set(s)
    layered = [s for s in doc["steps"] if not s["empty"]]
    assert [s["layer"] for s in layered] == list(range(7))
    assert layered[0]["chain_id"] == layered[0]["diff_id"] and layered[1]["v1_id"].startswith("cbd78ed4")
    assert [s["instruction"] for s in doc["steps"] if s["empty"]] == ["ENV", "WORKDIR", "LABEL", "CMD"]
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["history", archive, "--dockerfile"]) == 0
    assert out.getvalue() == text
