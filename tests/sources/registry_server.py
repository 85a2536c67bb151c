"""Real registries for the tests: Debian's ``docker-registry`` (distribution 2.8) on free loopback
ports, seeded with skopeo and buildah from the shared corpus.

Three registry processes read one storage folder (seeded once through the open one): open,
htpasswd Basic auth, and token auth against ``TokenIssuer``, a small token service in the test
process whose JWTs (RS256, the certificate in ``x5c``) distribution verifies against the
certificate in its ``auth.token.rootcertbundle``. Started once per test process (``registries()``),
stopped at exit. Skips (fails under CI=true) when a tool or the corpus is missing.
"""

from __future__ import annotations

import atexit
import base64
import json
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.conftest import REAL, need_shared, need_tool

USER, PASSWORD = "alice", "wonderland"
SERVICE = "layerscope-test-registry"
ISSUER = "layerscope-test-issuer"

SEEDS: dict[str, tuple[str, str]] = {
    "corpus/umoci-edge:1": ("oci-archive", "umoci-edge.oci.tar"),
    "corpus/buildah-run:1": ("docker-archive", "buildah-run.docker.tar"),
    "corpus/umoci-zstd:1": ("oci-archive", "umoci-edge.zstd.oci.tar"),
}
"""Repository:tag -> (skopeo transport, corpus file)."""
MULTI = "corpus/multi:1"
MULTI_PLATFORMS = {"linux/amd64": "umoci-edge.oci.tar", "linux/arm64/v8": "buildah-run.docker.tar"}
"""The two-platform index buildah pushes, and the file each platform's image comes from."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process serving port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@dataclass
class RegistryProcess:
    """One running docker-registry."""

    host: str
    proc: subprocess.Popen[bytes]
    log: Path

    def ref(self, repo_tag: str) -> str:
        return f"docker://{self.host}/{repo_tag}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_registry(work: Path, name: str, storage: Path, auth: str = "") -> RegistryProcess:
    """A docker-registry on a free loopback port over ``storage``, with ``auth`` (a YAML block)."""
    port = free_port()
    config = work / f"{name}.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n"
        "  maintenance:\n    uploadpurging:\n      enabled: false\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: {secrets.token_hex(16)}\n" + auth
    )
    log = work / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [need_tool("docker-registry"), "serve", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_listening(port, proc)
    except RuntimeError as exc:
        proc.kill()
        raise RuntimeError(f"{exc}: {log.read_text(errors='replace')[-2000:]}") from exc
    return RegistryProcess(f"127.0.0.1:{port}", proc, log)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenIssuer:
    """A token service: Basic USER:PASSWORD gets pull access to the scope asked for, anonymous gets
    a token with no access, a wrong password gets 401. Keeps what it was asked."""

    work: Path
    key: Path = field(init=False)
    cert_pem: Path = field(init=False)
    port: int = field(init=False)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        openssl = need_tool("openssl")
        self.key = self.work / "issuer.key"
        self.cert_pem = self.work / "issuer.pem"
        subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(self.key),
                "-out",
                str(self.cert_pem),
                "-days",
                "2",
                "-subj",
                f"/CN={ISSUER}",
            ],
            check=True,
            capture_output=True,
        )
        pem = self.cert_pem.read_text()
        body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
        self._x5c = "".join(body.split())
        self._openssl = openssl

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        sig = subprocess.run(
            [self._openssl, "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return f"{signing_input}.{_b64url(sig)}"

    def token(self, user: str, scopes: list[str]) -> str:
        now = int(time.time())
        access = []
        if user:
            for s in scopes:
                kind, _, rest = s.partition(":")
                name, _, _actions = rest.rpartition(":")
                access.append({"type": kind, "name": name, "actions": ["pull"]})
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        return self.sign(claims)

    def start(self) -> None:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                q = parse_qs(urlparse(self.path).query)
                auth = self.headers.get("Authorization")
                issuer.requests.append({"query": q, "authorization": auth})
                user = ""
                if auth is not None:
                    ok = auth == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                    if not ok:
                        self.send_response(401)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    user = USER
                body = json.dumps(
                    {"token": issuer.token(user, q.get("scope", [])), "expires_in": 300}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class Registries:
    """The three registries over one seeded storage, and the token service."""

    work: Path
    open: RegistryProcess
    basic: RegistryProcess
    token: RegistryProcess
    issuer: TokenIssuer

    def stop(self) -> None:
        for r in (self.open, self.basic, self.token):
            r.stop()
        self.issuer.stop()
        shutil.rmtree(self.work, ignore_errors=True)


_started: list[Registries] = []
_lock = threading.Lock()


def registries() -> Registries:
    """The running registries (started and seeded on the first call). Skips when a tool is missing."""
    need_shared()
    for tool in ("docker-registry", "skopeo", "buildah", "htpasswd", "openssl"):
        need_tool(tool)
    with _lock:
        if not _started:
            _started.append(_start())
            atexit.register(_started[0].stop)
    return _started[0]


def _start() -> Registries:
    work = Path(tempfile.mkdtemp(prefix="layerscope-registries-"))
    storage = work / "storage"
    storage.mkdir()
    opened = start_registry(work, "open", storage)
    try:
        _seed(work, opened.host)
        htpasswd = work / "htpasswd"
        line = subprocess.run(
            [need_tool("htpasswd"), "-Bbn", USER, PASSWORD], check=True, capture_output=True, text=True
        ).stdout.strip()
        htpasswd.write_text(line + "\n")
        basic = start_registry(
            work, "basic", storage, f"auth:\n  htpasswd:\n    realm: layerscope-test\n    path: {htpasswd}\n"
        )
        issuer = TokenIssuer(work)
        issuer.start()
        token = start_registry(
            work,
            "token",
            storage,
            "auth:\n  token:\n"
            f"    realm: {issuer.realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n"
            f"    rootcertbundle: {issuer.cert_pem}\n",
        )
    except BaseException:
        opened.stop()
        raise
    return Registries(work, opened, basic, token, issuer)


def _seed(work: Path, host: str) -> None:
    skopeo = need_tool("skopeo")
    for repo_tag, (transport, file) in SEEDS.items():
        subprocess.run(
            [
                skopeo,
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                "--preserve-digests",
                f"{transport}:{REAL / file}",
                f"docker://{host}/{repo_tag}",
            ],
            check=True,
            capture_output=True,
        )
    b = [need_tool("buildah"), "--root", str(work / "buildah"), "--runroot", str(work / "buildah-run")]
    b += ["--storage-driver", "vfs"]
    subprocess.run([*b, "manifest", "create", "multi"], check=True, capture_output=True)
    subprocess.run(
        [*b, "manifest", "add", "multi", f"oci-archive:{REAL / MULTI_PLATFORMS['linux/amd64']}"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *b,
            "manifest",
            "add",
            "--os",
            "linux",
            "--arch",
            "arm64",
            "--variant",
            "v8",
            "multi",
            f"docker-archive:{REAL / MULTI_PLATFORMS['linux/arm64/v8']}",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*b, "manifest", "push", "--all", "--tls-verify=false", "multi", f"docker://{host}/{MULTI}"],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(work / "buildah", ignore_errors=True)
