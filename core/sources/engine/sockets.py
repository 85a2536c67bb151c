"""Where a local engine's API listens: ``DOCKER_HOST`` / ``CONTAINER_HOST``, else the default sockets.

Docker, as the docker CLI decides: ``DOCKER_HOST`` (``unix:///path``, ``tcp://host:port``, TLS with
``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH``), else the current context (``DOCKER_CONTEXT``, else
``currentContext`` in ``$DOCKER_CONFIG/config.json``: Docker Desktop and rootless Docker set one),
else ``/var/run/docker.sock``. Podman: ``CONTAINER_HOST``, else the rootless
socket ``$XDG_RUNTIME_DIR/podman/podman.sock`` when it exists, then the rootful
``/run/podman/podman.sock``.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ...errors import LayerScopeError
from ..reference import SourceKind

DOCKER_DEFAULT_SOCKET = "/var/run/docker.sock"
PODMAN_ROOTFUL_SOCKET = "/run/podman/podman.sock"
DOCKER_ENV = "DOCKER_HOST"
PODMAN_ENV = "CONTAINER_HOST"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One engine API address: a Unix socket path, or an HTTP(S) base URL for ``tcp://``.

    ``tried`` lists the socket paths looked at (more than one for Podman's defaults), for the
    message when none answers; ``origin`` says where the address came from (for that message too).
    """

    kind: SourceKind
    url: str
    socket: str | None
    base_url: str
    origin: str
    tried: tuple[str, ...] = ()
    tls: ssl.SSLContext | None = None

    @property
    def engine(self) -> str:
        """The engine in a user's words: ``the Docker engine`` or ``the Podman service``."""
        return "the Docker engine" if self.kind is SourceKind.DOCKER_DAEMON else "the Podman service"

    @property
    def store(self) -> str:
        """Where images are kept, for "no such image in ...": the Docker engine, Podman."""
        return "the Docker engine" if self.kind is SourceKind.DOCKER_DAEMON else "Podman"

    @property
    def cli(self) -> str:
        """The engine's own command, for hints: ``docker`` or ``podman``."""
        return "docker" if self.kind is SourceKind.DOCKER_DAEMON else "podman"


def find_endpoint(kind: SourceKind, env: Mapping[str, str] | None = None) -> Endpoint:
    """Where the engine of ``kind`` (DOCKER_DAEMON or PODMAN) listens, from the environment.

    Raises LayerScopeError for an address LayerScope cannot speak to (``ssh://``, a malformed one).
    """
    e = os.environ if env is None else env
    if kind is SourceKind.DOCKER_DAEMON:
        host = e.get(DOCKER_ENV, "").strip()
        if host:
            return _from_url(kind, host, DOCKER_ENV, e)
        ctx = _docker_context(e)
        if ctx is not None:
            return ctx
        return _unix(kind, DOCKER_DEFAULT_SOCKET, "the default", (DOCKER_DEFAULT_SOCKET,))
    if kind is SourceKind.PODMAN:
        host = e.get(PODMAN_ENV, "").strip()
        if host:
            return _from_url(kind, host, PODMAN_ENV, e)
        tried = podman_default_sockets(e)
        for path in tried:
            if os.path.exists(path):
                return _unix(kind, path, "the default", tried)
        return _unix(kind, tried[0], "the default", tried)
    raise ValueError(f"{kind} is not a local engine")


