"""The registry source against a real registry (Debian's docker-registry, distribution 2.8): every
seeded image reads as the same image saved to a file; a second open downloads nothing; the
platform of a two-platform index is chosen; Basic auth (flags, config.json, auth.json, a credential
helper) and the Bearer token flow end to end; one-line errors with exit 2."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from layerscope.core import cli
from layerscope.core.cache import settings
from layerscope.core.sources.open import SourceOptions, open_source
from layerscope.core.sources.reference import parse_reference
from layerscope.core.sources.registry import client as registry_client
from layerscope.core.sources.registry.errors import AuthRequired, RegistryError
from layerscope.core.sources.registry.manifests import host_default
from layerscope.core.sources.registry.open import list_platforms
from tests.conftest import REAL
from tests.sources.registry_server import (
    MULTI,
    MULTI_PLATFORMS,
    PASSWORD,
    SEEDS,
    USER,
    Registries,
    registries,
)


@pytest.fixture
def regs() -> Registries:
    return registries()


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of the test's own, no stored credentials, the cache on."""
    cache = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    settings.set_enabled(True)
    yield cache / "layerscope"
    settings.set_enabled(True)


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0 or (argv[0] == "ci" and code == 1), err  # ci: 1 when a rule fails
    return json.loads(out)


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0].removeprefix("layerscope: ")


def _comparable_inspect(doc: dict[str, Any], keep_platform: bool = True) -> list[dict[str, Any]]:
    images = []
    for im in doc["images"]:
        im = dict(im)
        im.pop("tags")
        im.pop("manifest_digest")
        if not keep_platform:
            im.pop("platform")
        images.append(im)
    return images


def _same_as_file(
    capsys: pytest.CaptureFixture[str],
    ref: str,
    file: Path,
    *,
    drop: tuple[str, ...],
    platform: str | None = None,
) -> None:
    """inspect --json, ls --view merged --json and ci --json of ``ref`` equal those of ``file``, but
    for the layer fields ``drop`` names."""
    extra = ["--platform", platform] if platform else []
    got = _json(capsys, "inspect", "--json", *extra, ref)
    want = _json(capsys, "inspect", "--json", str(file))
    assert got["format"] == "registry"
    g, w = _comparable_inspect(got, platform is None), _comparable_inspect(want, platform is None)
    for im in (*g, *w):
        for layer in im["layers"]:
            for k in drop:
                layer.pop(k)
    assert g == w
    assert _json(capsys, "ls", "--view", "merged", "--json", *extra, ref) == _json(
        capsys, "ls", "--view", "merged", "--json", str(file)
    )
    ci_got = _json(capsys, "ci", "--json", *extra, ref)
    ci_want = _json(capsys, "ci", "--json", str(file))
    ci_got.pop("image")
    ci_want.pop("image")
    assert ci_got == ci_want


@pytest.mark.parametrize("repo_tag", sorted(SEEDS))
def test_registry_image_reads_as_the_same_image_saved_to_a_file(
    capsys: pytest.CaptureFixture[str], regs: Registries, repo_tag: str
) -> None:
    transport, file = SEEDS[repo_tag]
    # a docker-archive names no layer media types; skopeo's push gives them one
    drop = ("media_type",) if transport == "docker-archive" else ()
    _same_as_file(capsys, regs.open.ref(repo_tag), REAL / file, drop=drop)


def test_every_platform_of_an_index_reads_as_its_file(
    capsys: pytest.CaptureFixture[str], regs: Registries
) -> None:
    for platform, file in MULTI_PLATFORMS.items():
        # pushed by buildah: the same layers, perhaps stored another way
        drop = ("digest", "media_type", "compression", "size")
        _same_as_file(capsys, regs.open.ref(MULTI), REAL / file, drop=drop, platform=platform)


