"""Hostile network input from a registry of our own (tests/sources/hostile_http.py): each case is
one line naming the reference, exit 2 from the CLI, and nothing of the bad blob is cached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from layerscope.core import cli
from layerscope.core.cache import settings
from layerscope.core.sources.open import SourceOptions, open_source
from layerscope.core.sources.reference import parse_reference
from layerscope.core.sources.registry.auth import normalize_key, parse_challenges
from layerscope.core.sources.registry.client import ClientConfig, retry_after
from layerscope.core.sources.registry.errors import AuthRequired, RegistryError
from layerscope.core.sources.registry.open import open_registry_image
from tests.sources.hostile_http import PASSWORD, USER, HostileServer

TIMEOUT = 0.5


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[HostileServer, HostileServer]]:
    storage = HostileServer(hostname="localhost")
    registry = HostileServer(storage)
    yield registry, storage
    registry.stop()
    storage.stop()


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("LAYERSCOPE_HTTP_TIMEOUT", str(TIMEOUT))
    for var in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    settings.set_enabled(True)
    return tmp_path / "cache-home" / "layerscope"


def _layer_files(cache: Path, server: HostileServer) -> list[Path]:
    hexdigest = server.image.layer_digest.split(":", 1)[1]
    return list(cache.glob(f"*{hexdigest}*")) if cache.exists() else []


CASES = {
    "mismatch": "layer 0 (sha256:",
    "bigmanifest": "tag '1' of bigmanifest/img is larger than the 4 MiB LayerScope accepts (5,242,880 bytes)",
    "endless": "tag '1' of endless/img is larger than the 4 MiB LayerScope accepts",
    "endlessblob": "bytes the manifest gives",
    "loop": "redirect loop at 127.0.0.1:",
    "slow": f"sent nothing for {TIMEOUT:g} s (timed out)",
    "auth401": "asks for credentials: give --creds USER:PASS or log in",
    "ratelimit": "is limiting requests (429 Too Many Requests); try again in 30 s",
    "schema1": "is a Docker schema 1 manifest (before Docker 1.10)",
    "unknownblob": "not found (BLOB_UNKNOWN)",
    "bigconfig": "the image config is larger than the 16 MiB LayerScope accepts (17,825,792 bytes)",
}


@pytest.mark.parametrize("scenario", sorted(CASES))
def test_hostile_registry_gives_one_line_exit_2_and_caches_nothing(
    scenario: str,
    servers: tuple[HostileServer, HostileServer],
    fresh_cache: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    registry, _storage = servers
    ref = registry.ref(scenario)
    code = cli.main(["inspect", ref])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"layerscope: {ref}: "), lines[0]
    assert CASES[scenario] in lines[0], lines[0]
    assert not _layer_files(fresh_cache, registry)


def test_digest_mismatch_message(servers: tuple[HostileServer, HostileServer]) -> None:
    registry, _ = servers
    with pytest.raises(RegistryError) as e:
        open_source(registry.ref("mismatch"))
    assert "the bytes received do not match its digest" in str(e.value)
    assert "nothing was kept" in str(e.value)


def test_slow_server_times_out_quickly(servers: tuple[HostileServer, HostileServer]) -> None:
    import time

    registry, _ = servers
    t = time.monotonic()
    with pytest.raises(RegistryError):
        open_registry_image(
            parse_reference(registry.ref("slow")), SourceOptions(), config=ClientConfig(0.3, 0.3, 1.0)
        )
    assert time.monotonic() - t < 2.5


def test_401_loop_stops_after_one_retry(servers: tuple[HostileServer, HostileServer]) -> None:
    registry, _ = servers
    before = len(registry.seen("auth401"))
    with pytest.raises(AuthRequired) as e:
        open_source(registry.ref("auth401"))
    assert e.value.registry == registry.host
    sent = registry.seen("auth401")[before:]
    assert len(sent) == 2  # anonymous, then with the token the challenge led to: then it stops
    assert "authorization" not in sent[0][2]
    assert sent[1][2].get("authorization") == "Bearer always-refused"


def test_authorization_does_not_follow_a_redirect_to_another_host(
    servers: tuple[HostileServer, HostileServer], fresh_cache: Path
) -> None:
    registry, storage = servers
    ref = registry.ref("cross")
    with pytest.raises(AuthRequired):
        open_source(ref)
    with open_source(ref, SourceOptions(creds=f"{USER}:{PASSWORD}")) as a:
        assert [d.digest for d in a.images[0].layers] == [registry.image.layer_digest]
    to_registry = [h for _m, p, h in registry.seen("cross") if "/blobs/" in p and h.get("authorization")]
    assert to_registry, "the registry got the credentials"
    to_storage = [h for _m, p, h in storage.requests if p.startswith("/blob/")]
    assert to_storage, "the blob was fetched from the storage host"
    assert all("authorization" not in h for h in to_storage)
    assert _layer_files(fresh_cache, registry)  # a good blob is kept


def test_interrupted_download_resumes_with_a_range_request(
    servers: tuple[HostileServer, HostileServer], fresh_cache: Path
) -> None:
    registry, _ = servers
    with open_source(registry.ref("resume")) as a:
        assert a.images[0].layers[0].digest == registry.image.layer_digest
    blob_requests = [h for _m, p, h in registry.seen("resume") if p.endswith(registry.image.layer_digest)]
    assert len(blob_requests) == 2
    assert "range" not in blob_requests[0]
    assert blob_requests[1]["range"] == f"bytes={len(registry.image.layer) // 2}-"
    assert [p.name for p in _layer_files(fresh_cache, registry) if ".partial" in p.name] == []


def test_good_image_opens_and_reads(servers: tuple[HostileServer, HostileServer]) -> None:
    registry, _ = servers
    with open_source(registry.ref("good")) as a:
        assert a.format == "registry"
        assert a.images[0].tags == (f"{registry.host}/good/img:1",)
        assert str(a.images[0].platform) == "linux/amd64"


def test_plain_http_only_to_loopback_or_insecure_hosts() -> None:
    # example.invalid cannot be resolved: the https attempt fails and no plain-HTTP attempt follows
    with pytest.raises(RegistryError) as e:
        open_registry_image(
            parse_reference("docker://registry.example.invalid/x/y:1"),
            SourceOptions(),
            config=ClientConfig(0.5, 0.5, 1.0),
        )
    assert str(e.value).startswith(
        "docker://registry.example.invalid/x/y:1: cannot reach registry.example.invalid"
    )


def test_small_parsers() -> None:
    ch = parse_challenges(
        ['Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"']
    )
    assert ch[0].scheme == "bearer"
    assert ch[0].params == {
        "realm": "https://auth.example/token",
        "service": "reg",
        "scope": "repository:a/b:pull",
    }
    assert parse_challenges(['Basic realm="x"'])[0].scheme == "basic"
    assert normalize_key("https://index.docker.io/v1/") == "docker.io"
    assert normalize_key("http://127.0.0.1:5000") == "127.0.0.1:5000"
    assert normalize_key("quay.io/org") == "quay.io/org"
    assert retry_after("30") == 30
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after("soon") is None


def test_a_partial_download_left_by_an_interrupted_open_is_resumed_by_the_next(fresh_cache: Path) -> None:
    registry = HostileServer()
    try:
        ref = parse_reference(registry.ref("resume"))
        with pytest.raises(RegistryError) as e:
            open_registry_image(ref, SourceOptions(), config=ClientConfig(resume_attempts=0))
        assert "broke off the connection" in str(e.value)
        partial = [p for p in _layer_files(fresh_cache, registry) if ".partial" in p.name]
        assert len(partial) == 1 and partial[0].stat().st_size == len(registry.image.layer) // 2
        with open_registry_image(ref, SourceOptions()) as a:
            assert a.images[0].layers[0].size == len(registry.image.layer)
        blob_requests = [h for _m, p, h in registry.seen("resume") if p.endswith(registry.image.layer_digest)]
        assert [h.get("range") for h in blob_requests] == [None, f"bytes={len(registry.image.layer) // 2}-"]
        assert [p.name for p in _layer_files(fresh_cache, registry)] == [
            f"blob-sha256-{registry.image.layer_digest.split(':')[1]}.lsc"
        ]
    finally:
        registry.stop()


def test_progress_is_reported_and_cancel_stops_the_download(
    servers: tuple[HostileServer, HostileServer], fresh_cache: Path
) -> None:
    from layerscope.core.errors import Cancelled

    registry, _ = servers
    ref = parse_reference(registry.ref("good"))
    with pytest.raises(Cancelled):
        open_registry_image(ref, SourceOptions(), cancelled=lambda: True)
    assert not [p for p in _layer_files(fresh_cache, registry) if ".partial" not in p.name]
    seen: list[tuple[str, int, int]] = []
    with open_registry_image(ref, SourceOptions(), progress=lambda s, d, t: seen.append((s, d, t))) as a:
        assert a.images[0].layers
    total = len(registry.image.layer) + len(registry.image.config)
    assert seen and seen[-1][1:] == (total, total)
    assert seen[0][0] == f"downloading {registry.host}/good/img:1"
    assert [d for _s, d, _t in seen] == sorted(d for _s, d, _t in seen)
