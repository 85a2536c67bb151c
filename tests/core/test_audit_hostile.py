"""Hostile content stays bounded: a 1 GB sparse file named .env (GNU tar --sparse, so it costs no
disk), binary junk named id_rsa, a .env of a million secret-named assignments, a file of a million
lines; the layer written by GNU tar and added verbatim by ``umoci raw add-layer``."""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest

from layerscope.core.audit import Rule, audit
from layerscope.core.limits import MAX_AUDIT_FILE_BYTES, MAX_AUDIT_FINDINGS_PER_FILE
from layerscope.core.session import load
from layerscope.core.usecases.image import open_image
from tests.conftest import need_tool
from tests.core.test_audit_real import run, umoci_image

GB = 1 << 30


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("audit-hostile")
    root = work / "rootfs"
    (root / "app").mkdir(parents=True)
    with open(root / "app/.env", "wb") as f:  # 1 GB of holes: no disk
        f.truncate(GB)
    (root / "root/.ssh").mkdir(parents=True)
    (root / "root/.ssh/id_rsa").write_bytes(os.urandom(64 << 10))
    (root / "app/.env.production").write_bytes(
        b"".join(b"PASSWORD_%d=v%dsecret\n" % (i, i) for i in range(1_000_000))
    )
    lines = b"eyJ\n" * 1_000_000  # every line passes the JWT pattern's cheap test; within the size limit
    assert len(lines) <= MAX_AUDIT_FILE_BYTES
    (root / "app/lines.txt").write_bytes(lines)
    layer = work / "layer.tar"
    run(need_tool("tar"), "--sparse", "--numeric-owner", "-C", root, "-cf", layer, ".")
    assert layer.stat().st_size < 64 << 20  # the sparse file's holes are not stored
    return umoci_image(work, "hostile", [("GNU tar --sparse layer", layer)])


def test_hostile_content_stays_bounded(hostile: Path) -> None:
    with open_image(hostile) as (archive, im):
        loaded = load(archive, im)
        env = next(e for li in loaded.layers for e in li.entries if e.path == "app/.env")
        assert env.size == GB and env.stored_size < 1 << 20
        tracemalloc.start()
        t0 = time.perf_counter()
        r = audit(loaded)
        took = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert took < 20, took
    assert peak < 8 * MAX_AUDIT_FILE_BYTES + (16 << 20), peak
    assert r.bytes_read < 4 * MAX_AUDIT_FILE_BYTES
    (junk,) = [f for f in r.findings if f.path == "/root/.ssh/id_rsa"]
    assert junk.rule is Rule.SSH_KEY_FILE and junk.secret is None
    assert not [f for f in r.findings if f.path == "/app/.env"]  # zeros
    prod = [f for f in r.findings if f.path == "/app/.env.production"]
    assert len(prod) == MAX_AUDIT_FINDINGS_PER_FILE
    assert any("/app/.env.production: more than" in w for w in r.warnings)
    assert not [f for f in r.findings if f.path == "/app/lines.txt"]
    assert r.files_read == 4