def test_index_platform_choice_default_and_picker(regs: Registries) -> None:
    ref = parse_reference(regs.open.ref(MULTI))
    assert list_platforms(ref, SourceOptions()) == ["linux/amd64", "linux/arm64/v8"]
    assert list_platforms(parse_reference(regs.open.ref("corpus/umoci-edge:1")), SourceOptions()) == [
        "linux/amd64"
    ]
    with open_source(ref, SourceOptions(platform="linux/arm64")) as a:
        assert [str(im.platform) for im in a.images] == ["linux/arm64/v8"]
        assert a.images[0].tags == (f"{regs.open.host}/corpus/multi:1",)
    if str(host_default()) in MULTI_PLATFORMS:
        with open_source(ref) as a:
            assert [str(im.platform) for im in a.images] == [str(host_default())]
    with pytest.raises(RegistryError) as e:
        open_source(ref, SourceOptions(platform="linux/s390x"))
    assert str(e.value) == (
        f"{ref.text}: tag '1' of corpus/multi has no image for platform linux/s390x "
        "(have: linux/amd64, linux/arm64/v8)"
    )


def test_second_open_downloads_nothing_and_blobs_count_in_the_cache(
    regs: Registries, fresh_cache: Path
) -> None:
    ref = regs.open.ref("corpus/buildah-run:1")
    before = registry_client.totals.blob_bytes
    with open_source(ref) as a:
        sizes = sum(d.size for d in a.images[0].layers)
        assert a.images[0].layers[0].blob_name is not None
    first = registry_client.totals.blob_bytes - before
    assert first >= sizes > 0
    blobs = sorted(p.name for p in fresh_cache.glob("blob-sha256-*.lsc"))
    assert len(blobs) >= 1 + 7 + 1  # manifest, config, layers
    for p in fresh_cache.glob("blob-*"):
        st = p.stat()
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert ".partial" not in p.name
    mid = registry_client.totals.blob_bytes
    with open_source(ref) as a:
        assert len(a.images[0].layers) == 7
    assert registry_client.totals.blob_bytes == mid  # nothing downloaded the second time
    # by digest, everything is in the store: not even a request
    digest = json.loads(_manifest_digest(regs, "corpus/buildah-run:1"))
    requests = registry_client.totals.requests
    with open_source(regs.open.ref(f"corpus/buildah-run@{digest}")) as a:
        assert a.images[0].manifest_digest == digest
    assert registry_client.totals.requests == requests
    # the blobs are cache entries: counted by `cache info`, evicted under the limit
    from layerscope.core.cache.folder import CacheFolder

    info = CacheFolder(fresh_cache, settings.max_size()).info()
    assert info.total_bytes >= sizes
    CacheFolder(fresh_cache, 0).evict()
    assert not list(fresh_cache.glob("blob-*"))


def _manifest_digest(regs: Registries, repo_tag: str) -> str:
    with open_source(regs.open.ref(repo_tag)) as a:
        return json.dumps(a.images[0].manifest_digest)


def test_no_cache_keeps_blobs_in_a_private_folder_removed_on_close(
    regs: Registries, fresh_cache: Path
) -> None:
    settings.set_enabled(False)
    before = registry_client.totals.blob_bytes
    with open_source(regs.open.ref("corpus/umoci-edge:1")) as a:
        folder = a.container.path
        assert folder.is_dir() and folder != fresh_cache
        assert a.images[0].layers
    assert not folder.exists()
    assert not fresh_cache.exists() or not list(fresh_cache.glob("blob-*"))
    assert registry_client.totals.blob_bytes > before


def test_unknown_tag_unreachable_and_bad_creds_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], regs: Registries
) -> None:
    ref = regs.open.ref("corpus/umoci-edge:nope")
    assert (
        _error(capsys, "inspect", ref)
        == f"{ref}: tag 'nope' of corpus/umoci-edge: not found (MANIFEST_UNKNOWN)"
    )
    from tests.sources.registry_server import free_port

    gone = f"docker://127.0.0.1:{free_port()}/corpus/x:1"
    assert _error(capsys, "ls", gone).startswith(f"{gone}: cannot reach 127.0.0.1:")
    line = _error(capsys, "inspect", "--creds", "nocolon", regs.basic.ref("corpus/umoci-edge:1"))
    assert line.endswith("--creds must be USER:PASS")


# ---- Basic auth ----------------------------------------------------------------------------------


