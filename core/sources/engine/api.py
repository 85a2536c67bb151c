"""HTTP to an engine's API (httpx over its Unix socket, or TCP): version negotiation, timeouts, and
every failure turned into one sentence saying what to do.

Docker's API is spoken at the server's own version (``/_ping`` says it in ``API-Version``, else
``/version``): the endpoints used here (``/images/json``, ``/images/{name}/json``,
``/images/{name}/get``) have kept their shape since API 1.24, the oldest accepted. Podman answers the
same compat API and its own libpod API (``/v{Libpod-API-Version}/libpod/...``), used for Podman so that
names resolve as ``podman`` resolves them (``corpus/app:1`` finds ``localhost/corpus/app:1``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from ...errors import LayerScopeError
from ..reference import SourceKind
from .sockets import DOCKER_ENV, PODMAN_ENV, Endpoint

CONNECT_TIMEOUT = 5.0
"""Seconds to reach the socket: a local engine accepts at once or not at all."""
READ_TIMEOUT = 60.0
"""Seconds the engine may stay silent: a listing, or between two chunks of an export (an engine
compresses nothing for a save, but may take a while to start on a large image)."""
MIN_API = (1, 24)
"""The oldest Docker API accepted (Docker 1.12, 2016)."""
MAX_MESSAGE = 300
"""Characters of an engine's error message quoted in ours."""


class EngineError(LayerScopeError):
    """The engine refused a request or broke off an answer."""


class EngineUnavailable(EngineError):
    """The engine cannot be reached: no socket, nobody listening, permission denied, a timeout."""


class NoSuchImage(EngineError):
    """The engine holds no image by that name."""


def image_path(name: str) -> str:
    """``name`` as a path segment of ``/images/{name}/...`` (slashes kept: the API routes on them)."""
    return quote(name, safe="/:@")


class EngineClient:
    """One connection to one engine; use as a context manager. ``negotiate()`` before requests."""

    def __init__(self, endpoint: Endpoint, read_timeout: float = READ_TIMEOUT) -> None:
        self.endpoint = endpoint
        self.api_version = "1.24"
        self.libpod_version: str | None = None
        self.read_timeout = read_timeout
        transport = (
            httpx.HTTPTransport(uds=endpoint.socket, retries=0)
            if endpoint.socket is not None
            else httpx.HTTPTransport(verify=endpoint.tls or True, retries=0)
        )
        self._http = httpx.Client(
            transport=transport,
            base_url=endpoint.base_url,
            timeout=httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT),
            trust_env=False,  # no proxy, no .netrc: the socket is local
            headers={"User-Agent": "LayerScope"},
            follow_redirects=False,
        )

    def __enter__(self) -> EngineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def uses_libpod(self) -> bool:
        """Whether requests go to Podman's own API (a Podman source whose server speaks it)."""
        return self.endpoint.kind is SourceKind.PODMAN and self.libpod_version is not None

    def negotiate(self) -> None:
        """Learn the server's API version(s). Raises EngineUnavailable, EngineError."""
        check_socket(self.endpoint)
        with self._request("GET", "/_ping") as r:
            r.read()
            version = r.headers.get("API-Version")
            self.libpod_version = r.headers.get("Libpod-API-Version")
        if not version:
            info = self.get_json("/version", versioned=False)
            version = info.get("ApiVersion") if isinstance(info, dict) else None
        parsed = _version(version)
        if parsed is None:
            raise EngineError(f"{self.endpoint.engine} at {self.endpoint.url} did not say its API version")
        if parsed < MIN_API:
            raise EngineError(
                f"{self.endpoint.engine} at {self.endpoint.url} speaks API {version}; "
                f"LayerScope needs {'.'.join(map(str, MIN_API))} or newer (Docker 1.12+)"
            )
        self.api_version = str(version)

    def api_at_least(self, version: tuple[int, int]) -> bool:
        """Whether the negotiated Docker API version is ``version`` or newer."""
        v = _version(self.api_version)
        return v is not None and v >= version

    def path(self, path: str) -> str:
        """``path`` under the negotiated version prefix (libpod's for Podman)."""
        if self.uses_libpod:
            return f"/v{self.libpod_version}/libpod{path}"
        return f"/v{self.api_version}{path}"

    def get_json(
        self, path: str, params: dict[str, str] | None = None, versioned: bool = True, limit: int = 64 << 20
    ) -> Any:
        """The JSON answer to ``GET path``. Raises EngineUnavailable, EngineError (NoSuchImage on 404)."""
        with self.stream(path, params, versioned=versioned) as r:
            body = bytearray()
            for chunk in r.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise EngineError(f"{self.endpoint.engine} sent more than {limit} bytes of JSON")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise EngineError(f"{self.endpoint.engine} sent invalid JSON for {path}") from exc

    @contextlib.contextmanager
    def stream(
        self,
        path: str,
        params: dict[str, str] | None = None,
        versioned: bool = True,
        read_timeout: float | None = None,
    ) -> Iterator[httpx.Response]:
        """``GET path`` with a successful answer whose body is still to be read; ``read_timeout``
        (seconds of silence) instead of the client's.

        Raises EngineUnavailable, EngineError (NoSuchImage for a 404 about an image), also while the
        body is read."""
        silence = self.read_timeout if read_timeout is None else read_timeout
        with self._request("GET", self.path(path) if versioned else path, params, silence) as r:
            if r.status_code >= 400:
                r.read()
                raise self._status_error(r, image=path.startswith("/images/") and path != "/images/json")
            try:
                yield r
            except httpx.TimeoutException as exc:
                raise EngineUnavailable(f"{self.endpoint.engine} stopped sending for {silence:g} s") from exc
            except httpx.HTTPError as exc:
                raise EngineError(f"{self.endpoint.engine} broke off its answer ({_reason(exc)})") from exc

    @contextlib.contextmanager
    def _request(
        self, method: str, url: str, params: dict[str, str] | None = None, silence: float | None = None
    ) -> Iterator[httpx.Response]:
        wait = self.read_timeout if silence is None else silence
        try:
            timeout = httpx.Timeout(wait, connect=CONNECT_TIMEOUT)
            with self._http.stream(method, url, params=params, timeout=timeout) as r:
                yield r
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                raise EngineUnavailable(
                    f"{self.endpoint.engine} at {self.endpoint.url} did not accept the connection "
                    f"within {CONNECT_TIMEOUT:g} s"
                ) from exc
            raise EngineUnavailable(
                f"{self.endpoint.engine} at {self.endpoint.url} did not answer within {wait:g} s"
            ) from exc
        except httpx.TransportError as exc:
            raise connection_error(self.endpoint, exc) from exc

    def _status_error(self, r: httpx.Response, image: bool) -> EngineError:
        """An error answer in one line: ours for a missing image, else the engine's own, shortened."""
        text = _engine_message(r)
        if r.status_code == 404 and image:
            ep = self.endpoint
            return NoSuchImage(f"no such image in {ep.store} (`{ep.cli} images` lists them)")
        return EngineError(
            f"{self.endpoint.engine} answered {r.status_code} {r.reason_phrase}"
            + (f": {text}" if text else "")
        )