def podman_default_sockets(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Podman's default API sockets in the order they are tried: rootless, then rootful."""
    e = os.environ if env is None else env
    runtime = e.get("XDG_RUNTIME_DIR", "").strip() or f"/run/user/{os.getuid()}"
    rootless = str(Path(runtime) / "podman" / "podman.sock")
    return (rootless, PODMAN_ROOTFUL_SOCKET) if rootless != PODMAN_ROOTFUL_SOCKET else (rootless,)


def _unix(kind: SourceKind, path: str, origin: str, tried: tuple[str, ...]) -> Endpoint:
    return Endpoint(kind, f"unix://{path}", path, "http://localhost", origin, tried)


def _from_url(
    kind: SourceKind, url: str, var: str, env: Mapping[str, str], tls: ssl.SSLContext | None = None
) -> Endpoint:
    """The endpoint an environment variable (or a docker context) names."""
    origin = f"from {var}"
    said = f"{var}={url}" if var in (DOCKER_ENV, PODMAN_ENV) else f"{var} ({url})"
    if url.startswith("unix://"):
        path = url[len("unix://") :]
        if not path.startswith("/"):
            raise LayerScopeError(f"{said}: a unix:// address needs an absolute socket path")
        return _unix(kind, path, origin, (path,))
    if url.startswith("/"):  # podman accepts a bare path too
        return _unix(kind, url, origin, (url,))
    parts = urlsplit(url)
    if parts.scheme in ("tcp", "http", "https") and parts.hostname:
        try:
            port = parts.port
        except ValueError as exc:
            raise LayerScopeError(f"{said}: the port is not a number") from exc
        if tls is None and kind is SourceKind.DOCKER_DAEMON and _tls_wanted(env):
            certs = Path(env.get("DOCKER_CERT_PATH", "").strip() or Path.home() / ".docker")
            tls = _tls_files(certs, "DOCKER_TLS_VERIFY is set but")
        if parts.scheme == "https" and tls is None:
            tls = ssl.create_default_context()
        scheme = "https" if tls is not None else "http"
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        default_port = 2376 if tls is not None else 2375
        base = f"{scheme}://{host}:{port or default_port}{parts.path.rstrip('/')}"
        return Endpoint(kind, url, None, base, origin, (), tls)
    if parts.scheme == "ssh":
        raise LayerScopeError(
            f"{said}: ssh:// engine addresses are not supported; forward the socket "
            f"(ssh -L /tmp/engine.sock:/path/of/remote.sock HOST) and use unix:///tmp/engine.sock"
        )
    raise LayerScopeError(f"{said}: not an engine address (unix:///path or tcp://host:port)")


def docker_config_dir(env: Mapping[str, str]) -> Path:
    """The docker CLI's configuration folder: ``$DOCKER_CONFIG``, else ``~/.docker``."""
    return Path(env.get("DOCKER_CONFIG", "").strip() or Path.home() / ".docker")


def _docker_context(env: Mapping[str, str]) -> Endpoint | None:
    """The endpoint of the docker CLI's current context; None for the default context.

    A context is stored as ``contexts/meta/<sha256 of its name>/meta.json`` in the config folder,
    its engine address in ``Endpoints.docker.Host``, TLS files (if any) in ``contexts/tls/<sha256>/docker``.
    """
    config = docker_config_dir(env)
    name = env.get("DOCKER_CONTEXT", "").strip()
    origin = "from DOCKER_CONTEXT"
    if not name:
        try:
            doc = json.loads((config / "config.json").read_bytes())
        except (OSError, ValueError):
            return None
        current = doc.get("currentContext") if isinstance(doc, dict) else None
        name = current.strip() if isinstance(current, str) else ""
        origin = f"the current context in {config / 'config.json'}"
    if not name or name == "default":
        return None
    key = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / key / "meta.json"
    try:
        doc = json.loads(meta.read_bytes())
        host = doc["Endpoints"]["docker"]["Host"]
        skip_verify = bool(doc["Endpoints"]["docker"].get("SkipTLSVerify"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LayerScopeError(
            f"Docker context {name!r} ({origin}) is not usable: no engine address in {meta}; "
            "`docker context ls` lists the contexts"
        ) from exc
    if not isinstance(host, str) or not host:
        raise LayerScopeError(f"Docker context {name!r} ({origin}) names no engine address")
    where = f"Docker context {name!r}"
    ep = _from_url(SourceKind.DOCKER_DAEMON, host, where, {})
    tls_dir = config / "contexts" / "tls" / key / "docker"
    if ep.socket is None and (tls_dir / "ca.pem").exists():
        tls = _tls_files(tls_dir, where)
        if skip_verify:
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
        ep = _from_url(SourceKind.DOCKER_DAEMON, host, where, {}, tls)
    return ep


def _tls_wanted(env: Mapping[str, str]) -> bool:
    return env.get("DOCKER_TLS_VERIFY", "") not in ("", "0")


def _tls_files(certs: Path, who: str) -> ssl.SSLContext:
    """TLS as the docker CLI sets it up: ca.pem, cert.pem, key.pem in one folder."""
    try:
        ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        ctx.load_cert_chain(str(certs / "cert.pem"), str(certs / "key.pem"))
    except (OSError, ssl.SSLError) as exc:
        raise LayerScopeError(
            f"{who}: the TLS files in {certs} (ca.pem, cert.pem, key.pem) "
            f"cannot be read: {getattr(exc, 'strerror', None) or exc}"
        ) from exc
    return ctx
