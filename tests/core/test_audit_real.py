"""The audit on images real tools built: keys made by ssh-keygen and openssl, layers packed by
``umoci repack`` / ``umoci insert --opaque`` (as ../shared/corpus/build-corpus.sh does), copied to a
docker-archive by skopeo; and the shared corpus: no secret findings, and setuid files equal to what
``find -perm -4000`` lists on the ``umoci unpack`` tree."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from layerscope.core.audit import Hidden, Rule, audit
from layerscope.core.session import load
from layerscope.core.usecases.image import open_image
from tests.conftest import need_shared, need_tool, real_archives

CREATED = "2024-01-02T03:04:05Z"
SECRET_RULES = {r for r in Rule if r.value not in ("setuid", "setgid", "world-writable", "device-outside-dev",
                                                     "running-as-root")}  # fmt: skip


def run(*cmd: str | Path, cwd: Path | None = None) -> str:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({r.returncode}): {r.stderr.strip()[-600:]}")
    return r.stdout


Step = tuple[str, Callable[[Path], None] | Path]
"""A layer: its history line and either a change to the rootfs (umoci repack) or a layer tar of
its own (umoci raw add-layer)."""


def umoci_image(work: Path, name: str, steps: list[Step], config: tuple[str, ...] = ()) -> Path:
    """Each step one layer of an OCI layout made by umoci; the image as a docker-archive (skopeo)."""
    umoci, skopeo = need_tool("umoci"), need_tool("skopeo")
    layout, bundle = work / f"{name}.oci", work / f"{name}.bundle"
    run(umoci, "init", "--layout", layout)
    run(umoci, "new", "--image", f"{layout}:t")
    run(umoci, "config", "--image", f"{layout}:t", "--no-history", "--created", CREATED, "--os", "linux",
        "--architecture", "amd64", *config)  # fmt: skip
    run(umoci, "unpack", "--image", f"{layout}:t", bundle)
    for label, step in steps:
        if isinstance(step, Path):
            run(umoci, "raw", "add-layer", "--image", f"{layout}:t", "--history.created", CREATED,
                "--history.created_by", label, step)  # fmt: skip
            continue
        step(bundle / "rootfs")
        run(umoci, "repack", "--refresh-bundle", "--image", f"{layout}:t", "--history.created", CREATED,
            "--history.created_by", label, bundle)  # fmt: skip
    out = work / f"{name}.docker.tar"
    run(skopeo, "copy", "-q", f"oci:{layout}:t", f"docker-archive:{out}:audit/{name}:1")
    return out


def _keys(work: Path) -> dict[str, bytes]:
    """An ed25519 key by ssh-keygen, an RSA key and a self-signed certificate by openssl."""
    ssh, openssl = need_tool("ssh-keygen"), need_tool("openssl")
    run(ssh, "-q", "-t", "ed25519", "-N", "", "-C", "audit-test", "-f", work / "id_ed25519")
    run(
        openssl,
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        work / "server.key",
    )
    run(openssl, "req", "-x509", "-new", "-key", work / "server.key", "-subj", "/CN=audit-test", "-days", "1",
        "-out", work / "server.crt")  # fmt: skip
    return {n: (work / n).read_bytes() for n in ("id_ed25519", "server.key", "server.crt")}


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    work = tmp_path_factory.mktemp("audit-real")
    keys = _keys(work)
    insert_src = work / "conf-src"
    insert_src.mkdir()
    (insert_src / "app.ini").write_text("port=8080\n")

    def base(r: Path) -> None:
        (r / "root/.ssh").mkdir(parents=True, mode=0o700)
        (r / "root/.ssh/id_ed25519").write_bytes(keys["id_ed25519"])
        for d in ("etc/ssl/private", "etc/ssl/certs", "opt/app/conf", "usr/bin", "tmp"):
            (r / d).mkdir(parents=True, exist_ok=True)
        (r / "etc/ssl/private/server.key").write_bytes(keys["server.key"])
        (r / "etc/ssl/certs/ca-certificates.crt").write_bytes(keys["server.crt"] * 3)
        (r / "opt/app/cert.pem").write_bytes(keys["server.crt"])
        (r / "opt/app/conf/kubeconfig").write_bytes(
            b"users:\n- name: u\n  user:\n    client-key-data: "
            + keys["server.key"][40:120].replace(b"\n", b"")
            + b"\n"
        )
        (r / "opt/app/.env").write_text("DEBUG=1\nSECRET_KEY=s3cr3t-value-for-tests\n")
        (r / "usr/bin/helper").write_bytes(b"#!/bin/sh\n")
        os.chmod(r / "usr/bin/helper", 0o4755)
        os.chmod(r / "tmp", 0o1777)

    def cleanup(r: Path) -> None:
        (r / "root/.ssh/id_ed25519").unlink()  # umoci writes a whiteout
        (r / "opt/app/.env").write_text("DEBUG=0\n")  # a new file over the old one

    layout_steps: list[Step] = [("COPY rootfs /", base), ("RUN rm id_ed25519; rewrite .env", cleanup)]
    path = umoci_image(work, "planted", layout_steps, ("--config.user", "0", "--config.env", "A=1"))
    # the third layer: umoci insert --opaque replaces /opt/app/conf (opaque whiteout), on a copy of the
    # layout; then the image is copied again
    layout = work / "planted.oci"
    run(need_tool("umoci"), "insert", "--image", f"{layout}:t", "--history.created", CREATED,
        "--history.created_by", "umoci insert --opaque conf /opt/app/conf", "--opaque", insert_src,
        "/opt/app/conf")  # fmt: skip
    path.unlink()
    run(need_tool("skopeo"), "copy", "-q", f"oci:{layout}:t", f"docker-archive:{path}:audit/planted:1")
    return path, keys


def test_planted_findings(planted: tuple[Path, dict[str, bytes]]) -> None:
    path, keys = planted
    with open_image(path) as (archive, im):
        r = audit(load(archive, im))
    by_path = {(f.rule, f.path): f for f in r.findings}
    key = by_path[Rule.PRIVATE_KEY, "/root/.ssh/id_ed25519"]
    assert (key.layer, key.hidden_by, key.hidden) == (0, 1, Hidden.DELETED)
    assert key.secret is not None and key.secret.kind == "OPENSSH private key" and key.secret.line == 1
    server = by_path[Rule.PRIVATE_KEY, "/etc/ssl/private/server.key"]
    assert (server.layer, server.hidden_by) == (0, None) and server.secret is not None
    assert server.secret.kind == "PKCS#8 private key"
    env = by_path[Rule.ENV_FILE_SECRET, "/opt/app/.env"]
    assert (env.layer, env.hidden_by, env.hidden) == (0, 1, Hidden.SHADOWED)
    kube = by_path[Rule.KUBECONFIG_CREDENTIALS, "/opt/app/conf/kubeconfig"]
    assert (kube.layer, kube.hidden_by, kube.hidden) == (0, 2, Hidden.DELETED)  # the opaque folder
    assert [f.path for f in r.findings if f.rule is Rule.SETUID] == ["/usr/bin/helper"]
    assert any(f.rule is Rule.RUNNING_AS_ROOT for f in r.findings)
    shown = {f.path for f in r.findings}
    assert "/opt/app/cert.pem" not in shown and "/etc/ssl/certs/ca-certificates.crt" not in shown
    assert "/tmp" not in shown
    text = "".join(f.detail for f in r.findings)
    for k in ("id_ed25519", "server.key"):
        body = b"".join(keys[k].splitlines()[1:-1]).decode()
        assert body[:12] not in text and body[-12:] not in text


@pytest.mark.parametrize("archive", real_archives(), ids=lambda p: p.name)
def test_corpus_has_no_secret_findings(archive: Path) -> None:
    with open_image(archive) as (a, im):
        r = audit(load(a, im), deep=True)
    assert [f for f in r.findings if f.rule in SECRET_RULES] == []
    assert r.files_read > 0


@pytest.mark.parametrize("name", ["umoci-edge.oci.tar", "docker26-edge.save.tar"])
def test_setuid_files_equal_find_on_the_unpacked_tree(name: str, tmp_path: Path) -> None:
    archive = need_shared() / "real" / name
    transport = "oci-archive" if name.endswith(".oci.tar") else "docker-archive"
    layout = tmp_path / "layout"
    run(need_tool("skopeo"), "copy", "-q", "--dest-compress", "--dest-compress-format", "gzip",
        f"{transport}:{archive}", f"oci:{layout}:x")  # fmt: skip
    run(need_tool("umoci"), "unpack", "--image", f"{layout}:x", tmp_path / "bundle")
    found = run("find", ".", "-perm", "-4000", "-type", "f", cwd=tmp_path / "bundle/rootfs")
    expected = sorted(p[1:] for p in found.split())
    with open_image(archive) as (a, im):
        r = audit(load(a, im))
    assert sorted(f.path or "" for f in r.findings if f.rule is Rule.SETUID) == expected
    assert expected  # the corpus plants /bin/suid-prog
    shutil.rmtree(tmp_path / "bundle", ignore_errors=True)
