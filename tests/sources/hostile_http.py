"""A registry that misbehaves on purpose, for the network safety tests.

One small valid image (an OCI manifest, its config and one gzip layer) is served under many
repository names; each name is one misbehaviour (``SCENARIOS``). A second server plays blob
storage on another host (``localhost`` instead of ``127.0.0.1``, another port) and records the
headers it gets, so a test can see that Authorization did not follow a redirect there.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

USER, PASSWORD = "mallory", "s3cret"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

SCENARIOS = {
    "good": "a well-behaved registry",
    "mismatch": "layer bytes that do not match the layer's digest",
    "bigmanifest": "a manifest larger than 4 MiB (by its Content-Length)",
    "endless": "a manifest whose body never ends (no Content-Length)",
    "endlessblob": "a layer whose body goes on past its size",
    "loop": "redirects in a circle",
    "cross": "Basic auth, and blobs redirected to another host",
    "slow": "an answer that does not come within the timeout",
    "auth401": "401 for every request, whatever token is sent",
    "ratelimit": "429 Too Many Requests with Retry-After",
    "schema1": "a schema 1 manifest",
    "resume": "the first download of a layer breaks off half way; Range requests work",
    "unknownblob": "the layer is not there (BLOB_UNKNOWN)",
    "bigconfig": "a manifest whose config descriptor is over 16 MiB",
}


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer() -> tuple[bytes, bytes]:
    """A gzip layer with two files and its uncompressed tar."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in (("etc/hostile.txt", b"hostile\n"), ("srv/data.bin", bytes(range(256)) * 400)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tf.addfile(info, io.BytesIO(data))
    tar = buf.getvalue()
    return gzip.compress(tar, mtime=0), tar


class Image:
    """The one image every scenario serves (or misserves)."""

    def __init__(self) -> None:
        self.layer, tar = _layer()
        self.layer_digest = _digest(self.layer)
        self.config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [_digest(tar)]},
                "config": {"Cmd": ["/bin/sh"]},
                "history": [{"created_by": "hostile"}],
            }
        ).encode()
        self.config_digest = _digest(self.config)

    def manifest(self, config_size: int | None = None) -> bytes:
        return json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": self.config_digest,
                    "size": config_size if config_size is not None else len(self.config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": self.layer_digest,
                        "size": len(self.layer),
                    }
                ],
            }
        ).encode()