def test_basic_auth_with_creds(capsys: pytest.CaptureFixture[str], regs: Registries) -> None:
    ref = regs.basic.ref("corpus/umoci-edge:1")
    with pytest.raises(AuthRequired) as e:
        open_source(ref)
    assert e.value.registry == regs.basic.host and not e.value.rejected
    assert "asks for credentials" in str(e.value) and str(e.value).startswith(ref)
    with pytest.raises(AuthRequired) as e:
        open_source(ref, SourceOptions(creds=f"{USER}:wrong"))
    assert e.value.rejected and "refused the credentials from --creds" in str(e.value)
    with open_source(ref, SourceOptions(creds=f"{USER}:{PASSWORD}")) as a:
        assert len(a.images[0].layers) == 8
    doc = _json(capsys, "inspect", "--json", "--creds", f"{USER}:{PASSWORD}", ref)
    assert len(doc["images"][0]["layers"]) == 8


def _auth_entry() -> dict[str, str]:
    return {"auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


def test_basic_auth_from_docker_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, regs: Registries
) -> None:
    docker = tmp_path / "docker-config"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"auths": {f"http://{regs.basic.host}": _auth_entry()}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    with open_source(regs.basic.ref("corpus/buildah-run:1")) as a:
        assert len(a.images[0].layers) == 7
    # the default place, ~/.docker/config.json
    monkeypatch.delenv("DOCKER_CONFIG")
    (Path(os.environ["HOME"]) / ".docker").mkdir()
    (Path(os.environ["HOME"]) / ".docker" / "config.json").write_text(
        json.dumps({"auths": {regs.basic.host: _auth_entry()}})
    )
    with open_source(regs.basic.ref("corpus/buildah-run:1")) as a:
        assert len(a.images[0].layers) == 7


def test_basic_auth_from_podman_auth_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, regs: Registries
) -> None:
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"auths": {f"{regs.basic.host}/corpus": _auth_entry()}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    with open_source(regs.basic.ref("corpus/umoci-edge:1")) as a:
        assert a.images[0].layers
    monkeypatch.delenv("REGISTRY_AUTH_FILE")
    runtime = tmp_path / "run"
    (runtime / "containers").mkdir(parents=True)
    (runtime / "containers" / "auth.json").write_text(json.dumps({"auths": {regs.basic.host: _auth_entry()}}))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    with open_source(regs.basic.ref("corpus/umoci-edge:1")) as a:
        assert a.images[0].layers


def test_basic_auth_from_a_credential_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, regs: Registries
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-lstest"
    asked = tmp_path / "asked"
    helper.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 1\nread server\necho "$server" > {asked}\n'
        f'echo \'{{"ServerURL": "\'$server\'", "Username": "{USER}", "Secret": "{PASSWORD}"}}\'\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    docker = tmp_path / "docker-config"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"credHelpers": {regs.basic.host: "lstest"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    with open_source(regs.basic.ref("corpus/umoci-edge:1")) as a:
        assert a.images[0].layers
    assert asked.read_text().strip() == regs.basic.host
    (docker / "config.json").write_text(json.dumps({"credsStore": "lstest", "auths": {regs.basic.host: {}}}))
    with open_source(regs.basic.ref("corpus/buildah-run:1")) as a:
        assert a.images[0].layers


# ---- token auth ----------------------------------------------------------------------------------


def test_bearer_token_flow_end_to_end(capsys: pytest.CaptureFixture[str], regs: Registries) -> None:
    ref = regs.token.ref("corpus/umoci-edge:1")
    n = len(regs.issuer.requests)
    with pytest.raises(AuthRequired) as e:  # anonymous: a token without access
        open_source(ref)
    assert "not allowed to pull" in str(e.value) and e.value.registry == regs.token.host
    assert regs.issuer.requests[n]["authorization"] is None
    assert regs.issuer.requests[n]["query"]["scope"] == ["repository:corpus/umoci-edge:pull"]
    assert regs.issuer.requests[n]["query"]["service"] == ["layerscope-test-registry"]
    with pytest.raises(AuthRequired) as e:
        open_source(ref, SourceOptions(creds=f"{USER}:wrong"))
    assert e.value.rejected and "token service" in str(e.value)
    n = len(regs.issuer.requests)
    doc = _json(capsys, "inspect", "--json", "--creds", f"{USER}:{PASSWORD}", ref)
    assert len(doc["images"][0]["layers"]) == 8
    asked = regs.issuer.requests[n:]
    assert asked and all(r["authorization"] and r["authorization"].startswith("Basic ") for r in asked)
    assert len(asked) == 1  # one token for the whole pull
