"""The audit on tiny layer stacks (tests/imagebuilder.py): each rule planted once, where the stored
bytes are and who hid them (whiteout, opaque folder, a later file, a duplicate), redaction
everywhere, the allow-list, and the command line's exit statuses."""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from layerscope.core.audit import AllowList, Finding, Hidden, Rule, Severity, audit, read_allow_file
from layerscope.core.audit.allow import load_allow_list, path_pattern
from layerscope.core.audit.patterns import placeholder, secret_name
from layerscope.core.cli import main
from layerscope.core.errors import LayerScopeError
from layerscope.core.session import LoadedImage, load
from layerscope.core.usecases.image import open_image
from tests.imagebuilder import Device, Dir, File, Image, Layer, Opaque, Whiteout, build

_R = random.Random(19)


def _token(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """Random characters made at run time: no real-looking secret is written into the repository."""
    return "".join(_R.choice(alphabet) for _ in range(n))


AWS_ID = "AKIA" + _token(16, string.ascii_uppercase + "234567")
AWS_SECRET = _token(40)
GITHUB = "ghp_" + _token(36)
GITLAB = "glpat-" + _token(20)
SLACK = f"xoxb-{_token(11, string.digits)}-{_token(12, string.digits)}-{_token(24)}"
NPM = "npm_" + _token(36)
PYPI = "pypi-AgEIcHlwaS5vcmc" + _token(80, string.ascii_letters + string.digits + "_-")
GCP = "AIza" + _token(35)
JWT = ".".join(
    base64.urlsafe_b64encode(part).rstrip(b"=").decode()
    for part in (b'{"alg":"HS256","typ":"JWT"}', b'{"sub":"1234567890","name":"x"}', _token(32).encode())
)
PASSWORD = "Pw-" + _token(17)
PEM_BODY = "\n".join(_token(64, string.ascii_letters + string.digits + "+/") for _ in range(8))
RSA_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\n"
DOCKER_AUTH = base64.b64encode(f"me:{PASSWORD}".encode()).decode()

SECRETS = [AWS_ID, AWS_SECRET, GITHUB, GITLAB, SLACK, NPM, PYPI, GCP, JWT, PASSWORD, DOCKER_AUTH, PEM_BODY]

STACK = Image(
    layers=[
        Layer(
            [
                Dir("root"),
                Dir("root/.ssh", mode=0o700),
                File("root/.ssh/id_rsa", RSA_KEY.encode(), mode=0o600),
                Dir("app"),
                Dir("app/conf"),
                File("app/conf/.env", f"PORT=8080\nDB_PASSWORD={PASSWORD}\nAPI_URL=$BASE/x\n".encode()),
                File("app/.npmrc", f"//registry.npmjs.org/:_authToken={NPM}\n".encode()),
                File("app/tokens.txt", f"gh {GITHUB}\ngl {GITLAB}\nslack {SLACK}\n".encode()),
                File(
                    "app/settings.py", f'AWS = "{AWS_ID}"\naws_secret_access_key = "{AWS_SECRET}"\n'.encode()
                ),
                File(
                    "app/notes.md",
                    f"example {'AKIAIOSFODNN7EXAMPLE'} and <token> and ghp_{'x' * 36}\n".encode(),
                ),
                Dir("app/tests"),
                File("app/tests/key.pem", RSA_KEY.encode()),  # a test folder's key: a fixture
                File("app/tests/.env", f"DB_PASSWORD={PASSWORD}\n".encode()),  # a credential file: reported
                File("app/dup.txt", f"pypi {PYPI}\n".encode()),
                File("app/dup.txt", b"clean now\n"),
                Dir("etc"),
                File("etc/app.conf", f"jwt = {JWT}\nkey = {GCP}\n".encode()),
                Dir("etc/ssl"),
                Dir("etc/ssl/certs"),
                File("etc/ssl/certs/ca-certificates.crt", f"{RSA_KEY}".encode()),  # a trust store: never read
                Dir("usr"),
                Dir("usr/lib"),
                Dir("usr/lib/python3"),
                Dir("usr/lib/python3/dist-packages"),
                Dir("usr/lib/python3/dist-packages/lib"),
                Dir("usr/lib/python3/dist-packages/lib/tests"),
                File("usr/lib/python3/dist-packages/lib/tests/key.pem", RSA_KEY.encode()),
                File("usr/lib/python3/dist-packages/lib/code.py", f"T = '{GITHUB}'\n".encode()),
                Dir("usr/lib/python3/dist-packages/lib-1.0.dist-info"),
                Dir("app/private-0.1.dist-info"),  # not in a package tree: the image's own code
                File("app/private-0.1.dist-info/METADATA", f"Token: {JWT}\n".encode()),
                File("usr/lib/python3/dist-packages/lib-1.0.dist-info/METADATA", f"Usage: {JWT}\n".encode()),
                Dir("opt"),
                Dir("opt/shared", mode=0o777),
                Dir("tmp", mode=0o1777),
                File("opt/tool", b"#!/bin/sh\n", mode=0o4755),
                File("opt/grouptool", b"#!/bin/sh\n", mode=0o2755),
                File("opt/open.log", b"log\n", mode=0o666),
                Device("opt/disk", "block", 8, 0),
                Dir("dev"),
                Device("dev/null", "char", 1, 3),
            ],
            created_by="/bin/sh -c #(nop) ADD rootfs /",
        ),
        Layer(
            [
                Dir("root"),
                Dir("root/.ssh", mode=0o700),
                Whiteout("root/.ssh/id_rsa"),
                Dir("app"),
                Opaque("app/conf"),
                File("app/conf/app.ini", b"port=8080\n"),
                File("app/.npmrc", b"registry=https://registry.npmjs.org/\n"),
                Dir("home"),
                Dir("home/dev"),
                Dir("home/dev/.docker"),
                File(
                    "home/dev/.docker/config.json",
                    json.dumps({"auths": {"r.example": {"auth": DOCKER_AUTH}}}).encode(),
                ),
            ],
            created_by=f"/bin/sh -c #(nop)  ENV DB_PASSWORD={PASSWORD} A=1",
        ),
        Layer(
            [Whiteout("home/dev")],
            created_by=f"|2 GH_TOKEN={GITHUB} VERSION=1 /bin/sh -c "
            f"curl -u deploy:{PASSWORD} https://x/ && rm -rf /home/dev",
        ),
    ],
    empty_steps=[
        (3, "/bin/sh -c #(nop)  ARG GPG_KEY=0123456789ABCDEF"),
        (4, 'curl -u "$USER:$PASS" https://x/'),
    ],
    config_extra={"Env": [f"API_TOKEN={NPM}", "PATH=/usr/bin", "GPG_KEY=ABCDEF"], "User": ""},
)


@pytest.fixture(scope="module")
def stack_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(STACK, tmp_path_factory.mktemp("audit") / "stack.tar", "docker25", compression="gzip")


@pytest.fixture(scope="module")
def loaded(stack_archive: Path) -> Iterator[LoadedImage]:
    with open_image(stack_archive) as (archive, im):
        yield load(archive, im)


def _by(findings: tuple[Finding, ...], rule: Rule, path: str | None = None) -> list[Finding]:
    return [f for f in findings if f.rule is rule and (path is None or f.path == path)]


def test_every_layers_copies_with_who_hid_them(loaded: LoadedImage) -> None:
    r = audit(loaded)
    (key,) = _by(r.findings, Rule.PRIVATE_KEY)
    assert (key.path, key.layer, key.hidden_by, key.hidden) == ("/root/.ssh/id_rsa", 0, 1, Hidden.DELETED)
    assert key.where() == "layer 0, deleted by layer 1: still shipped"
    (env,) = _by(r.findings, Rule.ENV_FILE_SECRET, "/app/conf/.env")  # the opaque folder took it away
    assert (env.path, env.layer, env.hidden_by, env.hidden) == ("/app/conf/.env", 0, 1, Hidden.DELETED)
    assert env.secret is not None and env.secret.line == 2 and env.secret.kind == "DB_PASSWORD"
    (npmrc,) = _by(r.findings, Rule.NPMRC_AUTH)  # a later file over it
    assert (npmrc.layer, npmrc.hidden_by, npmrc.hidden) == (0, 1, Hidden.SHADOWED)
    (pypi,) = _by(r.findings, Rule.PYPI_TOKEN)  # listed twice in one layer: the last copy wins
    assert (pypi.path, pypi.layer, pypi.hidden_by, pypi.hidden) == ("/app/dup.txt", 0, 0, Hidden.SHADOWED)
    (docker,) = _by(r.findings, Rule.DOCKER_AUTHS)  # its folder deleted by the next layer
    assert (docker.layer, docker.hidden_by, docker.hidden) == (1, 2, Hidden.DELETED)
    assert "auth for r.example" in docker.detail
    visible = {f.rule for f in r.findings if f.path == "/app/tokens.txt"}
    assert visible == {Rule.GITHUB_TOKEN, Rule.GITLAB_TOKEN, Rule.SLACK_TOKEN}
    assert all(f.hidden_by is None for f in r.findings if f.path == "/app/tokens.txt")
    assert {f.rule for f in r.findings if f.path == "/app/settings.py"} == {
        Rule.AWS_ACCESS_KEY,
        Rule.AWS_SECRET_KEY,
    }
    assert {f.rule for f in r.findings if f.path == "/etc/app.conf"} == {Rule.JWT, Rule.GCP_API_KEY}


def test_public_files_placeholders_and_fixtures_are_not_flagged(loaded: LoadedImage) -> None:
    r = audit(loaded)
    paths = {f.path for f in r.findings}
    assert "/etc/ssl/certs/ca-certificates.crt" not in paths
    assert "/app/notes.md" not in paths  # AWS's documented example key, <token>, ghp_xxxx…
    assert "/usr/lib/python3/dist-packages/lib/tests/key.pem" not in paths
    assert "/app/tests/key.pem" not in paths and "/app/tests/.env" in paths
    assert r.fixtures == 2
    assert "/usr/lib/python3/dist-packages/lib/code.py" not in paths  # package trees: named files only
    deep = audit(loaded, deep=True)
    assert _by(deep.findings, Rule.GITHUB_TOKEN, "/usr/lib/python3/dist-packages/lib/code.py")
    # a distribution's METADATA is its README as published on PyPI: its examples are documentation
    assert not [f for f in deep.findings if f.path and f.path.endswith("lib-1.0.dist-info/METADATA")]
    assert _by(r.findings, Rule.JWT, "/app/private-0.1.dist-info/METADATA")  # outside one it counts


def test_filesystem_rules(loaded: LoadedImage) -> None:
    r = audit(loaded)
    assert [f.path for f in _by(r.findings, Rule.SETUID)] == ["/opt/tool"]
    assert [f.path for f in _by(r.findings, Rule.SETGID)] == ["/opt/grouptool"]
    assert sorted(f.path or "" for f in _by(r.findings, Rule.WORLD_WRITABLE)) == [
        "/opt/open.log",
        "/opt/shared",
    ]
    assert [f.path for f in _by(r.findings, Rule.DEVICE_OUTSIDE_DEV)] == ["/opt/disk"]
    assert _by(r.findings, Rule.SETUID)[0].detail == "setuid, owner uid 0 (-rwsr-xr-x)"


def test_config_and_history_rules(loaded: LoadedImage) -> None:
    r = audit(loaded)
    assert len(_by(r.findings, Rule.RUNNING_AS_ROOT)) == 1
    (env,) = _by(r.findings, Rule.CONFIG_ENV_SECRET)
    assert env.secret is not None and env.secret.kind == "API_TOKEN"
    hist = _by(r.findings, Rule.HISTORY_SECRET)
    assert {(f.layer, f.secret.kind if f.secret else None) for f in hist} == {
        (1, "ENV DB_PASSWORD"),
        (2, "GitHub token"),
    }
    (arg,) = _by(r.findings, Rule.BUILD_ARG_SECRET)
    assert arg.layer == 2 and arg.secret is not None and arg.secret.kind == "build arg GH_TOKEN"
    (curl,) = _by(r.findings, Rule.CURL_USER)  # "$USER:$PASS" is a placeholder
    assert curl.layer == 2 and curl.secret is not None and curl.secret.length == len(PASSWORD)
    assert not [f for f in r.findings if f.secret and "GPG_KEY" in f.secret.kind]


def test_secrets_are_never_shown_whole(
    loaded: LoadedImage, stack_archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = audit(loaded)
    text = json.dumps(r.as_json()) + "".join(f.detail for f in r.findings)
    assert main(["audit", str(stack_archive), "--no-cache"]) == 1
    table = capsys.readouterr().out
    assert "layer 0, deleted by layer 1: still shipped" in table
    assert main(["audit", str(stack_archive), "--json", "--no-cache"]) == 1
    out = capsys.readouterr().out
    text += table
    for s in SECRETS:
        for line in s.splitlines():
            assert line not in text and line not in out
    for f in r.findings:
        if f.secret is not None:
            assert len(f.secret.prefix) <= min(4, f.secret.length // 2)
            assert f'"{f.secret.prefix}…" ({f.secret.length} characters' in f.detail
    doc = json.loads(out)
    assert set(doc["findings"][0]) == {"rule", "severity", "path", "layer", "hidden_by", "detail"}
    assert [f["severity"] for f in doc["findings"]] == sorted(
        (f["severity"] for f in doc["findings"]), key=lambda s: -Severity(s).rank
    )


def test_cli_exit_statuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = Image(
        layers=[Layer([Dir("opt"), File("opt/tool", b"x", mode=0o4755)])], config_extra={"User": "app"}
    )
    path = build(img, tmp_path / "medium.tar", "docker25")
    assert main(["audit", str(path), "--no-cache"]) == 0  # a medium finding; --fail-on high
    assert main(["audit", str(path), "--no-cache", "--fail-on", "medium"]) == 1
    assert main(["audit", str(path), "--no-cache", "--fail-on", "low", "--allow-rule", "setuid"]) == 0
    assert main(["audit", str(tmp_path / "missing.tar"), "--no-cache"]) == 2
    assert main(["audit", str(path), "--no-cache", "--allow-rule", "setuidd"]) == 2
    assert "did you mean 'setuid'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["audit", str(path), "--fail-on", "severe"])
    assert exc.value.code == 2


def test_allow_list_file(loaded: LoadedImage, tmp_path: Path) -> None:
    cfg = tmp_path / ".layerscope-audit"
    cfg.write_text(
        "# accepted\nrules:\n  - running-as-root\n"
        "paths:\n  - /app/**  # the app's own\nallow:\n  - setuid: /opt/*\n"
    )
    allow = read_allow_file(cfg)
    assert allow.rules == {Rule.RUNNING_AS_ROOT} and allow.paths == ("/app/**",)
    r = audit(loaded, allow)
    assert not [f for f in r.findings if (f.path or "").startswith("/app/")]
    assert not _by(r.findings, Rule.RUNNING_AS_ROOT) and not _by(r.findings, Rule.SETUID)
    assert _by(r.findings, Rule.SETGID) and r.allowed >= 8
    merged = load_allow_list(str(cfg), ["setgid"], ["/etc/*"])
    assert Rule.SETGID in merged.rules and "/etc/*" in merged.paths
    for bad, why in (
        ("rules:\n  - nope\n", "unknown audit rule"),
        ("rulez:\n", "not a section"),
        ("paths:\nx\n", "line 2"),
    ):
        cfg.write_text(bad)
        with pytest.raises(LayerScopeError, match=why):
            read_allow_file(cfg)


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("/opt/*", "/opt/tool", True),
        ("/opt/*", "/opt/a/tool", False),
        ("/opt/**", "/opt/a/tool", True),
        ("**/.env", "/app/conf/.env", True),
        ("**/.env", "/.env", True),
        ("etc/?.conf", "/etc/a.conf", True),
    ],
)
def test_path_globs(glob: str, path: str, hit: bool) -> None:
    assert (path_pattern(glob).fullmatch(path) is not None) is hit
    assert AllowList.of(paths=[glob]).allows(Finding(Rule.SETUID, path, 0, "")) is hit


@pytest.mark.parametrize(
    ("name", "loose", "secret"),
    [
        ("DB_PASSWORD", False, True),
        ("apiKey", False, True),
        ("GH_TOKEN", False, True),
        ("AWS_SECRET_ACCESS_KEY", False, True),
        ("GPG_KEY", False, False),
        ("STRIPE_KEY", True, True),
        ("PWD", False, False),
        ("BYPASS_CACHE", False, False),
        ("PATH", True, False),
    ],
)
def test_secret_names(name: str, loose: bool, secret: bool) -> None:
    assert secret_name(name, loose) is secret


@pytest.mark.parametrize(
    "value", ["", "$TOKEN", "${{ secrets.X }}", "<password>", "changeme", "xxxx", "'***'"]
)
def test_placeholders(value: str) -> None:
    assert placeholder(value)


def test_build_steps_are_shown_with_their_secrets_redacted(
    loaded: LoadedImage, stack_archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A step's command line is shown (timeline, History, CLI) with the secrets the audit finds in it
    redacted; the rest of the line as it is, and the audit still sees the values."""
    from layerscope.core.display import plain_command, readable_command

    shown = [readable_command(h.created_by) for h in loaded.image.history]
    assert any(PASSWORD in plain_command(h.created_by) for h in loaded.image.history)
    assert "ENV DB_PASSWORD=[secret" in shown[1] and shown[1].endswith(" A=1")
    assert "curl -u deploy:[secret" in shown[2] and "https://x/ && rm -rf /home/dev" in shown[2]
    assert 'curl -u "$USER:$PASS" https://x/' in shown  # a placeholder is not a secret
    out = ""
    for argv in (
        ["history"],
        ["history", "--json"],
        ["history", "--dockerfile"],
        ["inspect"],
        ["inspect", "--json"],
    ):
        assert main([*argv, str(stack_archive), "--no-cache"]) == 0
        out += capsys.readouterr().out
    assert "[secret" in out
    n = len(loaded.layers) - 1
    for argv in (["diff", "--layers", f"0..{n}"], ["diff", "--layers", f"0..{n}", "--json"]):
        assert main([*argv, str(stack_archive), "--no-cache"]) == 1  # they differ
        out += capsys.readouterr().out
    assert '"created_by": ' in out  # the steps the later point added, in the JSON
    for secret in (PASSWORD, GITHUB):
        assert secret not in out and all(secret not in s for s in shown)


# the key gsutil ships for anonymous requests ("This API key is not secret"), split so that this
# file does not match the pattern itself
GSUTIL_KEY = "AIza" + "SyDnacJHrKma0048b13sh8cgxNUwulubmJM"
_GSUTIL = Path("/usr/lib/google-cloud-sdk/platform/gsutil/gslib/gcs_json_api.py")


def _tool_audit(tmp_path: Path, source: bytes) -> tuple[list[str], int]:
    """The paths of the Google API keys found in a tool's file beside a file of one's own key, and
    the fixtures counted."""
    own = "AIza" + _token(35, string.ascii_letters + string.digits)
    path = build(
        Image([Layer([Dir("opt"), Dir("opt/sdk"), File("opt/sdk/gcs_json_api.py", source),
                      File("opt/sdk/mine.py", f"KEY = '{own}'\n".encode())])]),
        tmp_path / "tool.tar",
        "docker25",
    )  # fmt: skip
    with open_image(path) as (archive, im):
        r = audit(load(archive, im))
    return [f.path or "" for f in _by(r.findings, Rule.GCP_API_KEY)], r.fixtures


def test_a_key_a_tool_publishes_in_its_source_is_counted_not_reported(tmp_path: Path) -> None:
    source = f"    # This API key is not secret\n    key = '{GSUTIL_KEY}'\n".encode()
    paths, fixtures = _tool_audit(tmp_path, source)
    assert paths == ["/opt/sdk/mine.py"]  # a key of one's own is still reported
    assert fixtures == 1


@pytest.mark.skipif(not _GSUTIL.is_file(), reason=f"needs the Cloud SDK's gsutil ({_GSUTIL})")
def test_the_real_gsutil_source_is_not_reported(tmp_path: Path) -> None:
    paths, fixtures = _tool_audit(tmp_path, _GSUTIL.read_bytes())
    assert paths == ["/opt/sdk/mine.py"]
    assert fixtures >= 1


def test_documentation_examples_are_not_secrets() -> None:
    # awscli's examples: an id with EXAMPLE inside, a PEM whose body begins EXAMPLE (real files of the
    # awscli package read by --all-files)
    from layerscope.core.audit.patterns import find_secrets

    body = "EXAMPLEBAAKCAQEA" + _token(300, string.ascii_letters + string.digits + "+/")
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    ids = "X-Amz-Credential=AKIAEXAMPLE123456789%2F2021 id AKIAIOSFODNN7EXAMPLE"
    text = f"{ids}\n{pem}\n-----END RSA PRIVATE KEY-----\n"
    assert [m.rule for m in find_secrets(text.encode())] == []
    real = f"{AWS_ID}\n{RSA_KEY}"
    assert {m.rule for m in find_secrets(real.encode())} == {Rule.AWS_ACCESS_KEY, Rule.PRIVATE_KEY}