def check_socket(ep: Endpoint) -> None:
    """Raise EngineUnavailable when the socket path is missing or not a socket (before connecting)."""
    if ep.socket is None:
        return
    try:
        st = os.stat(ep.socket)
    except FileNotFoundError:
        raise _missing(ep) from None
    except PermissionError:
        raise _denied(ep) from None
    except OSError as exc:
        raise EngineUnavailable(f"cannot use {ep.socket}: {exc.strerror}") from exc
    if not stat.S_ISSOCK(st.st_mode):
        raise EngineUnavailable(f"{ep.socket} ({ep.origin}) is not a socket: it cannot be {ep.engine}'s API")


def connection_error(ep: Endpoint, exc: BaseException) -> EngineUnavailable:
    """What a failed connection means for the user, by the system error underneath."""
    err = _os_error(exc)
    code = err.errno if err is not None else None
    if code in (errno.ENOENT, errno.ENOTDIR):
        return _missing(ep)
    if code in (errno.EACCES, errno.EPERM):
        return _denied(ep)
    if code == errno.ECONNREFUSED:
        where = ep.socket or ep.url
        return EngineUnavailable(f"{ep.engine} is not running: {where} refuses connections; {_start(ep)}")
    return EngineUnavailable(f"cannot reach {ep.engine} at {ep.url}: {_reason(exc)}")


def _missing(ep: Endpoint) -> EngineUnavailable:
    what = "Docker engine socket" if ep.kind is SourceKind.DOCKER_DAEMON else "Podman API socket"
    where = " or ".join(ep.tried) if len(ep.tried) > 1 else f"{ep.socket} ({ep.origin})"
    where = f"no {what} at {where}"
    return EngineUnavailable(f"{where}: is it running? {_start(ep)}")


def _start(ep: Endpoint) -> str:
    """How to start the engine, in one clause."""
    var = DOCKER_ENV if ep.kind is SourceKind.DOCKER_DAEMON else PODMAN_ENV
    if ep.kind is SourceKind.DOCKER_DAEMON:
        return f"start it with `sudo systemctl start docker` (or run `dockerd`), or point {var} at its socket"
    sock = ep.socket or "unix:///path/podman.sock"
    return (
        f"start it with `systemctl --user start podman.socket` or `podman system service --time=0 "
        f"unix://{sock}`, or point {var} at its socket"
    )


def _denied(ep: Endpoint) -> EngineUnavailable:
    if ep.kind is SourceKind.DOCKER_DAEMON:
        return EngineUnavailable(
            f"permission denied on {ep.socket}: join the `docker` group "
            "(`sudo usermod -aG docker $USER`, then log in again) or run as root"
        )
    return EngineUnavailable(
        f"permission denied on {ep.socket}: that is another user's Podman socket; use your own "
        "(`systemctl --user start podman.socket`, or `podman system service` as yourself) or run as root"
    )


def _os_error(exc: BaseException) -> OSError | None:
    """The system error under an httpx error (httpx → httpcore → OSError), if any."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno is not None:
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


def _reason(exc: BaseException) -> str:
    err = _os_error(exc)
    if err is not None and err.strerror:
        return err.strerror
    return (str(exc) or type(exc).__name__).splitlines()[0][:MAX_MESSAGE]


def _engine_message(r: httpx.Response) -> str | None:
    """The ``message`` of an engine's JSON error (Docker and Podman both send one), on one line."""
    try:
        doc = json.loads(r.content)
    except ValueError:
        text = r.text.strip()
    else:
        text = str(doc.get("message", "")) if isinstance(doc, dict) else ""
    text = " ".join(text.split())
    return text[:MAX_MESSAGE] or None


def _version(v: object) -> tuple[int, ...] | None:
    if not isinstance(v, str):
        return None
    try:
        return tuple(int(p) for p in v.split("."))
    except ValueError:
        return None