class HostileServer:
    """The misbehaving registry (or, with ``storage=True``, the blob storage host)."""

    def __init__(self, storage: HostileServer | None = None, *, hostname: str = "127.0.0.1") -> None:
        self.image = Image()
        self.storage = storage
        self.hostname = hostname
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._broken: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"{self.hostname}:{self.port}"

    def ref(self, scenario: str) -> str:
        return f"docker://{self.host}/{scenario}/img:1"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def seen(self, scenario: str) -> list[tuple[str, str, dict[str, str]]]:
        return [r for r in self.requests if r[1].startswith(f"/v2/{scenario}/")]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError, TimeoutError):
                    pass

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                server.requests.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
                server.answer(self, path)

        return Handler

    # ---- answers -------------------------------------------------------------------------------

    def answer(self, h: BaseHTTPRequestHandler, path: str) -> None:
        im = self.image
        if path.startswith("/blob/"):  # the storage host
            self.send(h, 200, im.layer)
            return
        if path == "/token":
            self.send(h, 200, json.dumps({"token": "always-refused"}).encode(), "application/json")
            return
        if path == "/v2/":
            self.send(h, 200, b"{}", "application/json")
            return
        parts = path.split("/")  # ['', 'v2', scenario, 'img', kind, ref]
        if len(parts) != 6 or parts[1] != "v2":
            self.send(h, 404, b"")
            return
        scenario, kind, ref = parts[2], parts[4], parts[5]
        getattr(self, f"_{scenario}", self._good)(h, kind, ref)

    def send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _good(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        im = self.image
        if kind == "manifests":
            self.send(h, 200, im.manifest(), OCI_MANIFEST)
        elif ref == im.config_digest:
            self.send(h, 200, im.config)
        elif ref == im.layer_digest:
            self.send(h, 200, im.layer)
        else:
            self._unknown(h)

    def _unknown(self, h: BaseHTTPRequestHandler) -> None:
        body = json.dumps({"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown to registry"}]})
        self.send(h, 404, body.encode(), "application/json")

    def _mismatch(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        if kind == "blobs" and ref == self.image.layer_digest:
            bad = bytearray(self.image.layer)
            bad[len(bad) // 2] ^= 0xFF
            self.send(h, 200, bytes(bad))
        else:
            self._good(h, kind, ref)

    def _bigmanifest(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        if kind == "manifests":
            self.send(h, 200, b" " * 65536, OCI_MANIFEST, length=5 << 20)
        else:
            self._good(h, kind, ref)

    def _endless_body(self, h: BaseHTTPRequestHandler, content_type: str) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        chunk = b" " * 65536
        for _ in range(100_000):  # 6 GB: far past any bound, and it stops when the client goes
            h.wfile.write(chunk)

    def _endless(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        if kind == "manifests":
            self._endless_body(h, OCI_MANIFEST)
        else:
            self._good(h, kind, ref)

    def _endlessblob(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        if kind == "blobs" and ref == self.image.layer_digest:
            self._endless_body(h, "application/octet-stream")
        else:
            self._good(h, kind, ref)

    def _loop(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        target = f"/v2/loop/img/{kind}/{'1' if ref != '1' else 'one'}"
        self.send(h, 302, b"", headers={"Location": target})

    def _cross(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        if h.headers.get("Authorization") != BASIC:
            self.send(h, 401, b"", headers={"WWW-Authenticate": 'Basic realm="hostile"'})
        elif kind == "blobs" and ref == self.image.layer_digest and self.storage is not None:
            self.send(h, 307, b"", headers={"Location": f"http://{self.storage.host}/blob/{ref}"})
        else:
            self._good(h, kind, ref)

    def _slow(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        time.sleep(3)
        self._good(h, kind, ref)

    def _auth401(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        challenge = (
            f'Bearer realm="http://{self.host}/token",service="hostile",scope="repository:auth401/img:pull"'
        )
        self.send(h, 401, b"", headers={"WWW-Authenticate": challenge})

    def _ratelimit(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]}).encode()
        self.send(h, 429, body, "application/json", headers={"Retry-After": "30"})

    def _schema1(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        doc = {"schemaVersion": 1, "name": "schema1/img", "tag": "1", "fsLayers": [], "history": []}
        self.send(
            h, 200, json.dumps(doc).encode(), "application/vnd.docker.distribution.manifest.v1+prettyjws"
        )

    def _resume(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        layer = self.image.layer
        if kind != "blobs" or ref != self.image.layer_digest:
            self._good(h, kind, ref)
            return
        rng = h.headers.get("Range")
        if rng is None and ref not in self._broken:
            self._broken.add(ref)
            h.send_response(200)
            h.send_header("Content-Length", str(len(layer)))
            h.end_headers()
            h.wfile.write(layer[: len(layer) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        if rng is not None:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            headers = {"Content-Range": f"bytes {start}-{len(layer) - 1}/{len(layer)}"}
            self.send(h, 206, layer[start:], headers=headers)
            return
        self.send(h, 200, layer)

    def _unknownblob(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        if kind == "blobs" and ref == self.image.layer_digest:
            self._unknown(h)
        else:
            self._good(h, kind, ref)

    def _bigconfig(self, h: BaseHTTPRequestHandler, kind: str, ref: str) -> None:
        if kind == "manifests":
            self.send(h, 200, self.image.manifest(config_size=17 << 20), OCI_MANIFEST)
        else:
            self._good(h, kind, ref)
